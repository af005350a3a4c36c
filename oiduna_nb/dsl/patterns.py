"""From what a cell writes (step strings, step lists, euclid, mini-notation, notes) to IR
events over the pattern's own length. Pure.

Positions are exact fractions of a step: a hap at 1/3 of a bar lands on step 5 with an
offset of 1/3 of a step, which the engine sends in the bundle's timetag.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

from ..engine.ir import Event
from . import mini
from .errors import DslError
from .notes import Scale, chord_notes, is_chord, note_number

STEPS_PER_BAR = 16
STEP_STRING = re.compile(r"^[xXo.\-_|\s]+$")
HIT_VELOCITY = {"x": 1.0, "X": 1.0, "o": 0.5}

Source = str | Sequence[int] | None


@dataclass(frozen=True)
class Ev:
    pos: Fraction  # in steps from the pattern's start
    dur: Fraction  # in steps
    value: Any  # True for a plain hit, else a word from the pattern
    velocity: float = 1.0


@dataclass(frozen=True)
class Timed:
    """A pattern over its own length in steps."""

    length: int
    events: list[Ev]


def euclid(hits: int, slots: int, rotation: int = 0) -> str:
    """``hits`` spread over ``slots`` per bar, as Tidal's ``x(hits,slots,rotation)``."""
    mini.euclid_bools(hits, slots, rotation)  # checks the numbers now, where the mistake is
    return f"x({hits},{slots},{rotation})" if rotation else f"x({hits},{slots})"


def timed(source: Source, bars: int = 1) -> Timed:
    """Events of a step string, a list of steps, or a mini-notation string."""
    if isinstance(source, str):
        if is_step_string(source):
            return _step_string(source)
        return _mini(source, bars)
    if isinstance(source, (list, tuple, range)):
        return _step_list(source)
    raise DslError(f"a rhythm is a step string, a list of steps or mini-notation, not {type(source).__name__}")


def is_step_string(text: str) -> bool:
    """``x...x..x`` / ``x... x..x``: hits and rests, one character a step.

    Without a rest character or with spaces only, ``x x x x`` is mini-notation (four beats),
    as in Tidal; ``xxxx`` is four steps.
    """
    if not STEP_STRING.match(text) or not any(c in HIT_VELOCITY for c in text):
        return False
    return any(c in ".-_" for c in text) or not any(c.isspace() for c in text.strip())


def _step_string(text: str) -> Timed:
    cells = [c for c in text if not c.isspace() and c != "|"]
    events = [Ev(Fraction(i), Fraction(1), True, HIT_VELOCITY[c]) for i, c in enumerate(cells) if c in HIT_VELOCITY]
    return Timed(len(cells), events)


def _step_list(steps: Sequence[int]) -> Timed:
    if not steps:
        raise DslError("an empty list of steps plays nothing; use hush() or mute() to silence a track")
    if any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in steps):
        raise DslError(f"steps must be whole numbers from 0, not {list(steps)}")
    bars = max(steps) // STEPS_PER_BAR + 1
    return Timed(bars * STEPS_PER_BAR, [Ev(Fraction(s), Fraction(1), True) for s in sorted(steps)])


def _mini(text: str, bars: int) -> Timed:
    node = mini.parse(text)
    cycle_steps = STEPS_PER_BAR * bars
    events = []
    for cycle in range(node.period):
        for hap in mini.query(node, cycle):
            events.append(Ev((cycle + hap.begin) * cycle_steps, (hap.end - hap.begin) * cycle_steps, hap.value))
    return Timed(node.period * cycle_steps, events)


# ---- values per event ---------------------------------------------------------------------


def per_event(spec: Any, events: list[Ev], what: str, low: float, high: float, default: float) -> list[float]:
    """A number, a list cycled over the events, or mini-notation of numbers sampled at each event."""
    if spec is None:
        return [default] * len(events)
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        values = [float(spec)] * len(events)
    elif isinstance(spec, (list, tuple)):
        if not spec:
            raise DslError(f"{what}: the list is empty")
        values = [_number(v, what) for v in spec]
        values = [values[i % len(values)] for i in range(len(events))]
    elif isinstance(spec, str):
        pattern = _mini(spec, 1)
        values = [_number(_value_at(pattern, e.pos), what) for e in events]
    else:
        raise DslError(f"{what} is a number, a list of numbers or mini-notation, not {type(spec).__name__}")
    for v in values:
        if not low <= v <= high:
            raise DslError(f"{what} {v:g} is outside {low:g}..{high:g}")
    return values


