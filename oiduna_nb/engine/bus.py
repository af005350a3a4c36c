"""Engine events to whoever listens, each on its own asyncio loop.

``publish`` may be called from any thread (the metronome publishes positions). It
never blocks: it hands the event to each subscriber's loop with
``call_soon_threadsafe``, so a subscriber whose loop is busy only delays itself.
Each subscriber has its own queue; one that falls more than ``maxsize`` events
behind is closed (it can reconnect and replay from ``since``), never waited for.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

HISTORY = 2048


@dataclass(frozen=True, slots=True)
class BusEvent:
    id: int
    type: str
    data: dict[str, Any]
    timestamp: float = field(default_factory=time.time)


class SubscriptionClosed(Exception):
    pass


class Subscription:
    """Events for one listener, read on its loop with ``await get()`` or ``async for``."""

    def __init__(
        self, bus: "EventBus", loop: asyncio.AbstractEventLoop, maxsize: int, types: frozenset[str] | None = None
    ) -> None:
        self._bus = bus
        self.loop = loop
        self.maxsize = maxsize
        self.types = types
        self.overflowed = False
        self.closed = False
        self._items: collections.deque[BusEvent] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None

    def _deliver(self, event: BusEvent) -> None:  # runs on self.loop
        if self.closed:
            return
        if self.maxsize and len(self._items) >= self.maxsize:
            self.overflowed = True
            self.close()
            return
        self._items.append(event)
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
        self._bus._remove(self)
        try:
            self.loop.call_soon_threadsafe(self._wake)
        except RuntimeError:  # that loop is closed: nobody waits any more
            pass


class _CallbackSubscription:
    types = None

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[BusEvent], None]) -> None:
        self.loop = loop
        self.callback = callback

    def _deliver(self, event: BusEvent) -> None:
        self.callback(event)


class EventBus:
    def __init__(self, history: int = HISTORY) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._subscribers: list[Subscription | _CallbackSubscription] = []
        self._history: collections.deque[BusEvent] = collections.deque(maxlen=history)

    def subscribe(
        self,
        loop: asyncio.AbstractEventLoop | None = None,
        maxsize: int = 0,
        types: set[str] | frozenset[str] | None = None,
    ) -> Subscription:
        """A queue of every event from now on (or of ``types`` only), delivered on ``loop``
        (default: the running one)."""
        wanted = frozenset(types) if types is not None else None
        sub = Subscription(self, loop or asyncio.get_running_loop(), maxsize, wanted)
        with self._lock:
            self._subscribers.append(sub)
        return sub

    def subscribe_callback(
        self, callback: Callable[[BusEvent], None], loop: asyncio.AbstractEventLoop | None = None
    ) -> Callable[[], None]:
        """Call ``callback(event)`` on ``loop`` for every event; returns the unsubscribe function."""
        sub = _CallbackSubscription(loop or asyncio.get_running_loop(), callback)
        with self._lock:
            self._subscribers.append(sub)
        return lambda: self._remove(sub)

    def _remove(self, sub: Any) -> None:
        with self._lock:
            if sub in self._subscribers:
                self._subscribers.remove(sub)

    def publish(self, type: str, data: dict[str, Any]) -> BusEvent:
        with self._lock:
            event = BusEvent(next(self._ids), type, data)
            self._history.append(event)
            subscribers = list(self._subscribers)
        for sub in subscribers:
            if sub.types is not None and event.type not in sub.types:
                continue  # filtered here, so unwanted events cost the subscriber nothing
            try:
                sub.loop.call_soon_threadsafe(sub._deliver, event)
            except RuntimeError:  # the subscriber's loop is closed: it is gone
                self._remove(sub)
        return event

    def since(self, event_id: int) -> list[BusEvent] | None:
        """Events after ``event_id``, or None when some of them are no longer kept."""
        with self._lock:
            history = list(self._history)
        if history and event_id < history[0].id - 1:
            return None
        return [e for e in history if e.id > event_id]

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)
