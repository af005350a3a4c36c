"""The live-coding words a notebook cell uses. Each compiles to the session IR and goes
through the engine's own commands, the same path as the HTTP API, so every client sees it.

    track("kick", "x... x... x... x...", sound="bd")
    track("drums", "bd*2 [~ sn] bd sn:3")
    track("bass", "x ~ x x", sound="superpiano", notes="<c2 eb2> g1", gate=0.5)
    midi("keys", notes="<c'maj7 a3'min7>", channel=0, bars=2)
    tempo(128); swing(0.1); mute("kick"); solo("bass"); hush()
    link(True)   # play with others: the Ableton Link session's tempo and bars

A re-run cell replaces its track on the next bar (``at=``: now, beat, bar, seq). A mistake
raises ``DslError`` with a plain message and changes nothing: the music keeps playing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ValidationError

from ..engine import Engine
from ..engine import commands as cmd
from ..engine import state as st
from ..engine.errors import EngineError
from ..engine.ir import (
    MAX_LOOP_STEPS,
    EnvironmentUpdate,
    Event,
    EventSequence,
    MixerLine,
    Track,
    TrackMidi,
    timing_from_name,
)
from ..engine.state import PlayState
from .errors import DslError
from .patterns import STEPS_PER_BAR, Source, build_events, loop_length, tile

TIMINGS = ("now", "beat", "bar", "seq")


class Defaults:
    """Settings of the DSL: ``defaults.at = "beat"`` makes re-runs land on the next beat."""

    at = "bar"


defaults = Defaults()
_engine_override: Engine | None = None


def use(engine: Engine | None) -> None:
    """Drive ``engine`` instead of the notebook's (for scripts and tests)."""
    global _engine_override
    _engine_override = engine


def engine() -> Engine:
    if _engine_override is not None:
        return _engine_override
    from ..extension import current

    return current().engine


def _timing(at: str | None):
    at = at or defaults.at
    if at not in TIMINGS:
        raise DslError(f"at= is one of {', '.join(TIMINGS)}, not {at!r}")
    return timing_from_name(at)


def _explain(exc: ValidationError) -> DslError:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}" if where else err["msg"])
    return DslError("; ".join(parts))


# ---- tracks -------------------------------------------------------------------------------


@dataclass
class TrackRef:
    """What ``track()`` and ``midi()`` return: a handle to the track in the engine."""

    name: str
    kind: str
    steps: int
    events: int

    def __repr__(self) -> str:
        bars = self.steps / STEPS_PER_BAR
        length = f"{bars:g} bar{'s' if bars != 1 else ''}" if bars >= 1 else f"{self.steps} steps"
        return f"<{self.kind} track {self.name!r}: {self.events} events over {length}>"

    def mute(self) -> "TrackRef":
        mute(self.name)
        return self

    def unmute(self) -> "TrackRef":
        unmute(self.name)
        return self

    def solo(self) -> "TrackRef":
        solo(self.name)
        return self

    def unsolo(self) -> "TrackRef":
        unsolo(self.name)
        return self

    def set(self, at: str | None = "now", **params: Any) -> "TrackRef":
        """Change SuperDirt params (gain, pan, cutoff, ...) without touching the pattern."""
        try:
            engine().update_track_params(self.name, params, _timing(at))
        except EngineError as exc:
            raise DslError(str(exc)) from None
        return self


def track(
    name: str,
    pattern: Source = None,
    *,
    sound: str | None = None,
    notes: Any = None,
    scale: str | None = None,
    velocity: Any = None,
    gate: Any = None,
    bars: int = 1,
    sends: dict[str, float] | None = None,
    at: str | None = None,
    **params: Any,
) -> TrackRef:
    """A SuperDirt track: its rhythm or notes, its sound, any SuperDirt params, and
    ``sends={"line": amount}`` to mixer lines."""
    length, events = build_events(
        pattern, sound=sound, notes=notes, scale=scale, velocity=velocity, gate=gate, bars=bars, midi=False
    )
    first_sound = sound or next((e.params["s"] for e in events if "s" in e.params), None)
    try:
        ir = Track.model_validate(
            {
                "meta": {"track_id": name},
                "params": {"s": first_sound, **params},
                "sends": [{"mixer_line": k, "amount": v} for k, v in (sends or {}).items()],
            }
        )
    except ValidationError as exc:
        raise _explain(exc) from None
    _place(name, ir, None, length, events, at)
    return TrackRef(name, "osc", length, len(events))


def midi(
    name: str,
    pattern: Source = None,
    *,
    notes: Any = None,
    scale: str | None = None,
    channel: int = 0,
    velocity: Any = None,
    gate: Any = None,
    max_velocity: int = 127,
    transpose: int = 0,
    bars: int = 1,
    at: str | None = None,
) -> TrackRef:
    """A MIDI track: notes on ``channel`` (0-15), event velocity scaling ``max_velocity``."""
    length, events = build_events(
        pattern, sound=None, notes=notes, scale=scale, velocity=velocity, gate=gate, bars=bars, midi=True
    )
    try:
        ir = TrackMidi(track_id=name, channel=channel, velocity=max_velocity, transpose=transpose)
    except ValidationError as exc:
        raise _explain(exc) from None
    _place(name, None, ir, length, events, at)
    return TrackRef(name, "midi", length, len(events))


