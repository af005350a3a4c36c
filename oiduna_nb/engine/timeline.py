"""Step <-> time, exactly.

Times are integer nanoseconds on the engine's monotonic clock. Step ``n`` sounds at
``anchor_ns + (n - anchor_tick) * step_ns`` plus the swing delay on odd 16ths. The
step length is kept as an exact fraction and each time is rounded once, so no error
ever accumulates. A tempo change re-anchors at a step boundary: that step keeps the
time the old tempo gave it, and the new step length counts from there (no jump).

``tick`` counts steps since playback started (it never wraps); ``step`` is the
position inside the loop (it wraps at ``loop_steps``).

Playing with others (Ableton Link), the beats come from outside: a ``BeatClock`` says
where the session's beats fall on our clock, and ``Timeline.on_beat`` anchors the exact
timeline to it; every step's time is still computed here, never asked of Link.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

NS_PER_SECOND = 1_000_000_000
STEPS_PER_BEAT = 4
STEPS_PER_BAR = 16
BEATS_PER_BAR = STEPS_PER_BAR // STEPS_PER_BEAT  # Link's quantum: bars line up with the session's
# Link carries a tempo as whole microseconds per beat, so a peer reads 123.4 bpm as
# 123.39991...: tempos this close (relative) are the same tempo.
SAME_TEMPO = 1e-5


def step_length_ns(bpm: float) -> Fraction:
    """One 16th note at ``bpm`` quarter notes per minute, exactly."""
    return Fraction(60 * NS_PER_SECOND, STEPS_PER_BEAT) / Fraction(bpm)


@dataclass(frozen=True, slots=True)
class Timeline:
    anchor_tick: int
    anchor_ns: int | Fraction  # a fraction after a tempo change between nanoseconds
    step_ns: Fraction
    swing: Fraction = Fraction(0)

    @classmethod
    def start(cls, tick: int, at_ns: int, bpm: float, swing: float = 0.0) -> "Timeline":
        return cls(tick, at_ns, step_length_ns(bpm), Fraction(swing))

    def grid_ns(self, tick: int) -> Fraction:
        """Unswung time of ``tick``, exact."""
        return self.anchor_ns + self.step_ns * (tick - self.anchor_tick)

    def time_ns(self, tick: int, step: int) -> int:
        """When ``tick`` (at loop position ``step``) sounds; odd 16ths are swung."""
        t = self.grid_ns(tick)
        if step % 2 == 1:
            t += self.swing * self.step_ns
        return round(t)

    def offset_ns(self, tick: int, step: int, offset: float) -> int:
        """Time of a point ``offset`` (0..1) of a step into ``tick``."""
        t = self.grid_ns(tick) + self.step_ns * Fraction(offset)
        if step % 2 == 1:
            t += self.swing * self.step_ns
        return round(t)

    def duration_ns(self, steps: float) -> int:
        return round(self.step_ns * Fraction(steps))

    def retimed(self, at_tick: int, bpm: float | None = None, swing: float | None = None) -> "Timeline":
        """The same timeline from ``at_tick`` on with a new tempo and/or swing."""
        step_ns = self.step_ns if bpm is None else step_length_ns(bpm)
        new_swing = self.swing if swing is None else Fraction(swing)
        return Timeline(at_tick, self.grid_ns(at_tick), step_ns, new_swing)

    def tick_at(self, time_ns: int) -> int:
        """The last tick whose grid time is at or before ``time_ns``."""
        return self.anchor_tick + int((time_ns - self.anchor_ns) // self.step_ns)

    @classmethod
    def on_beat(cls, clock: "BeatClock", tick: int, beat: Fraction, swing: float = 0.0) -> "Timeline":
        """``tick`` sounding on the session's ``beat``, the steps after it at the session's tempo."""
        return cls(tick, clock.time_at(beat), step_length_ns(clock.bpm), Fraction(swing))


@dataclass(frozen=True, slots=True)
class BeatClock:
    """Where a shared session's beats fall on our clock: ``beat`` at ``at_ns``, then ``bpm``.

    Link keeps its beats on a clock of its own; its wrapper reads "the beat now" between two
    readings of ours, so this mapping is on the engine's clock whatever clock Link uses.
    """

    beat: Fraction
    at_ns: int
    bpm: float

    @property
    def beat_ns(self) -> Fraction:
        return Fraction(60 * NS_PER_SECOND) / Fraction(self.bpm)

    def time_at(self, beat: Fraction) -> Fraction:
        return self.at_ns + (beat - self.beat) * self.beat_ns

    def beat_at(self, time_ns: int | Fraction) -> Fraction:
        return self.beat + (time_ns - self.at_ns) / self.beat_ns

    def drift_ns(self, beat: Fraction, at_ns: int) -> Fraction:
        """How far a new reading (``beat`` at ``at_ns``) is from where this mapping puts it."""
        return at_ns - self.time_at(beat)


def bar_place(step: int) -> Fraction:
    """Where loop position ``step`` sits in its bar, in beats (0 <= place < 4)."""
    return Fraction(step % STEPS_PER_BAR, STEPS_PER_BEAT)


def nearest_beat(beat: Fraction, place: Fraction) -> Fraction:
    """The beat nearest ``beat`` that sits at ``place`` in a bar of the session."""
    return place + BEATS_PER_BAR * round((beat - place) / BEATS_PER_BAR)


def beat_at_or_after(beat: Fraction, place: Fraction) -> Fraction:
    """The first beat at or after ``beat`` that sits at ``place`` in a bar of the session."""
    return place + BEATS_PER_BAR * math.ceil((beat - place) / BEATS_PER_BAR)


def same_tempo(a: float, b: float) -> bool:
    return abs(a - b) <= SAME_TEMPO * max(a, b)


@dataclass(frozen=True, slots=True)
class Position:
    step: int
    beat: int
    bar: int

    @classmethod
    def of(cls, step: int) -> "Position":
        return cls(step, step // STEPS_PER_BEAT, step // STEPS_PER_BAR)

    def as_dict(self) -> dict[str, int]:
        return {"step": self.step, "beat": self.beat, "bar": self.bar}


def bar_beat_step(step: int) -> tuple[int, int, int]:
    """Loop position ``step`` as musicians count it: bar, beat in the bar and 16th in the
    beat, each from 1 (step 0 is 1.1.1, step 21 is 2.2.2). Every view counts this way."""
    return step // STEPS_PER_BAR + 1, step % STEPS_PER_BAR // STEPS_PER_BEAT + 1, step % STEPS_PER_BEAT + 1


def position_label(step: int) -> str:
    """``bar.beat.step``, from 1: ``"2.2.2"``."""
    return ".".join(str(n) for n in bar_beat_step(step))


def is_boundary(step: int, unit: str) -> bool:
    """Whether loop position ``step`` starts a beat, a bar or the sequence."""
    if unit == "beat":
        return step % STEPS_PER_BEAT == 0
    if unit == "bar":
        return step % STEPS_PER_BAR == 0
    if unit == "seq":
        return step == 0
    raise ValueError(f"unknown boundary unit {unit!r}")
