"""The SSE stream: every engine event, to every subscriber, each with its own bounded queue.

Events carry ids, so a reconnecting EventSource (``Last-Event-ID``) gets what it missed
while the server still holds it. A subscriber that stops reading is dropped when its
queue fills or a write stalls; it never holds up the engine or the other subscribers.
"""

from __future__ import annotations

import asyncio
import json
import time

from tornado.iostream import StreamClosedError

from ..engine.bus import BusEvent, SubscriptionClosed
from .base import BaseHandler
from .openapi_ops import Operation

WRITE_STALL_SECONDS = 10.0


def frame(event_type: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event_type}\ndata: {json.dumps(data)}\n\n"


class StreamHandler(BaseHandler):
    OPENAPI = {
        "get": Operation(
            "Real-time event stream (Server-Sent Events)",
            None,
            media_type="text/event-stream",
            description="Events: connected, position (every step), status, tracks, client_metadata_updated, "
            "client_connected, client_disconnected, change_applied, error, heartbeat (every 15 s). "
            "Optional ?types=position,status filters; Last-Event-ID (header or ?last_event_id=) replays "
            "what was missed.",
        )
    }

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        self.set_header("X-Content-Type-Options", "nosniff")

    async def get(self) -> None:
        bus = self.engine.bus
        types = self.get_query_argument("types", None)
        wanted = {t.strip() for t in types.split(",") if t.strip()} if types else None
        self.sub = bus.subscribe(maxsize=self.ctx.sse_queue, types=wanted)
        last_id = self._last_event_id()
        try:
            self.write("retry: 2000\n\n")
            self.write(frame("connected", {"timestamp": time.time()}))
            replayed = 0
            if last_id is not None:
                missed = bus.since(last_id)
                if missed is None:
                    self.write(frame("error", {"message": "Some missed events are no longer kept", "details": f"since id {last_id}"}))
                else:
                    for event in missed:
                        replayed = event.id
                        self._write_event(event, wanted)
            status = self.engine.status()
            self.write(frame("status", {k: status[k] for k in ("playing", "playback_state", "bpm", "current_scene")}))
            self.write(frame("tracks", {"active_tracks": status["active_tracks"]}))
            await self._flush()
            await self._pump(replayed, wanted)
        except (StreamClosedError, asyncio.TimeoutError):
            pass
        finally:
            self.sub.close()

    async def _pump(self, replayed: int, wanted: set[str] | None) -> None:
        heartbeat = self.ctx.sse_heartbeat
        next_beat = time.monotonic() + heartbeat
        while True:
            try:
                event = await asyncio.wait_for(self.sub.get(), max(0.0, next_beat - time.monotonic()))
            except asyncio.TimeoutError:
                self.write(frame("heartbeat", {"timestamp": time.time()}))
                next_beat = time.monotonic() + heartbeat
                await self._flush()
                continue
            except SubscriptionClosed:
                return  # fell too far behind, or the client left
            if event.id > replayed:
                self._write_event(event, wanted)
            if self.sub.pending() == 0:  # write what has piled up in one go
                await self._flush()

    def _write_event(self, event: BusEvent, wanted: set[str] | None) -> None:
        if wanted is None or event.type in wanted:
            self.write(frame(event.type, event.data, event.id))

    async def _flush(self) -> None:
        await asyncio.wait_for(self.flush(), WRITE_STALL_SECONDS)

    def _last_event_id(self) -> int | None:
        raw = self.request.headers.get("Last-Event-ID") or self.get_query_argument("last_event_id", None)
        try:
            return int(raw) if raw is not None else None
        except ValueError:
            return None

    def on_connection_close(self) -> None:
        sub = getattr(self, "sub", None)
        if sub is not None:
            sub.close()


ROUTES = [(r"/stream", StreamHandler)]
