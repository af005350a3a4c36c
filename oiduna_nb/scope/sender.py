"""The parameter sender: on change, coalesced, never faster than Scope applies them.

Scope keeps 8 parameter updates per pipeline and applies one per generated chunk; more are
dropped. Sending the whole state at 30 Hz loses most updates, the last one included. So:

- ``update(**changes)`` only records the wanted state; a message carries the keys that
  changed since the last message (later values of a key replace earlier ones);
- messages go out no faster than ``max_rate`` (30 Hz) nor than half the server's chunk rate,
  estimated from the bursts in which the video frames arrive (the real server's pace jitters:
  sending at its full rate, 4 of 88 updates were dropped here; at half, none);
- once a key stops changing, and the server's queue has surely drained, its final value is
  sent once more, so the last change a user makes is never the one that was dropped (beat
  state, refreshed all the time, and transitions, which must not replay, excepted).

Beat state (``bpm``, ``beat_phase``, ``bar_position``, ``beat_count``, ``is_playing``) is
different. The server takes it out of a message at once and records it only when ``bpm`` and
``beat_phase`` come together, and only while its tempo sync is enabled (``beat_enabled``);
the rest of a beat-only message still takes a queue slot, as ``{}``. So beat state goes out
only while the server uses it, always all five keys together, riding along with any other
message; alone only when nothing else waits and the server's queue has drained, at most once
per ``beat_interval``. A prompt change is never dropped for it and waits at most one sending
interval.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import deque
from typing import Any, Awaitable, Callable

Send = Callable[[dict[str, Any]], Awaitable[None] | None]
QUEUE_DEPTH = 8  # the server's parameter queue
MAX_FRAMES_PER_CHUNK = 12  # more frames than this between two long gaps: not a chunk
PACE = 2.0  # chunks per message at most: room for the server's uneven pace
BEAT_ORDER = ("bpm", "beat_phase", "bar_position", "beat_count", "is_playing")
BEAT_KEYS = frozenset(BEAT_ORDER)


class ChunkRate:
    """The server's chunk interval, from the arrival times of video frames: frames of one
    chunk come together, chunks come apart."""

    def __init__(self, default_interval: float) -> None:
        self.default = default_interval
        self._arrivals: deque[float] = deque(maxlen=120)

    def frame(self, at: float | None = None) -> None:
        self._arrivals.append(time.monotonic() if at is None else at)

    @property
    def interval(self) -> float:
        times = list(self._arrivals)
        if len(times) < 6:
            return self.default
        gaps = [b - a for a, b in zip(times, times[1:])]
        small = statistics.median(gaps)
        long = [i for i, g in enumerate(gaps) if g > 3 * small + 0.002]
        if len(long) >= 3 and regular(long) and len(long) * MAX_FRAMES_PER_CHUNK >= len(gaps):
            # a chunk is a burst of frames and the gap before the next one
            per_chunk = (times[-1] - times[0]) / len(long)
            return max(per_chunk, small)
        return max(small, 1e-3)  # one frame a chunk; long gaps here and there are stalls on the way


def regular(long_gaps: list[int]) -> bool:
    """Chunks come with the same number of frames each (most of the time: the first ones may
    not); stalls on a busy machine come at random."""
    runs = [b - a for a, b in zip(long_gaps, long_gaps[1:])]
    usual = statistics.median(runs)
    return sum(abs(r - usual) <= 1 for r in runs) >= 0.7 * len(runs)


class ParameterSender:
    def __init__(
        self,
        send: Send,
        max_rate: float = 30.0,
        chunk_rate: ChunkRate | None = None,
        settle_chunks: int = QUEUE_DEPTH + 2,
        beat_interval: float = 0.5,
    ) -> None:
        self._send = send
        self.min_interval = 1.0 / max_rate
        self.chunks = chunk_rate or ChunkRate(default_interval=0.25)
        self.settle_chunks = settle_chunks
        self.beat_interval = beat_interval  # the server counts client beat state stale after 2 s
        self._beat_enabled = False
        self._beat_dirty = False  # beat state changed since it was last sent
        self._last_beat = 0.0
        self.state: dict[str, Any] = {}  # every key's latest wanted value
        self._pending: dict[str, Any] = {}
        self._unsettled: set[str] = set()  # keys sent and not yet re-sent once settled
        self._changed_at: dict[str, float] = {}
        self._last_send = 0.0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.sent: list[tuple[float, dict[str, Any]]] = []  # for figures and tests
        self.on_error: Callable[[Exception], Any] | None = None

    @property
    def interval(self) -> float:
        return max(self.min_interval, PACE * self.chunks.interval)

    @property
    def beat_enabled(self) -> bool:
        """Whether the server uses beat state (its tempo sync is on)."""
        return self._beat_enabled

    @beat_enabled.setter
    def beat_enabled(self, value: bool) -> None:
        if value and not self._beat_enabled:
            self._beat_dirty = True
            self._wake.set()
        self._beat_enabled = bool(value)

    def beat_state(self) -> dict[str, Any] | None:
        """The whole beat state, or None until all of it is known."""
        if not all(key in self.state for key in BEAT_ORDER):
            return None
        return {key: self.state[key] for key in BEAT_ORDER}

    def update(self, **changes: Any) -> None:
        """Want these values; they go out with the next message."""
        for key, value in changes.items():
            if key in BEAT_KEYS:  # kept, and sent whole when it is sent at all
                self._beat_dirty |= self.state.get(key) != value
                self.state[key] = value
                continue
            if key != "transition" and self.state.get(key) == value and key not in self._pending:
                continue
            self.state[key] = value
            self._pending[key] = value
        if "prompts" in changes and "transition" not in changes:
            self._pending.pop("transition", None)  # prompts alone cancel a waiting transition
        if self._pending or (self._beat_dirty and self._beat_enabled):
            self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            now = time.monotonic()
            ready = now >= self._last_send + self.interval
            if self._pending and ready:
                message, self._pending = self._pending, {}
                await self._deliver(message)
                self._note_sent(message)
                continue
            settle = self.settle_chunks * self.chunks.interval + self._transition_time()
            due = [k for k in self._unsettled if self._changed_at.get(k, 0) + settle <= now]
            if due and ready:
                # the final values once more, now that the server's queue has drained
                self._unsettled -= set(due)
                await self._deliver({k: self.state[k] for k in due if k in self.state})
                continue
            beat_due = self._beat_wanted() and now >= self._last_beat + self.beat_interval
            if beat_due and ready:
                await self._deliver({})  # beat state alone: nothing else waits, the queue has drained
                continue
            deadlines = [self._changed_at.get(k, 0) + settle for k in self._unsettled]
            if self._pending or due:
                deadlines.append(self._last_send + self.interval)
            if self._beat_wanted():
                deadlines.append(max(self._last_send + self.interval, self._last_beat + self.beat_interval))
            timeout = max(0.0, min(deadlines) - now) if deadlines else None
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    def _note_sent(self, message: dict[str, Any]) -> None:
        now = time.monotonic()
        for key in message:
            if key in BEAT_KEYS or key == "transition":
                continue  # beat state is refreshed all the time; a transition must not replay
            self._unsettled.add(key)
            self._changed_at[key] = now
        if "transition" in message:  # its end state is what the prompts become
            self.state["prompts"] = message["transition"]["target_prompts"]
            self._unsettled.add("prompts")
            self._changed_at["prompts"] = now

    def _transition_time(self) -> float:
        transition = self.state.get("transition")
        steps = transition.get("num_steps", 0) if isinstance(transition, dict) else 0
        return steps * self.chunks.interval

    def _beat_wanted(self) -> bool:
        return self._beat_enabled and self._beat_dirty and self.beat_state() is not None

    async def _deliver(self, message: dict[str, Any]) -> None:
        beat = self.beat_state() if self._beat_enabled else None
        if beat is not None:  # every message carries the whole beat state while the server uses it
            message = {**message, **beat}
            self._beat_dirty = False
            self._last_beat = time.monotonic()
        if not message:
            return
        self._last_send = time.monotonic()
        self.sent.append((self._last_send, message))
        try:
            result = self._send(message)
            if asyncio.iscoroutine(result):
                await result
        except Exception as exc:  # a closed channel: the session reconnects; never kill the loop
            if self.on_error is not None:
                self.on_error(exc)
