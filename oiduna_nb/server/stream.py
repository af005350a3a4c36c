"""The SSE stream: every engine event, to every subscriber, at the cost of one encoding.

One ``SseBroadcaster`` per server is the bus's only listener for SSE. It gathers the events
of up to 20 ms into one batch (a position is sent at once, and under load as the next
request starts: ``catch_up``), frames the batch once per event-type filter, and
writes those same bytes to every subscriber's socket (each SSE connection is detached from
tornado's HTTP machinery after its handshake, so a write is a plain stream write). A
subscriber whose socket falls behind keeps only the latest ``position`` (every other event
waits, in order); one that falls too far behind, or whose socket takes nothing for
``WRITE_STALL_SECONDS``, is closed and can reconnect and replay what it missed
(``Last-Event-ID``). Nobody waits for anybody, and the metronome never sees a subscriber.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from tornado.iostream import IOStream, StreamClosedError

from ..engine.bus import BusEvent, EventBus, coalesce_positions
from .base import ApiError, BaseHandler, cors_headers
from .openapi_ops import Operation
from .sending import send_holding_gil

log = logging.getLogger("oiduna_nb.server")
WRITE_STALL_SECONDS = 10.0
# Events this close together share one write per subscriber: a write per event per subscriber
# is what made fan-out the server's main cost. A position goes out at once (its lag is what
# a display follows), taking whatever waits with it.
BATCH_SECONDS = 0.02


def chunk(data: bytes) -> bytes:
    """One piece of a chunked HTTP/1.1 body (the stream stays a keep-alive response, which
    every SSE client reads, and its end is said with an empty chunk)."""
    return b"%x\r\n%b\r\n" % (len(data), data)


def frame(event_type: str, data: dict, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event_type}\ndata: {json.dumps(data)}\n\n".encode()


class SseSubscriber:
    """One subscriber's detached stream."""

    def __init__(self, broadcaster: "SseBroadcaster", stream: IOStream, types: frozenset[str] | None) -> None:
        self.broadcaster = broadcaster
        self.stream = stream
        self.types = types
        self.last_id = 0  # the newest event written (replay and live never overlap)
        self.closed = False
        self._backlog: list[BusEvent] = []
        self._writing_since: float | None = None

    def wants(self, event: BusEvent) -> bool:
        return self.types is None or event.type in self.types

    def send(self, events: list[BusEvent], data: bytes) -> None:
        """``events`` (already filtered for this subscriber) framed as ``data``."""
        if self.closed:
            return
        if events and events[0].id <= self.last_id:  # it joined during this batch
            events = [e for e in events if e.id > self.last_id]
            data = chunk(b"".join(e.frame for e in events))
        if not events:
            return
        if self._writing_since is not None:  # the socket has not taken the last write yet
            self._backlog = coalesce_positions(self._backlog + events)
            if len(self._backlog) > self.broadcaster.backlog_limit:
                self.close()  # too far behind: reconnect and replay
            return
        self.last_id = events[-1].id
        self.write(data)

    def write(self, data: bytes) -> None:
        if not self.stream.writing() and not self.stream.closed():
            # Nothing waits in the stream's buffer: hand the shared bytes straight to the socket
            # (with thousands of subscribers, the stream's own buffering was the main cost).
            try:
                sent = send_holding_gil(self.stream.socket, data)
            except BlockingIOError:
                sent = 0
            except OSError:
                self.close()
                return
            if sent == len(data):
                return
            data = data[sent:]
        try:
            future = self.stream.write(data)
        except StreamClosedError:
            self.close()
            return
        if self.stream.writing():  # not all of it went out at once: wait for the socket
            self._writing_since = time.monotonic()
            future.add_done_callback(self._drained)

    def _drained(self, future: Any) -> None:
        self._writing_since = None
        if future.cancelled() or future.exception() is not None:
            self.close()
            return
        if self._backlog and not self.closed:
            events, self._backlog = self._backlog, []
            self.last_id = events[-1].id
            self.write(chunk(b"".join(e.frame for e in events)))

    def heartbeat(self) -> None:
        if self._writing_since is not None:
            if time.monotonic() - self._writing_since > WRITE_STALL_SECONDS:
                self.close()
        else:
            self.write(chunk(frame("heartbeat", {"timestamp": time.time()})))

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.broadcaster.subscribers.discard(self)
        if not self.stream.closed() and not self.stream.writing():
            self.stream.write(b"0\r\n\r\n")  # the end of the body, where the socket still takes it
        self.stream.close()


