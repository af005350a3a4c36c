"""Ableton Link through ``aalink`` (the optional ``link`` extra), on a thread of its own.

aalink is asyncio-based: its ``Link`` lives on a loop, here a loop on our own thread, so
neither the kernel's loop nor the metronome ever waits for it. The engine's side hands
things over with ``call_soon_threadsafe`` (never blocking), and this side reads Link every
``poll`` seconds and tells its listener (``LinkSync``) when something changed: the beat
mapping moved by more than ``tolerance``, the tempo, the number of peers, or start/stop.

The mapping is read as "the beat now" between two readings of our own clock (the tightest
of three brackets), so it is on the engine's clock whatever clock Link keeps: on Linux Link
counts on CLOCK_MONOTONIC_RAW (measured here: 108 ms from ``time.monotonic_ns`` and 1.3 ppm
apart), a drift the ``tolerance`` check re-anchors away.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Protocol

from .timeline import BEATS_PER_BAR, BeatClock

INSTALL_HINT = "Ableton Link needs the link extra: pip install 'oiduna_nb[link]' (it brings aalink)"
READINGS = 3  # brackets per poll; the tightest one is kept
# A tempo set within milliseconds of switching Link on can be carried into the session Link
# joins right then (measured with aalink: set 1–5 ms after, it turned an established peer's
# tempo in 5 of 7 tries; at 8–50 ms in none of 3). A loaded session's tempo waits this long.
SETTLE_S = 0.5
log = logging.getLogger("oiduna_nb.link")


class LinkUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class LinkSample:
    """What the session says now."""

    clock: BeatClock  # its beats on our clock, at its tempo
    peers: int
    playing: bool  # the session's start/stop state
    own_tempo: bool = False  # the tempo is the one we pushed (our echo, not a peer's)
    # The session kept its tempo over one that came with a loaded session (a peer was found
    # before it was due): take the session's tempo, even if it did not change.
    adopt: bool = False


Listener = Callable[[LinkSample], None]


class LinkPeer(Protocol):
    """What the engine needs from a Link peer (``AbletonLink``; tests inject their own)."""

    def open(self, bpm: float, start_stop_sync: bool, listener: Listener) -> None:
        """Join (or found) the session; the first sample reaches ``listener`` before this returns."""

    def close(self) -> None: ...

    def push_tempo(self, bpm: float, at_ns: int | None, yields: bool = False) -> None:
        """Set the session's tempo at ``at_ns`` on our clock (None: now). Never blocks.
        ``yields``: the tempo came with a loaded session; if Link has found peers by the time
        it is due, the session keeps its tempo and the listener hears it with ``adopt``."""

    def push_playing(self, playing: bool) -> None: ...

    def set_start_stop_sync(self, enabled: bool) -> None: ...


def wire_tempo(bpm: float) -> float:
    """``bpm`` as Link carries it to the peers (whole microseconds per beat). Setting Link
    to exactly this keeps us and them on one beat rate: with 123.4 we would count 0.7 ppm
    faster than peers who read 123.39991..., and drift apart by 42 µs a minute."""
    return 60e6 / round(60e6 / bpm)


def readable_tempo(bpm: float) -> float:
    """The tempo with the fewest decimals that Link carries the same way (whole microseconds
    per beat): a peer's 123.39991444 is the 123.4 its user typed."""
    micros = round(60e6 / bpm)
    for digits in range(7):
        candidate = round(bpm, digits)
        if candidate > 0 and round(60e6 / candidate) == micros:
            return candidate
    return bpm


def load_aalink() -> Any:
    try:
        import aalink
    except ImportError:
        raise LinkUnavailable(INSTALL_HINT) from None
    return aalink


