"""Events reach every subscriber on its own loop; a slow one slows nobody else."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from oiduna_nb.engine import EventBus, Session, SubscriptionClosed

from .conftest import run_for, seed_session_dict


class LoopThread:
    """An asyncio loop on a thread of its own, like a kernel's or a server's."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@pytest.fixture
def loops():
    made = [LoopThread() for _ in range(3)]
    yield made
    for lt in made:
        lt.close()


def mixed(i: int) -> tuple[str, dict]:
    """Every 10th event a status change, the rest positions."""
    return ("status", {"n": i}) if i % 10 == 0 else ("position", {"step": i})


def test_every_subscriber_gets_every_event_on_its_own_loop(loops):
    bus = EventBus()
    subs = [lt.run(_subscribe(bus)) for lt in loops]
    seen_threads = []

    def publisher():
        for i in range(500):
            bus.publish(*mixed(i))

    threading.Thread(target=publisher).start()
    for lt, sub in zip(loops, subs):
        events = lt.run(collect_until(sub, lambda e: e.data.get("step") == 499))
        assert [e.data["n"] for e in events if e.type == "status"] == list(range(0, 500, 10))
        steps = [e.data["step"] for e in events if e.type == "position"]
        assert steps == sorted(steps) and steps[-1] == 499  # a loop behind skips to the latest
        assert [e.id for e in events] == sorted(e.id for e in events)
        seen_threads.append(lt.run(_thread_name()))
    assert len(set(seen_threads)) == 3


def test_a_subscriber_that_keeps_up_gets_every_position(loops):
    bus = EventBus()
    lt = loops[0]
    sub = lt.run(_subscribe(bus))
    for i in range(200):
        bus.publish("position", {"step": i})
        assert lt.run(sub.get()).data == {"step": i}


async def collect_until(sub, last):
    out = []
    while not out or not last(out[-1]):
        out.append(await sub.get())
    return out


async def _subscribe(bus, maxsize=0):
    return bus.subscribe(maxsize=maxsize)


async def _thread_name():
    return threading.current_thread().name


def test_publishing_costs_the_same_however_many_listen(loops):
    """One hand-over per loop, not per subscriber: 2,000 listeners on one loop cost the
    publisher what one does (the loop, not the publisher, does the per-listener work)."""
    bus = EventBus()
    lt = loops[0]
    for _ in range(2000):
        lt.run(_subscribe(bus))
    calls = []
    original = lt.loop.call_soon_threadsafe
    lt.loop.call_soon_threadsafe = lambda *a: calls.append(a) or original(*a)
    bus.publish("position", {"step": 1})
    assert len(calls) == 1


def test_a_blocked_subscriber_does_not_block_publishing_or_others(loops):
    bus = EventBus()
    fast, slow = loops[0], loops[1]
    fast_sub = fast.run(_subscribe(bus))
    slow_sub = slow.run(_subscribe(bus))
    slow.loop.call_soon_threadsafe(time.sleep, 1.0)  # the slow loop is stuck in a cell
    t0 = time.perf_counter()
    for i in range(2000):
        bus.publish(*mixed(i))
    publish_time = time.perf_counter() - t0
    fast_events = fast.run(collect_until(fast_sub, lambda e: e.data.get("step") == 1999))
    assert len([e for e in fast_events if e.type == "status"]) == 200
    assert publish_time < 1.0  # publish never waited for the stuck loop
    slow_events = slow.run(collect_until(slow_sub, lambda e: e.data.get("step") == 1999))
    # it missed no status, and got the latest position instead of a backlog of stale ones
    assert [e.data["n"] for e in slow_events if e.type == "status"] == list(range(0, 2000, 10))
    assert len([e for e in slow_events if e.type == "position"]) < 1800


def test_a_subscriber_that_falls_too_far_behind_is_closed_and_can_replay(loops):
    bus = EventBus()
    lt = loops[0]
    sub = lt.run(_subscribe(bus, maxsize=10))
    lt.loop.call_soon_threadsafe(time.sleep, 0.3)
    for i in range(50):
        bus.publish("status", {"n": i})

    async def drain():
        got = []
        try:
            while True:
                got.append(await sub.get())
        except SubscriptionClosed as exc:
            return got, str(exc)

    got, reason = lt.run(drain())
    assert reason == "overflow" and len(got) <= 10
    missed = bus.since(got[-1].id if got else 0)
    assert [e.data["n"] for e in missed] == list(range(len(got), 50))
    assert bus.subscriber_count() == 0


def test_a_subscriber_behind_on_positions_only_is_not_closed(loops):
    bus = EventBus()
    lt = loops[0]
    sub = lt.run(_subscribe(bus, maxsize=10))
    lt.loop.call_soon_threadsafe(time.sleep, 0.3)
    for i in range(50):
        bus.publish("position", {"step": i})
    bus.publish("status", {"n": 0})
    events = lt.run(collect_until(sub, lambda e: e.type == "status"))
    assert events[-2].data == {"step": 49} and not sub.closed


def test_engine_positions_are_published_when_the_step_sounds(engine, clock, loops):
    lt = loops[0]
    sub = lt.run(_subscribe(engine.bus))
    engine.load_session(Session.model_validate(seed_session_dict()))
    engine.start()
    run_for(engine, clock, 0.099)

    async def positions():
        out = []
        while (event := sub.get_nowait()) is not None:
            if event.type == "position":
                out.append(event.data)
        return out

    time.sleep(0.05)  # let the loop run the delivered callbacks
    assert lt.run(positions()) == []  # step 0 computed and sent, but not yet sounding
    run_for(engine, clock, 0.001)
    time.sleep(0.05)
    assert lt.run(positions()) == [{"step": 0, "beat": 0, "bar": 0, "cycle": 0, "tracks": ["kick"]}]  # which cycle, and who sounds
    run_for(engine, clock, 0.125 * 4)
    time.sleep(0.05)
    assert [p["step"] for p in lt.run(positions())] == [1, 2, 3, 4]


class Recorder:
    types = None

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, dict]]] = []

    def deliver(self, events) -> None:
        self.batches.append([(e.type, e.data) for e in events])


def test_a_waiting_position_is_handed_over_before_the_loops_next_turn():
    """A busy loop may call ``deliver_urgent`` between two pieces of its work: a position
    waiting for it is delivered then (with what waits before it, in order); other events
    keep waiting for the loop's turn, and that turn delivers nothing twice."""
    loop = asyncio.new_event_loop()  # not running: as a loop in the middle of other work
    try:
        bus, got = EventBus(), Recorder()
        bus.add(got, loop)
        bus.publish("status", {"n": 1})
        bus.deliver_urgent(loop)
        assert got.batches == []  # nothing urgent yet
        bus.publish("position", {"step": 7})
        bus.deliver_urgent(loop)
        assert got.batches == [[("status", {"n": 1}), ("position", {"step": 7})]]
        bus.deliver_urgent(loop)
        loop.run_until_complete(asyncio.sleep(0))  # the loop's turn: its wake-up finds nothing new
        assert len(got.batches) == 1
        bus.publish("status", {"n": 2})
        loop.run_until_complete(asyncio.sleep(0))
        assert got.batches[1:] == [[("status", {"n": 2})]]
        bus.deliver_urgent(asyncio.new_event_loop())  # a loop nobody listens on: nothing to do
    finally:
        loop.close()