class SseBroadcaster:
    """Every SSE subscriber of one server, fed by one bus listener on the server's loop."""

    types = None

    def __init__(self, bus: EventBus, max_subscribers: int, backlog_limit: int, heartbeat: float) -> None:
        self.bus = bus
        self.max_subscribers = max_subscribers
        self.backlog_limit = backlog_limit
        self.heartbeat_every = heartbeat
        self.subscribers: set[SseSubscriber] = set()
        self._pending: list[BusEvent] = []
        self._timer: Any = None
        self._beat: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start listening (on the server's loop, once, at the first subscriber)."""
        if self._loop is None:
            self._loop = loop
            self.bus.add(self, loop)
            self._beat = loop.call_later(self.heartbeat_every, self._heartbeat)

    def deliver(self, events: list[BusEvent]) -> None:  # on the server's loop
        if not self.subscribers:
            return
        self._pending.extend(events)
        if self._loop is None:
            return
        if any(e.type == "position" for e in events):
            # At once, not at the loop's next turn: under load a turn is dozens of requests.
            if self._timer is not None:
                self._timer.cancel()
            self._flush()
        elif self._timer is None:
            self._timer = self._loop.call_later(BATCH_SECONDS, self._flush)

    def catch_up(self) -> None:
        """Between two requests on the server's loop: send a position that is waiting."""
        if self._loop is None:
            return
        try:
            self.bus.deliver_urgent(self._loop)
        except Exception:  # a subscriber's trouble is never the request's
            log.exception("sending a position to the SSE subscribers")

    def _flush(self) -> None:
        self._timer = None
        events, self._pending = self._pending, []
        framed: dict[frozenset[str] | None, tuple[list[BusEvent], bytes]] = {}
        for sub in list(self.subscribers):
            shared = framed.get(sub.types)
            if shared is None:
                chosen = [e for e in events if sub.wants(e)]
                shared = framed[sub.types] = (chosen, chunk(b"".join(e.frame for e in chosen)) if chosen else b"")
            sub.send(*shared)

    def _heartbeat(self) -> None:
        for sub in list(self.subscribers):
            sub.heartbeat()
        assert self._loop is not None
        self._beat = self._loop.call_later(self.heartbeat_every, self._heartbeat)

    def close(self) -> None:
        for sub in list(self.subscribers):
            sub.close()
        for handle in (self._timer, self._beat):
            if handle is not None:
                handle.cancel()
        if self._loop is not None:
            self.bus.remove(self)
            self._loop = None


class StreamHandler(BaseHandler):
    OPENAPI = {
        "get": Operation(
            "Real-time event stream (Server-Sent Events)",
            None,
            media_type="text/event-stream",
            errors=(503,),
            description="Events: connected, position (every step), status, tracks, client_metadata_updated, "
            "client_connected, client_disconnected, change_queued, change_applied, scene_activated, link "
            "(Ableton Link: on or off, peers, tempo), error, "
            "heartbeat (every 15 s). Optional ?types=position,status filters; Last-Event-ID (header or "
            "?last_event_id=) replays what was missed. A subscriber that falls behind gets the latest "
            "position instead of a backlog. At most OIDUNA_MAX_SUBSCRIBERS at once (503 beyond).",
        )
    }

    def head_lines(self) -> list[str]:
        lines = [
            "HTTP/1.1 200 OK",
            "Content-Type: text/event-stream; charset=utf-8",
            "Cache-Control: no-cache",
            "X-Accel-Buffering: no",
            "X-Content-Type-Options: nosniff",
            "Transfer-Encoding: chunked",
        ]
        lines += [f"{name}: {value}" for name, value in
                  cors_headers(self.ctx.policy, self.request.headers.get("Origin")).items()]
        return lines

    def get(self) -> None:
        broadcaster: SseBroadcaster = self.ctx.sse
        if len(broadcaster.subscribers) >= broadcaster.max_subscribers:
            raise ApiError(503, f"Too many SSE subscribers (limit {broadcaster.max_subscribers}); try again later")
        types = self.get_query_argument("types", None)
        wanted = frozenset(t.strip() for t in types.split(",") if t.strip()) if types else None
        last_id = self._last_event_id()
        head = "\r\n".join(self.head_lines()).encode() + b"\r\n\r\n"
        stream = self.detach()
        broadcaster.attach(asyncio.get_event_loop())
        sub = SseSubscriber(broadcaster, stream, wanted)
        # Listen first, then replay: an event published in between is written once, not lost.
        broadcaster.subscribers.add(sub)
        opening = [b"retry: 2000\n\n", frame("connected", {"timestamp": time.time()})]
        if last_id is not None:
            missed = self.engine.bus.since(last_id)
            if missed is None:
                opening.append(frame("error", {"message": "Some missed events are no longer kept",
                                               "details": f"since id {last_id}"}))
            else:
                opening += [e.frame for e in missed if sub.wants(e)]
                sub.last_id = missed[-1].id if missed else last_id
        status = self.engine.status()
        opening.append(frame("status", {k: status[k] for k in ("playing", "playback_state", "bpm", "current_scene")}))
        opening.append(frame("tracks", {"active_tracks": status["active_tracks"]}))
        stream.set_close_callback(sub.close)  # a client that leaves is noticed at once
        sub.write(head + chunk(b"".join(opening)))

    def _last_event_id(self) -> int | None:
        raw = self.request.headers.get("Last-Event-ID") or self.get_query_argument("last_event_id", None)
        try:
            return int(raw) if raw is not None else None
        except ValueError:
            return None


ROUTES = [(r"/stream", StreamHandler)]
