"""Engine events to whoever listens, each listener on its own asyncio loop.

``publish`` may be called from any thread (the metronome publishes positions) and costs the
same however many listen: the event joins one queue per *loop* that has listeners, and
that loop is woken once for the whole batch. The loop then hands the batch to its
listeners, so no per-listener work ever happens on the publishing thread.

A listener that falls behind keeps only the latest ``position`` (the rest of its backlog is
kept in order); one that falls further behind than ``maxsize`` events of other types is
closed and can replay what it missed with ``since``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import time
from typing import Any, Callable, Iterable, Protocol

HISTORY = 2048
POSITION = "position"
# A loop whose queue holds more than this has stopped keeping up (a notebook cell that
# blocks the kernel's loop): its queued positions are coalesced to the latest.
LOOP_BACKLOG = 64


class BusEvent:
    """One event. Its SSE frame is encoded once, on first use, and shared by every listener."""

    __slots__ = ("id", "type", "data", "timestamp", "_frame")

    def __init__(self, id: int, type: str, data: dict[str, Any], timestamp: float | None = None) -> None:
        self.id = id
        self.type = type
        self.data = data
        self.timestamp = time.time() if timestamp is None else timestamp
        self._frame: bytes | None = None

    @property
    def frame(self) -> bytes:
        if self._frame is None:
            self._frame = f"id: {self.id}\nevent: {self.type}\ndata: {json.dumps(self.data)}\n\n".encode()
        return self._frame

    def __repr__(self) -> str:
        return f"BusEvent({self.id}, {self.type!r}, {self.data!r})"


class Listener(Protocol):
    types: frozenset[str] | None

    def deliver(self, events: list[BusEvent]) -> None: ...  # on the listener's loop


class SubscriptionClosed(Exception):
    pass


def coalesce_positions(events: Iterable[BusEvent]) -> list[BusEvent]:
    """The events in order, with only the last ``position`` of them kept (where it was)."""
    events = list(events)
    last = max((i for i, e in enumerate(events) if e.type == POSITION), default=None)
    return [e for i, e in enumerate(events) if e.type != POSITION or i == last]


class Subscription:
    """Events for one listener, read on its loop with ``await get()`` or ``async for``."""

    def __init__(self, bus: "EventBus", loop: asyncio.AbstractEventLoop, maxsize: int,
                 types: frozenset[str] | None = None) -> None:
        self._bus = bus
        self.loop = loop
        self.maxsize = maxsize
        self.types = types
        self.overflowed = False
        self.closed = False
        self._items: collections.deque[BusEvent] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None

    def deliver(self, events: list[BusEvent]) -> None:  # runs on self.loop
        if self.closed:
            return
        self._items.extend(events)
        if self.maxsize and len(self._items) > self.maxsize:
            self._items = collections.deque(coalesce_positions(self._items))
            if len(self._items) > self.maxsize:  # keep what fits; the rest is replayable
                self._items = collections.deque(list(self._items)[: self.maxsize])
                self.overflowed = True
                self.close()
                return
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> BusEvent:
        while not self._items:
            if self.closed:
                raise SubscriptionClosed("overflow" if self.overflowed else "closed")
            self._waiter = self.loop.create_future()
            await self._waiter
        return self._items.popleft()

    def get_nowait(self) -> BusEvent | None:
        return self._items.popleft() if self._items else None

    def pending(self) -> int:
        return len(self._items)

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> BusEvent:
        try:
            return await self.get()
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    def close(self) -> None:
        """Stop receiving. Safe from any thread; events already queued stay readable."""
        if self.closed:
            return
        self.closed = True
        self._bus.remove(self)
        try:
            self.loop.call_soon_threadsafe(self._wake)
        except RuntimeError:  # that loop is closed: nobody waits any more
            pass


class _Callback:
    types = None

    def __init__(self, callback: Callable[[BusEvent], None]) -> None:
        self.callback = callback

    def deliver(self, events: list[BusEvent]) -> None:
        for event in events:
            self.callback(event)


class _LoopHub:
    """The listeners of one loop, and the events waiting for that loop to run."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.listeners: list[Listener] = []
        self._queue: collections.deque[BusEvent] = collections.deque()
        self._lock = threading.Lock()
        self._scheduled = False
        self.urgent = False  # a position waits: worth handing over before the loop's next turn

    def post(self, events: list[BusEvent]) -> bool:
        """Queue events for the loop (any thread); False when the loop is gone."""
        with self._lock:
            self._queue.extend(events)
            if not self.urgent and any(e.type == POSITION for e in events):
                self.urgent = True
            if len(self._queue) > LOOP_BACKLOG:
                self._queue = collections.deque(coalesce_positions(self._queue))
            if self._scheduled:
                return True
            self._scheduled = True
        try:
            self.loop.call_soon_threadsafe(self._flush)
        except RuntimeError:
            return False
        return True

    def _flush(self) -> None:  # on self.loop
        with self._lock:
            events, self._queue = list(self._queue), collections.deque()
            self._scheduled = False
            self.urgent = False
        if not events:
            return
        for listener in list(self.listeners):
            wanted = events if listener.types is None else [e for e in events if e.type in listener.types]
            if wanted:
                listener.deliver(wanted)


