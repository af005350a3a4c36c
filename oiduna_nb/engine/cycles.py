"""A pattern's cycles, rendered ahead of the metronome. The query is pure; the cache and the
renderer thread are I/O-free bookkeeping.

A track that plays a pattern sounds, in cycle *c*, the events of ``pattern.query(c, c+1)``
that start there, for every *c*: random and ``every 7`` alike, never a fixed loop of the
first cycles. The renderer thread keeps the next cycles of every pattern in the plan ready
(``AHEAD``), so the metronome only looks them up; if one is missing (a pattern slower than
the music), the metronome renders it itself and says so in ``stats``. Cycles already played
are forgotten, so memory never grows with time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterable

from .ir import split_sound
from .timeline import STEPS_PER_BAR

AHEAD = 2  # cycles rendered ahead of the one playing


@dataclass(frozen=True, slots=True)
class Hit:
    """One event of a pattern in a cycle, placed as the engine places a sequence's events."""

    step: int  # 16th of the cycle it starts in (0..15)
    offset: float  # where in that 16th (0..1)
    gate: float  # its whole's length, in steps
    params: dict[str, Any]
    velocity: float = 1.0
    note: float | None = None  # a MIDI note number (MIDI tracks); OSC tracks send params["note"]


def params_of(value: Any) -> dict[str, Any]:
    """A pattern's value as params: control patterns give dicts; a bare word is a sound and
    a bare number a sample number (``track("x", mini("bd sn"))``)."""
    if isinstance(value, dict):
        return split_sound(dict(value))
    if isinstance(value, str):
        return split_sound({"s": value})
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"n": float(value)}
    raise TypeError(f"a pattern value must be params, a word or a number, not {value!r}")


class TrackSource:
    """Where a track's events come from, cycle by cycle, when it does not play a loop of
    IR events: ``hits(cycle)`` and a short written form for people."""

    text: str = ""

    def hits(self, cycle: int) -> dict[int, tuple[Hit, ...]]:
        raise NotImplementedError


class PatternSource(TrackSource):
    """A pattern (the notebook's language): anything with ``query(begin, end)`` giving
    events with ``whole``, ``part``, ``value`` and ``has_onset()``."""

    def __init__(self, pattern: Any, text: str = "") -> None:
        self.pattern = pattern
        self.text = text

    def hits(self, cycle: int) -> dict[int, tuple[Hit, ...]]:
        return cycle_hits(self.pattern, cycle)


class LoopSource(TrackSource):
    """Events over ``length`` steps, repeated for ever (what a step string or a list of
    steps means): cycle *c* plays the events of steps 16c … 16c+15, modulo the length."""

    def __init__(self, hits: list[tuple[int, Hit]], length: int, text: str = "") -> None:
        self.length = length
        self.text = text
        self._by_step: dict[int, list[Hit]] = {}
        for step, hit in hits:
            self._by_step.setdefault(step % length, []).append(hit)

    def hits(self, cycle: int) -> dict[int, tuple[Hit, ...]]:
        out = {}
        for k in range(STEPS_PER_BAR):
            found = self._by_step.get((cycle * STEPS_PER_BAR + k) % self.length)
            if found:
                out[k] = tuple(found)
        return out

    def events(self) -> int:
        return sum(len(v) for v in self._by_step.values())


def cycle_hits(pattern: Any, cycle: int) -> dict[int, tuple[Hit, ...]]:
    """The events that start in ``cycle``, by the 16th they start in."""
    table: dict[int, list[Hit]] = {}
    for event in pattern.query(Fraction(cycle), Fraction(cycle + 1)):
        whole = event.whole
        if whole is None or not event.has_onset():  # a signal, or the tail of an event
            continue
        position = (whole.begin - cycle) * STEPS_PER_BAR
        step = math.floor(position)
        if not 0 <= step < STEPS_PER_BAR:
            continue
        gate = float((whole.end - whole.begin) * STEPS_PER_BAR)
        table.setdefault(step, []).append(Hit(step, float(position - step), gate, params_of(event.value)))
    return {k: tuple(v) for k, v in table.items()}


@dataclass
class CycleCache:
    """Rendered cycles by (pattern source, cycle). Safe to read and fill from several threads:
    entries are whole tables put in place at once."""

    report: Callable[[str, str], None] | None = None  # (message, details) when a pattern fails
    stats: dict[str, int] = field(default_factory=lambda: {"rendered": 0, "inline": 0, "failed": 0})
    _tables: dict[tuple[int, int], tuple[Any, dict]] = field(default_factory=dict)
    _failed: set[int] = field(default_factory=set)

    def hits(self, source: Any, cycle: int, inline: bool = True) -> dict[int, tuple[Hit, ...]]:
        entry = self._tables.get((id(source), cycle))
        if entry is not None and entry[0] is source:
            return entry[1]
        if inline:
            self.stats["inline"] += 1
        return self.render(source, cycle)

    def has(self, source: Any, cycle: int) -> bool:
        entry = self._tables.get((id(source), cycle))
        return entry is not None and entry[0] is source

    def render(self, source: Any, cycle: int) -> dict[int, tuple[Hit, ...]]:
        try:
            table = source.hits(cycle)
        except Exception as exc:  # a user's function failing in some cycle: silence, said once
            table = {}
            self.stats["failed"] += 1
            if id(source) not in self._failed:
                self._failed.add(id(source))
                if self.report is not None:
                    self.report(f"A pattern failed in cycle {cycle}; it is silent where it fails",
                                f"{source.text or 'pattern'}: {exc!r}")
        self._tables[(id(source), cycle)] = (source, table)
        self.stats["rendered"] += 1
        return table

    def forget_before(self, cycle: int) -> None:
        self._tables = {k: v for k, v in self._tables.items() if k[1] >= cycle}


def render_ahead(cache: CycleCache, sources: Callable[[], tuple[int, Iterable[Any]]]) -> None:
    """Render the cycle playing and the next ``AHEAD`` cycles of every pattern in the plan.
    ``sources()`` gives (the cycle playing now, the sources of every state in the plan). The
    engine's renderer thread (a ``worker.Worker``) runs this when a plan is installed and when
    the metronome enters a new cycle."""
    cycle, found = sources()
    cache.forget_before(cycle - 1)
    for ahead in range(AHEAD + 1):
        for source in found:
            if not cache.has(source, cycle + ahead):
                cache.render(source, cycle + ahead)
