"""``track()`` and ``midi()``: a track plays a Pattern (Tidal's language, oiduna_nb.pattern),
or one of the earlier forms (step strings, lists of steps, ``notes=``), which play as the
events of their own length repeated for ever. Either way the engine asks the track for each
cycle it is about to play, so nothing grows a shared loop.

    track("hh", s("hh*8").gain(sine.range(0.5, 1)))
    track("bass", note("<c a f e>").s("superpiano"), legato=0.5, cutoff="<500 2000>")
    track("kick", "x... x... x... x...", sound="bd")      # a step string, as before
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import ValidationError

from ..engine import commands as cmd
from ..engine.cycles import Hit, LoopSource, PatternSource, params_of
from ..engine.ir import Track, TrackMidi
from ..engine.limits import check_params
from ..engine.timeline import STEPS_PER_BAR
from ..pattern import Pattern, s
from ..pattern.controls import union
from ..pattern.mini import parse
from .errors import DslError
from .patterns import Source, build_events, is_step_string

CHECKED_CYCLES = 4  # a new pattern is tried on its first cycles before it is sent
# What a Pattern writes instead of each option of the earlier forms (docs/dsl.md's table).
IN_A_PATTERN = {"sound": '.s("superpiano")', "notes": 'note("c e g")', "scale": 'the notes, e.g. note("c ef g")',
                "velocity": '.gain("1 0.8")', "gate": ".legato(0.5)", "bars": ".slow(2)"}


class TrackRef:
    """What ``track()`` and ``midi()`` return: a handle to the track in the engine. In a
    notebook a pattern track shows as a piano roll of its first cycles."""

    def __init__(self, name: str, kind: str, pattern: Pattern | None = None, steps: int = 0, events: int = 0) -> None:
        self.name, self.kind, self.pattern = name, kind, pattern
        self.steps, self.events = steps, events

    def __repr__(self) -> str:
        if self.pattern is not None:
            first = [e for e in self.pattern.query(0, 1) if e.whole is not None and e.has_onset()]
            return f"<{self.kind} track {self.name!r}: a pattern, {len(first)} events in its first cycle>"
        bars = self.steps / STEPS_PER_BAR
        length = f"{bars:g} bar{'s' if bars != 1 else ''}" if bars >= 1 else f"{self.steps} steps"
        return f"<{self.kind} track {self.name!r}: {self.events} events over {length}>"

    def _repr_svg_(self) -> str | None:
        return self.pattern._repr_svg_() if self.pattern is not None else None

    def _words(self):
        from . import live

        return live

    def mute(self) -> "TrackRef":
        self._words().mute(self.name)
        return self

    def unmute(self) -> "TrackRef":
        self._words().unmute(self.name)
        return self

    def solo(self) -> "TrackRef":
        self._words().solo(self.name)
        return self

    def unsolo(self) -> "TrackRef":
        self._words().unsolo(self.name)
        return self

    def set(self, at: str | None = "now", **params: Any) -> "TrackRef":
        """Change the track's own params (gain, pan, cutoff, ...) without touching its pattern."""
        self._words().set_params(self.name, params, at)
        return self


# ---- what a track plays ---------------------------------------------------------------------


def is_pattern_form(pattern: Any, **older: Any) -> bool:
    """A Pattern, or plain mini-notation with none of the earlier forms' options."""
    if isinstance(pattern, Pattern):
        if any(v is not None for v in older.values()):
            named = [k for k, v in older.items() if v is not None]
            instead = "; ".join(f"{k}=... becomes {IN_A_PATTERN[k]}" for k in named)
            raise DslError(f"with a Pattern, write {', '.join(named)} in the pattern itself: {instead} "
                           "(those options are for the earlier step-string forms)")
        return True
    return isinstance(pattern, str) and all(v is None for v in older.values()) and not is_step_string(pattern)


def param_pattern(name: str, value: Any) -> Pattern:
    """``{name: value}`` as a pattern: Tidal's ``# name value`` for any SuperDirt param."""
    if isinstance(value, Pattern):
        return value.fmap(lambda v: {name: float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v})
    try:
        numbers = parse(value, "float")
        return numbers.fmap(lambda v: {name: float(v)})
    except DslError:
        return parse(value, "word").fmap(lambda v: {name: v})


def with_params(pattern: Pattern, params: dict[str, Any]) -> Pattern:
    for name, value in params.items():
        pattern = pattern.app_left(param_pattern(name, value), union)
    return pattern


def checked(pattern: Pattern, need_sound: bool, names: dict[str, set] | None = None) -> str | None:
    """Try the first cycles (a mistake shows here, in the cell, not later on the clock) and
    return the first sound the pattern names; ``names`` collects its sounds and params."""
    first_sound = None
    for cycle in range(CHECKED_CYCLES):
        try:
            events = pattern.query(cycle, cycle + 1)
        except DslError:
            raise
        except Exception as exc:
            raise DslError(f"the pattern fails in cycle {cycle}: {exc!r}") from None
        for event in events:
            if event.whole is None or not event.has_onset():
                continue
            try:
                params = params_of(event.value)
                check_params(params)
            except (TypeError, ValueError) as exc:
                raise DslError(f"in cycle {cycle}: {exc}") from None
            first_sound = first_sound or params.get("s")
            if names is not None:
                names["params"].update(params)
                if isinstance(params.get("s"), str):
                    names["sounds"].add(params["s"])
    if need_sound and first_sound is None:
        raise DslError('the pattern names no sound: add one, e.g. note("c e g").s("superpiano") or s="superpiano"')
    return first_sound