class EventBus:
    def __init__(self, history: int = HISTORY) -> None:
        self._lock = threading.Lock()
        self._next_id = 1
        self._hubs: dict[asyncio.AbstractEventLoop, _LoopHub] = {}
        self._history: collections.deque[BusEvent] = collections.deque(maxlen=history)

    # ---- listening ----------------------------------------------------------------------

    def subscribe(self, loop: asyncio.AbstractEventLoop | None = None, maxsize: int = 0,
                  types: set[str] | frozenset[str] | None = None) -> Subscription:
        """A queue of every event from now on (or of ``types`` only), delivered on ``loop``
        (default: the running one)."""
        wanted = frozenset(types) if types is not None else None
        sub = Subscription(self, loop or asyncio.get_running_loop(), maxsize, wanted)
        self.add(sub, sub.loop)
        return sub

    def subscribe_callback(self, callback: Callable[[BusEvent], None],
                           loop: asyncio.AbstractEventLoop | None = None) -> Callable[[], None]:
        """Call ``callback(event)`` on ``loop`` for every event; returns the unsubscribe function."""
        listener = _Callback(callback)
        self.add(listener, loop or asyncio.get_running_loop())
        return lambda: self.remove(listener)

    def add(self, listener: Listener, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver events to ``listener`` on ``loop`` (its ``deliver`` gets them in batches)."""
        with self._lock:
            hub = self._hubs.get(loop)
            if hub is None:
                hub = self._hubs[loop] = _LoopHub(loop)
            hub.listeners = [*hub.listeners, listener]

    def remove(self, listener: Any) -> None:
        with self._lock:
            for loop, hub in list(self._hubs.items()):
                if listener in hub.listeners:
                    hub.listeners = [x for x in hub.listeners if x is not listener]
                    if not hub.listeners:
                        del self._hubs[loop]

    def deliver_urgent(self, loop: asyncio.AbstractEventLoop) -> None:
        """On ``loop``'s own thread, between two pieces of its work: hand its listeners a
        waiting position now. A busy loop (the API under load) reaches the wake-up ``post``
        scheduled only after every callback already queued, 10-20 ms of requests; a server
        calls this as each request starts, so a position waits for one request at most."""
        hub = self._hubs.get(loop)
        if hub is not None and hub.urgent:
            hub._flush()

    # ---- publishing ---------------------------------------------------------------------

    def publish(self, type: str, data: dict[str, Any]) -> BusEvent:
        return self.publish_many([(type, data)])[0]

    def publish_many(self, items: Iterable[tuple[str, dict[str, Any]]]) -> list[BusEvent]:
        """Several events at once: one wake-up per loop for all of them."""
        with self._lock:
            events = []
            for type, data in items:
                events.append(BusEvent(self._next_id, type, data))
                self._next_id += 1
            self._history.extend(events)
            hubs = list(self._hubs.values())
        if events:
            for hub in hubs:
                if not hub.post(events):  # that loop is closed: its listeners are gone
                    with self._lock:
                        self._hubs.pop(hub.loop, None)
        return events

    # ---- replay and counts --------------------------------------------------------------

    def since(self, event_id: int) -> list[BusEvent] | None:
        """Events after ``event_id``, or None when some of them are no longer kept."""
        with self._lock:
            history = list(self._history)
        if history and event_id < history[0].id - 1:
            return None
        return [e for e in history if e.id > event_id]

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(h.listeners) for h in self._hubs.values())