@dataclass(frozen=True)
class PlaceTrack(cmd.Command):
    """A DSL track: its events over its own length, repeated to fill the loop. A length that
    does not divide the loop grows the loop (every other track repeated to fill it), worked
    out on the state as it is when the command lands."""

    type: ClassVar[str] = "track"
    track: Track | TrackMidi
    events: tuple[Event, ...]
    length: int

    @property
    def track_id(self) -> str | None:
        return self.track.meta.track_id if isinstance(self.track, Track) else self.track.track_id

    def apply(self, state: PlayState) -> PlayState:
        old = state.environment.loop_steps
        loop = loop_length(old, self.length, MAX_LOOP_STEPS)
        if loop != old:
            sequences = {
                tid: seq.model_copy(update={"events": tile(seq.events, old, loop)})
                for tid, seq in state.sequences.items()
            }
            environment = state.environment.model_copy(update={"loop_steps": loop})
            state = state.replace(environment=environment, sequences=sequences)
        name = self.track_id
        sequence = EventSequence.model_construct(track_id=name, events=tile(list(self.events), self.length, loop))
        return st.replace_track(state, self.track, sequence)


def _place(name: str, osc: Track | None, midi_ir: TrackMidi | None, length: int, events, at: str | None) -> None:
    track = osc if osc is not None else midi_ir
    _submit(PlaceTrack(track, tuple(events), length), at)


def _submit(command: cmd.Command, at: str | None) -> None:
    try:
        engine().submit(command, _timing(at))
    except EngineError as exc:
        raise DslError(str(exc)) from None


def drop(name: str, at: str | None = None) -> None:
    """Remove a track (on the next bar by default)."""
    plan = engine().projected_state()
    if not plan.has_track(name):
        raise DslError(f"there is no track {name!r}; tracks: {', '.join(plan.track_ids()) or 'none'}")
    _submit(cmd.DropTrack(name), at)


def mixer_line(name: str, orbit: int, gain: float = 1.0, include: list[str] | None = None,
               at: str | None = "now", **fx: Any) -> None:
    """A bus on SuperDirt orbit ``orbit`` with its own effects (room, size, delaytime, ...).

    Tracks send to it with ``track(..., sends={name: amount})``; tracks in ``include`` play
    through it.
    """
    try:
        line = MixerLine(name=name, orbit=orbit, gain=gain, include=include or [], fx=fx)
    except ValidationError as exc:
        raise _explain(exc) from None
    _submit(cmd.SetMixerLine(line), at)


# ---- the whole ----------------------------------------------------------------------------------


def tempo(bpm: float | None = None, at: str | None = None) -> float:
    """The tempo; with ``bpm``, change it (on the next bar by default)."""
    return _environment("bpm", bpm, at)


def swing(amount: float | None = None, at: str | None = None) -> float:
    """The swing (0 <= amount < 1: odd 16ths delayed by that much of a step)."""
    return _environment("swing", amount, at)


def _environment(key: str, value: float | None, at: str | None) -> float:
    eng = engine()
    if value is not None:
        try:
            EnvironmentUpdate.model_validate({key: value})
        except ValidationError as exc:
            raise _explain(exc) from None
        eng.update_environment({key: value}, _timing(at))
        return value
    return getattr(eng.projected_state().environment, key)


def _each(names: tuple[str, ...], action) -> None:
    for name in names:
        try:
            action(name)
        except EngineError as exc:
            raise DslError(str(exc)) from None


def mute(*names: str) -> None:
    _each(names, lambda n: engine().set_mute(n, True))


def unmute(*names: str) -> None:
    _each(names, lambda n: engine().set_mute(n, False))


def solo(*names: str) -> None:
    _each(names, lambda n: engine().set_solo(n, True))


def unsolo(*names: str) -> None:
    _each(names, lambda n: engine().set_solo(n, False))


def hush(at: str | None = "now") -> None:
    """Silence every track (their patterns are emptied; re-run a cell to bring one back)."""
    _submit(cmd.Hush(), at)
    engine().midi_panic()


def play() -> None:
    engine().start()


def stop() -> None:
    engine().stop()


def pause() -> None:
    engine().pause()


def capture(name: str) -> None:
    """Keep what plays now as scene ``name``."""
    engine().capture_scene(name)


def scene(name: str, at: str | None = None) -> None:
    """Switch to scene ``name`` (on the next bar by default)."""
    try:
        engine().activate_scene(name, _timing(at))
    except EngineError as exc:
        raise DslError(f"{exc}; scenes: {', '.join(engine().state.scenes) or 'none yet (capture one)'}") from None


def status() -> dict[str, Any]:
    return engine().status()


def link(on: bool | None = None, *, start_stop: bool | None = None) -> dict[str, Any]:
    """Ableton Link: ``link(True)`` joins the session on the network (its tempo wins, our bars
    line up with its bars), ``link(False)`` leaves it, ``link()`` says how it is (peers,
    tempo, beat, phase). ``start_stop=True`` also starts and stops with the session."""
    sync = engine().link
    try:
        if start_stop is not None:
            sync.set_start_stop_sync(start_stop)
        if on is True:
            sync.enable()
        elif on is False:
            sync.disable()
    except EngineError as exc:
        raise DslError(str(exc)) from None
    return sync.status()


def render(path: str = "oiduna-render.wav", bars: int = 4) -> Any:
    """What plays, rendered offline to a WAV file; in a notebook the result is a player."""
    from ..sound import render as render_offline

    assets = None
    if _engine_override is None:
        from ..extension import current

        assets = current().settings.assets_dir
    try:
        return render_offline(engine().projected_state(), path, bars=bars, assets_dir=assets)
    except (RuntimeError, ValueError) as exc:
        raise DslError(str(exc)) from None


def state() -> PlayState:
    """The session as it will play once the waiting changes have applied."""
    return engine().projected_state()
