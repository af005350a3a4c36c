"""The visuals as one object: connect, load a pipeline, keep the session alive (a watchdog
notices frames stopping and reconnects with backoff, keeping the prompts), and hand the
frames and the server's messages to whoever shows them."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

from .client import ScopeClient
from .params import Parameters
from .session import ScopeSession

log = logging.getLogger("oiduna_nb.scope")
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


class Visuals:
    def __init__(
        self,
        url: str,
        pipeline_ids: list[str] | None = None,
        frame_timeout: float = 3.0,
        max_rate: float = 30.0,
        size: tuple[int, int] = (512, 512),
        report: Callable[[str], Any] | None = None,
    ) -> None:
        self.client = ScopeClient(url)
        self.pipeline_ids = pipeline_ids or ["passthrough"]
        self.frame_timeout = frame_timeout
        self.max_rate = max_rate
        self.size = size
        self.report = report or (lambda message: log.warning(message))
        self.session: ScopeSession | None = None
        self.state: dict[str, Any] = {}  # what the visuals should be, kept across reconnects
        self.status = "disconnected"
        self.reconnects = 0
        self.frame_listeners: list[Callable[[Any], Any]] = []
        self.message_listeners: list[Callable[[dict[str, Any]], Any]] = []
        self._watchdog: asyncio.Task | None = None
        self._closing = False

    # ---- the pipeline ---------------------------------------------------------------------------

    async def load(self, pipeline_ids: list[str] | None = None, on_progress: Any = None, timeout: float = 600, **load_params: Any) -> dict:
        if pipeline_ids:
            self.pipeline_ids = list(pipeline_ids)
        self.status = "loading"
        try:
            await self.client.load_pipeline(self.pipeline_ids, **({"width": self.size[0], "height": self.size[1]} | load_params))
            status = await self.client.wait_loaded(timeout=timeout, on_progress=on_progress)
        except Exception:
            self.status = "load failed"
            raise
        self.status = "loaded"
        return status

    # ---- the session ------------------------------------------------------------------------------

    async def connect(self) -> None:
        await self.client.health()
        await self._open_session()
        if self._watchdog is None:
            self._watchdog = asyncio.ensure_future(self._watch())

    async def _open_session(self) -> None:
        session = ScopeSession(
            self.client, self.pipeline_ids, initial=dict(self.state), on_frame=self._frame,
            on_message=self._message, max_rate=self.max_rate, size=self.size,
        )
        await session.connect()
        self.session = session
        self.status = "connected"

    def update(self, **changes: Any) -> None:
        """Change the visuals (prompts, transition, noise_scale, paused, ...): checked, kept
        for reconnects, and sent coalesced."""
        checked = Parameters(**changes).changes()
        for key, value in checked.items():
            if key != "transition":
                self.state[key] = value
        if "transition" in checked:
            self.state["prompts"] = checked["transition"]["target_prompts"]
        if self.session is not None:
            self.session.update(**checked)

    def _frame(self, frame: Any) -> None:
        for listener in list(self.frame_listeners):
            try:
                listener(frame)
            except Exception as exc:  # a view's failure is reported, never fatal
                self.report(f"a frame listener failed: {exc!r}")

    def _message(self, message: dict[str, Any]) -> None:
        if message.get("type") == "stream_stopped":
            self.status = "stream stopped"
        for listener in list(self.message_listeners):
            listener(message)

    async def _watch(self) -> None:
        """Frames stopping (a crashed pipeline sends nothing) means reconnect, with backoff."""
        attempt = 0
        while not self._closing:
            await asyncio.sleep(0.5)
            session = self.session
            if session is None:
                continue
            seen = session.last_frame_at or session.connected_at
            if time.monotonic() - seen <= self.frame_timeout:
                if session.last_frame_at is not None:
                    attempt = 0
                continue
            delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            self.status = f"no frames: reconnecting in {delay:g} s"
            self.report(f"Scope sends no frames; reconnecting in {delay:g} s (attempt {attempt + 1})")
            await asyncio.sleep(delay)
            attempt += 1
            try:
                await session.close()
            except Exception:
                pass
            try:
                await self._open_session()
                self.reconnects += 1
            except Exception as exc:
                self.status = "reconnect failed"
                self.report(f"Scope reconnect failed: {exc}")

    async def close(self) -> None:
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self.session is not None:
            await self.session.close()
            self.session = None
        await self.client.close()
        self.status = "disconnected"
