"""The SSE stream: every engine event, to every subscriber, at the cost of one encoding.

The bus hands each batch of events to the server's loop once; each subscriber then writes
the events' shared, already-encoded frames to its socket. A subscriber whose socket falls
behind keeps only the latest ``position`` (every other event waits, in order); one that
falls too far behind, or whose socket takes nothing for ``WRITE_STALL_SECONDS``, is closed
and can reconnect and replay what it missed (``Last-Event-ID``). Nobody waits for anybody.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from ..engine.bus import BusEvent, coalesce_positions
from .base import ApiError, BaseHandler
from .openapi_ops import Operation

WRITE_STALL_SECONDS = 10.0


def frame(event_type: str, data: dict, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event_type}\ndata: {json.dumps(data)}\n\n".encode()


class SseListener:
    """One subscriber's socket, fed on the server's loop."""

    def __init__(self, handler: "StreamHandler", types: frozenset[str] | None, backlog_limit: int) -> None:
        self.handler = handler
        self.types = types
        self.backlog_limit = backlog_limit
        self.last_id = 0  # the newest event written (replay and live never overlap)
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._backlog: list[BusEvent] = []
        self._inflight: Any = None
        self._inflight_since = 0.0
        self._beat: Any = None

    def deliver(self, events: list[BusEvent]) -> None:
        if self.finished.done():
            return
        events = [e for e in events if e.id > self.last_id]
        if not events:
            return
        if self._inflight is not None:  # the socket has not taken the last write yet
            self._backlog = coalesce_positions(self._backlog + events)
            if len(self._backlog) > self.backlog_limit:
                self.end()  # too far behind: reconnect and replay
            return
        self._write(events)

    def write_now(self, frames: list[bytes], last_id: int = 0) -> None:
        for data in frames:
            self.handler.write(data)
        self.last_id = max(self.last_id, last_id)
        self._flush()

    def _write(self, events: list[BusEvent]) -> None:
        for event in events:
            self.handler.write(event.frame)
        self.last_id = events[-1].id
        self._flush()

    def _flush(self) -> None:
        try:
            self._inflight = self.handler.flush()
        except Exception:  # the connection is gone
            self.end()
            return
        self._inflight_since = time.monotonic()
        self._inflight.add_done_callback(self._drained)

    def _drained(self, future: Any) -> None:
        self._inflight = None
        if future.cancelled() or future.exception() is not None:
            self.end()
            return
        if self._backlog and not self.finished.done():
            events, self._backlog = self._backlog, []
            self._write(events)

    def heartbeat(self, every: float) -> None:
        """Every ``every`` seconds: a heartbeat when idle; the end when the socket is stuck."""
        if self.finished.done():
            return
        if self._inflight is not None:
            if time.monotonic() - self._inflight_since > WRITE_STALL_SECONDS:
                self.end()
                return
        else:
            self.write_now([frame("heartbeat", {"timestamp": time.time()})])
        self._beat = asyncio.get_running_loop().call_later(every, self.heartbeat, every)

    def end(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
        if not self.finished.done():
            self.finished.set_result(None)


class StreamHandler(BaseHandler):
    OPENAPI = {
        "get": Operation(
            "Real-time event stream (Server-Sent Events)",
            None,
            media_type="text/event-stream",
            errors=(503,),
            description="Events: connected, position (every step), status, tracks, client_metadata_updated, "
            "client_connected, client_disconnected, change_queued, change_applied, scene_activated, error, "
            "heartbeat (every 15 s). Optional ?types=position,status filters; Last-Event-ID (header or "
            "?last_event_id=) replays what was missed. A subscriber that falls behind gets the latest "
            "position instead of a backlog.",
        )
    }

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        self.set_header("X-Content-Type-Options", "nosniff")

    async def get(self) -> None:
        listeners = self.ctx.sse_listeners
        if len(listeners) >= self.ctx.max_sse_subscribers:
            raise ApiError(503, f"Too many SSE subscribers (limit {self.ctx.max_sse_subscribers}); try again later")
        bus = self.engine.bus
        types = self.get_query_argument("types", None)
        wanted = frozenset(t.strip() for t in types.split(",") if t.strip()) if types else None
        self.listener = listener = SseListener(self, wanted, self.ctx.sse_queue)
        # Listen first, then replay: an event published in between is written once, not lost.
        bus.add(listener, asyncio.get_running_loop())
        listeners.add(listener)
        try:
            opening = [b"retry: 2000\n\n", frame("connected", {"timestamp": time.time()})]
            last_id = self._last_event_id()
            replayed = 0
            if last_id is not None:
                missed = bus.since(last_id)
                if missed is None:
                    opening.append(frame("error", {"message": "Some missed events are no longer kept",
                                                   "details": f"since id {last_id}"}))
                else:
                    wanted_missed = [e for e in missed if wanted is None or e.type in wanted]
                    opening += [e.frame for e in wanted_missed]
                    replayed = missed[-1].id if missed else 0
            status = self.engine.status()
            opening.append(frame("status", {k: status[k] for k in ("playing", "playback_state", "bpm", "current_scene")}))
            opening.append(frame("tracks", {"active_tracks": status["active_tracks"]}))
            listener.write_now(opening, replayed)
            every = self.ctx.sse_heartbeat
            listener._beat = asyncio.get_running_loop().call_later(every, listener.heartbeat, every)
            await listener.finished
        finally:
            listener.end()
            bus.remove(listener)
            listeners.discard(listener)

    def _last_event_id(self) -> int | None:
        raw = self.request.headers.get("Last-Event-ID") or self.get_query_argument("last_event_id", None)
        try:
            return int(raw) if raw is not None else None
        except ValueError:
            return None

    def on_connection_close(self) -> None:
        super().on_connection_close()
        listener = getattr(self, "listener", None)
        if listener is not None:
            listener.end()


ROUTES = [(r"/stream", StreamHandler)]