class AbletonLink:
    """One Link peer on its own thread and asyncio loop."""

    def __init__(self, now_ns: Callable[[], int], poll: float = 0.005, tolerance_ns: int = 100_000,
                 settle: float = SETTLE_S) -> None:
        self._aalink = load_aalink()  # LinkUnavailable here, on the caller's thread
        self._now_ns = now_ns
        self.poll = poll
        self.tolerance_ns = tolerance_ns
        self.settle = settle
        self._settled_at = 0.0  # loop time from which Link has had time to find a session
        self._scheduled = 0  # tempos handed over so far: a later one supersedes one still settling
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self._link: Any = None
        self._listener: Listener | None = None
        self._last: LinkSample | None = None
        self._pushed_tempo: float | None = None
        self._pending: list[asyncio.TimerHandle] = []
        # What the engine hands over before the loop runs (a tempo set while joining) waits here.
        self._handover = threading.Lock()
        self._early: list[tuple[Callable[..., Any], tuple[Any, ...]]] | None = []

    # ---- the engine's side (any thread) --------------------------------------------------

    def open(self, bpm: float, start_stop_sync: bool, listener: Listener) -> None:
        self._listener = listener
        self._thread = threading.Thread(
            target=self._run, args=(bpm, start_stop_sync), name="oiduna-link", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join(timeout=5)
            raise LinkUnavailable(f"Ableton Link could not start: {self._error}")

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and self._stop is not None:
            try:
                loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # the loop is already closed
                pass
        if thread is not None:
            thread.join(timeout=5)
        self._thread = None

    def push_tempo(self, bpm: float, at_ns: int | None, yields: bool = False) -> None:
        self._call(self._schedule_tempo, bpm, at_ns, yields)

    def push_playing(self, playing: bool) -> None:
        self._call(self._set_playing, playing)

    def set_start_stop_sync(self, enabled: bool) -> None:
        self._call(self._set_start_stop_sync, enabled)

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._handover:
            loop = self._loop
            if loop is None:
                if self._early is not None:
                    self._early.append((fn, args))
                return  # closed: nothing more goes to the session
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # closing: nothing more goes to the session
            pass

    # ---- the Link thread ------------------------------------------------------------------

    def _run(self, bpm: float, start_stop_sync: bool) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main(bpm, start_stop_sync))
        finally:
            with self._handover:
                self._loop, self._early = None, None
            loop.close()

    async def _main(self, bpm: float, start_stop_sync: bool) -> None:
        try:
            self._stop = asyncio.Event()
            link = self._aalink.Link(wire_tempo(bpm))  # created on the running loop: aalink binds to it
            link.quantum = BEATS_PER_BAR
            link.start_stop_sync_enabled = start_stop_sync
            link.enabled = True
            self._settled_at = asyncio.get_running_loop().time() + self.settle
            self._link = link
            with self._handover:
                self._loop, early, self._early = asyncio.get_running_loop(), self._early or [], None
            for fn, args in early:
                fn(*args)
            self._poll()
        except Exception as exc:  # reported by open() on the caller's thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while not self._stop.is_set():
                try:
                    await asyncio.wait_for(self._stop.wait(), self.poll)
                except asyncio.TimeoutError:
                    pass
                self._poll()
        finally:
            for handle in self._pending:
                handle.cancel()
            link.enabled = False
            self._link = None

    def _read(self) -> tuple[BeatClock, int, bool]:
        """The beat now, bracketed by our clock (the tightest of a few readings)."""
        link, best = self._link, None
        while best is None:
            for _ in range(READINGS):
                tempo = link.tempo
                before = self._now_ns()
                beat = link.beat
                after = self._now_ns()
                if link.tempo != tempo:  # it changed in between: read again
                    continue
                if best is None or after - before < best[0]:
                    best = (after - before, beat, (before + after) // 2, tempo)
        _, beat, at_ns, tempo = best
        return BeatClock(Fraction(beat), at_ns, tempo), link.num_peers, link.playing

    def _poll(self, adopt: bool = False) -> None:
        clock, peers, playing = self._read()
        last = self._last
        if last is not None:
            tempo_changed = clock.bpm != last.clock.bpm
            if not tempo_changed and abs(last.clock.drift_ns(clock.beat, clock.at_ns)) <= self.tolerance_ns:
                if (peers, playing) == (last.peers, last.playing) and not adopt:
                    return
                clock = last.clock  # only the peers or start/stop changed: the mapping holds
            own = last.own_tempo if not tempo_changed else clock.bpm == self._pushed_tempo
            own = own and not adopt
            if tempo_changed and not own:  # a peer's tempo wins over ours still waiting to go out
                for handle in self._pending:
                    handle.cancel()
                self._pending.clear()
        else:
            own = False
        self._last = sample = LinkSample(clock, peers, playing, own, adopt)
        if self._listener is not None:
            try:
                self._listener(sample)
            except Exception:  # the listener reports its own errors; never stop following
                log.exception("the Link listener failed")

    def _schedule_tempo(self, bpm: float, at_ns: int | None, yields: bool = False) -> None:
        self._scheduled += 1
        delay = 0.0 if at_ns is None else max(0.0, (at_ns - self._now_ns()) / 1e9)
        handle = self._loop.call_later(delay, self._set_tempo, bpm, yields, self._scheduled)
        self._pending.append(handle)

    def _set_tempo(self, bpm: float, yields: bool = False, order: int = 0, settled: bool = False) -> None:
        self._pending = [h for h in self._pending if not h.cancelled() and h.when() > self._loop.time()]
        if self._link is None:
            return
        if yields:
            # The engine decided it was alone, but Link may have found a session since (within
            # milliseconds of joining, between two readings): joining never imposes our tempo.
            wait = self._settled_at - self._loop.time()
            if wait > 0:  # Link was only just switched on: give it time to find the others
                handle = self._loop.call_later(wait, self._set_tempo, bpm, yields, order, True)
                self._pending.append(handle)
                return
            if settled and order != self._scheduled:
                return  # a tempo handed over while this one settled supersedes it
            self._poll()  # what Link found reaches the engine first
            if self._link.num_peers > 0:
                self._poll(adopt=True)
                return
        self._link.tempo = wire_tempo(bpm)
        self._pushed_tempo = self._link.tempo  # as Link keeps it: its echo is recognised
        self._poll()

    def _set_start_stop_sync(self, enabled: bool) -> None:
        if self._link is not None:
            self._link.start_stop_sync_enabled = enabled

    def _set_playing(self, playing: bool) -> None:
        if self._link is not None and self._link.playing != playing:
            self._link.playing = playing
            self._poll()