def _number(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DslError(f"{what}: {value!r} is not a number") from None


def _value_at(pattern: Timed, pos: Fraction, rest: Any = 1.0) -> Any:
    """The value of the hap sounding at ``pos`` (the pattern repeats); ``rest`` where none does."""
    at = pos % pattern.length
    for e in pattern.events:
        if e.pos <= at < e.pos + e.dur:
            return e.value
    return rest


def note_values(source: Any, scale: str | None) -> Timed | list[list[float]]:
    """Notes as a timed pattern (mini-notation) or a list of chords (a list of names/numbers)."""
    convert = _note_converter(scale)
    if isinstance(source, str):
        pattern = _mini(source, 1)
        return Timed(pattern.length, [Ev(e.pos, e.dur, convert(e.value)) for e in pattern.events])
    if isinstance(source, (list, tuple)):
        if not source:
            raise DslError("notes: the list is empty")
        return [convert(v) if not isinstance(v, (list, tuple)) else [n for x in v for n in convert(x)] for v in source]
    if isinstance(source, (int, float)):
        return [convert(source)]
    raise DslError(f"notes are mini-notation, a list or a number, not {type(source).__name__}")


def _note_converter(scale: str | None):
    degrees = Scale(scale) if scale else None

    def convert(token: Any) -> list[float]:
        if isinstance(token, str) and is_chord(token):
            return chord_notes(token)
        if degrees is not None:
            return [degrees.degree(token)]
        return [note_number(token)]

    return convert


# ---- to IR events ---------------------------------------------------------------------------


def sound_word(word: Any, sound: str | None) -> dict[str, Any]:
    """The SuperDirt params one pattern word stands for."""
    if word is True or word in ("x", "X"):
        if sound is None:
            raise DslError("this pattern only has hits: give the track a sound, e.g. sound='bd'")
        return {}
    if sound is not None:
        try:
            return {"n": float(word)}
        except ValueError:
            raise DslError(
                f"the track's sound is {sound!r}; in its pattern write x for a hit or numbers for "
                f"sample n, not {word!r} (or leave sound out and name sounds in the pattern)"
            ) from None
    name, _, n = str(word).partition(":")
    if not name or name[0].isdigit():
        raise DslError(f"{word!r} is not a sound name; give sound=... for numbered samples")
    params: dict[str, Any] = {"s": name}
    if n:
        try:
            params["n"] = float(n)
        except ValueError:
            raise DslError(f"in {word!r}, the sample number after ':' must be a number") from None
    return params


def build_events(
    rhythm: Source,
    *,
    sound: str | None,
    notes: Any,
    scale: str | None,
    velocity: Any,
    gate: Any,
    bars: int,
    midi: bool,
) -> tuple[int, list[Event]]:
    """The track's IR events over its length in steps, and that length."""
    if bars < 1:
        raise DslError(f"bars must be at least 1, not {bars}")
    if rhythm is None and notes is None:
        raise DslError("a track needs a rhythm (its pattern) or notes")
    note_pattern = note_values(notes, scale) if notes is not None else None
    if rhythm is not None:
        base, chords = _notes_on_hits(timed(rhythm, bars), note_pattern)
    elif isinstance(note_pattern, Timed):
        base = Timed(note_pattern.length * bars, [Ev(e.pos * bars, e.dur * bars, True) for e in note_pattern.events])
        chords = [e.value for e in note_pattern.events]
    else:  # a list of notes without a rhythm: one per beat
        base = Timed(4 * len(note_pattern), [Ev(Fraction(4 * i), Fraction(4), True) for i in range(len(note_pattern))])
        chords = note_pattern
    if not base.events:
        raise DslError("the pattern has no events (only rests); use hush() or mute() to silence a track")
    velocities = per_event(velocity, base.events, "velocity", 0.0, 1.0, 1.0)
    gates = per_event(gate, base.events, "gate", 0.01, 16.0, 1.0)
    out: list[Event] = []
    for i, ev in enumerate(base.events):
        params = {} if midi else sound_word(ev.value, sound)
        if midi and ev.value not in (True, "x", "X"):
            raise DslError(f"a MIDI track's pattern has hits (x) only; give notes=... for pitches, not {ev.value!r}")
        step = math.floor(ev.pos)
        offset = float(ev.pos - step)
        length = float(ev.dur * Fraction(gates[i]))
        for note in (chords[i] if chords is not None else [None]):
            out.append(
                Event(
                    step=step,
                    offset=offset,
                    gate=max(length, 0.01),
                    velocity=velocities[i] * ev.velocity,
                    note=note,
                    params=params,
                )
            )
    return base.length, out


def _notes_on_hits(base: Timed, note_pattern: Any) -> tuple[Timed, list[list[float]] | None]:
    """The rhythm gives the hits, the notes their pitches.

    Mini-notation notes are sampled at each hit's time, as Tidal's ``struct`` does (a hit
    over a rest in the notes is dropped); a list of notes is taken in turn, hit by hit. The
    result is as long as it takes both to line up again.
    """
    if note_pattern is None:
        return base, None
    if isinstance(note_pattern, Timed):
        whole = _repeat(base, math.lcm(base.length, note_pattern.length))
        kept = [(e, _value_at(note_pattern, e.pos, None)) for e in whole.events]
        kept = [(e, chord) for e, chord in kept if chord is not None]
        return Timed(whole.length, [e for e, _ in kept]), [chord for _, chord in kept]
    hits = len(base.events)
    if hits == 0:
        return base, []
    times = len(note_pattern) // math.gcd(hits, len(note_pattern))
    whole = _repeat(base, base.length * times)
    return whole, [note_pattern[i % len(note_pattern)] for i in range(len(whole.events))]


def _repeat(pattern: Timed, length: int) -> Timed:
    copies = length // pattern.length
    events = [
        Ev(e.pos + k * pattern.length, e.dur, e.value, e.velocity) for k in range(copies) for e in pattern.events
    ]
    return Timed(length, events)

