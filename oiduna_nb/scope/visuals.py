"""The visuals as one object: connect, load a pipeline, keep the session alive, and hand the
frames and the server's messages to whoever shows them.

The watchdog: a crashed pipeline sends nothing, so frames stopping (or the connection
failing) means reconnect, with backoff, keeping the prompts. A server that restarted has
nothing loaded, so the pipeline is loaded again first. A pause is not a crash: the real
server sends no frames to a session that starts paused, so frames are not watched while
the visuals are paused."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

from .client import ScopeClient
from .params import Parameters
from .sender import BEAT_KEYS
from .session import ScopeSession

log = logging.getLogger("oiduna_nb.scope")
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
TEMPO_CHECK = 5.0  # seconds between looks at whether the server's tempo sync is on


class Visuals:
    def __init__(
        self,
        url: str,
        pipeline_ids: list[str] | None = None,
        frame_timeout: float = 3.0,
        max_rate: float = 30.0,
        size: tuple[int, int] = (512, 512),
        report: Callable[[str], Any] | None = None,
        token: str | None = None,
    ) -> None:
        self.client = ScopeClient(url, token=token)
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
        self.reloads = 0
        self._load_params: dict[str, Any] = {}
        self._resumed_at = 0.0
        self._watchdog: asyncio.Task | None = None
        self._closing = False

    # ---- the pipeline ---------------------------------------------------------------------------

    async def load(self, pipeline_ids: list[str] | None = None, on_progress: Any = None, timeout: float = 600, **load_params: Any) -> dict:
        if pipeline_ids:
            self.pipeline_ids = list(pipeline_ids)
        self._load_params = {"width": self.size[0], "height": self.size[1]} | load_params
        self.status = "loading"
        try:
            await self.client.load_pipeline(self.pipeline_ids, **self._load_params)
            status = await self.client.wait_loaded(timeout=timeout, on_progress=on_progress)
        except Exception:
            self.status = "load failed"
            raise
        self.status = "loaded"
        return status

    async def _ensure_loaded(self) -> None:
        """After a server restart nothing is loaded: load what was loaded before."""
        status = await self.client.pipeline_status()
        if status.get("status") == "loaded":
            return
        if status.get("status") == "loading":
            await self.client.wait_loaded()
            return
        self.report(f"Scope has no pipeline loaded (did it restart?): loading {', '.join(self.pipeline_ids)} again")
        self.reloads += 1
        await self.load(**{k: v for k, v in self._load_params.items()})

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
            if key != "transition" and key not in BEAT_KEYS:  # beat state is never an initial parameter
                self.state[key] = value
        if checked.get("paused") is False:
            self._resumed_at = time.monotonic()  # frames are watched again from now
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

    def _alive(self, session: ScopeSession, now: float) -> bool:
        if session.connection_lost:
            return False
        if self.state.get("paused"):
            return True  # a paused session may send no frames at all
        seen = max(session.last_frame_at or session.connected_at, self._resumed_at)
        return now - seen <= self.frame_timeout

    async def _watch(self) -> None:
        """Frames stopping or the connection failing means reconnect, with backoff."""
        attempt = 0
        tempo_checked = time.monotonic()
        while not self._closing:
            await asyncio.sleep(0.5)
            session = self.session
            if session is None:
                continue
            now = time.monotonic()
            if self._alive(session, now):
                if session.last_frame_at is not None:
                    attempt = 0
                if now - tempo_checked >= TEMPO_CHECK:
                    tempo_checked = now
                    await session.refresh_tempo()
                continue
            delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            why = "the connection failed" if session.connection_lost else "Scope sends no frames"
            self.status = f"{why}: reconnecting in {delay:g} s"
            self.report(f"{why}; reconnecting in {delay:g} s (attempt {attempt + 1})")
            await asyncio.sleep(delay)
            attempt += 1
            try:
                await session.close()
            except Exception:
                pass
            try:
                await self.client.health()
                await self._ensure_loaded()
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