def warn_unknown(sounds: set[str], params: set[str]) -> None:
    """Say (not refuse: SuperDirt may have more) which sounds and params nobody knows."""
    from . import live
    from .names import unknown_names

    for line in unknown_names(sounds, params, live.assets_dir()):
        print(f"oiduna_nb: {line}", file=sys.stderr, flush=True)


def loop_source(events: list, length: int) -> LoopSource:
    """The earlier forms' events over ``length`` steps, as a source repeating them."""
    hits = [(e.step, Hit(e.step % STEPS_PER_BAR, e.offset, e.gate or 1.0, dict(e.params), e.velocity, e.note))
            for e in events]
    return LoopSource(hits, length, text=f"{len(events)} events over {length} steps")


def explain(exc: ValidationError) -> DslError:
    """A model's validation errors as one plain DslError."""
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}" if where else err["msg"])
    return DslError("; ".join(parts))


# ---- the words --------------------------------------------------------------------------------


def track(
    name: str,
    pattern: Source | Pattern = None,
    *,
    sound: str | None = None,
    notes: Any = None,
    scale: str | None = None,
    velocity: Any = None,
    gate: Any = None,
    bars: int | None = None,
    sends: dict[str, float] | None = None,
    at: str | None = None,
    **params: Any,
) -> TrackRef:
    """A SuperDirt track. ``pattern`` is a Pattern (or mini-notation of sounds); params given
    as numbers are the track's own (the mixer moves them), given as strings (mini-notation) or
    Patterns they are patterned (Tidal's ``#``). ``sends={"line": amount}`` to mixer lines."""
    from . import live

    older = {"sound": sound, "notes": notes, "scale": scale, "velocity": velocity, "gate": gate, "bars": bars}
    own = {k: v for k, v in params.items() if not isinstance(v, (str, Pattern))}
    names: dict[str, set] = {"sounds": set(), "params": set(own)}
    if is_pattern_form(pattern, **older):
        played = s(pattern) if isinstance(pattern, str) else pattern
        played = with_params(played, {k: v for k, v in params.items() if k not in own})
        first_sound = checked(played, need_sound="s" not in own, names=names) or own.get("s")
        source = PatternSource(played, text=pattern if isinstance(pattern, str) else repr(played))
        ref = TrackRef(name, "osc", pattern=played)
    else:
        length, events = build_events(pattern, sound=sound, notes=notes, scale=scale, velocity=velocity,
                                      gate=gate, bars=bars or 1, midi=False)
        own = dict(params)  # the earlier forms keep every param as the track's own
        first_sound = sound or next((e.params["s"] for e in events if "s" in e.params), None)
        source = loop_source(events, length)
        ref = TrackRef(name, "osc", steps=length, events=len(events))
        names["sounds"] |= {sound} if sound else {e.params["s"] for e in events if "s" in e.params}
        names["params"] |= set(params)
    try:
        ir = Track.model_validate({
            "meta": {"track_id": name},
            "params": {**own, "s": first_sound},
            "sends": [{"mixer_line": k, "amount": v} for k, v in (sends or {}).items()],
        })
    except ValidationError as exc:
        raise explain(exc) from None
    live.submit(cmd.ReplaceTrack(ir, source=source), at)
    warn_unknown(names["sounds"], names["params"])
    return ref


def midi(
    name: str,
    pattern: Source | Pattern = None,
    *,
    notes: Any = None,
    scale: str | None = None,
    channel: int = 0,
    velocity: Any = None,
    gate: Any = None,
    max_velocity: int = 127,
    transpose: int = 0,
    bars: int | None = None,
    at: str | None = None,
) -> TrackRef:
    """A MIDI track on ``channel`` (0-15). A Pattern gives notes as Tidal does (``note`` or
    ``n``: semitones from c5, MIDI note 60; ``velocity`` 0..1; ``legato``); the earlier forms
    take ``notes=`` as before. Event velocities scale ``max_velocity``."""
    from . import live

    older = {"notes": notes, "scale": scale, "velocity": velocity, "gate": gate, "bars": bars}
    if isinstance(pattern, Pattern) and is_pattern_form(pattern, **older):
        checked(pattern, need_sound=False)
        source: PatternSource | LoopSource = PatternSource(pattern, text=repr(pattern))
        ref = TrackRef(name, "midi", pattern=pattern)
    else:
        length, events = build_events(pattern, sound=None, notes=notes, scale=scale, velocity=velocity, gate=gate,
                                      bars=bars or 1, midi=True)
        source = loop_source(events, length)
        ref = TrackRef(name, "midi", steps=length, events=len(events))
    try:
        ir = TrackMidi(track_id=name, channel=channel, velocity=max_velocity, transpose=transpose)
    except ValidationError as exc:
        raise explain(exc) from None
    live.submit(cmd.ReplaceTrack(ir, source=source), at)
    return ref

