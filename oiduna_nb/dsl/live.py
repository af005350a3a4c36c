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
``track()`` and ``midi()`` live in tracks.py.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..engine import Engine
from ..engine import commands as cmd
from ..engine.errors import EngineError
from ..engine.ir import EnvironmentUpdate, MixerLine, timing_from_name
from ..engine.state import PlayState
from .errors import DslError
from .tracks import TrackRef, midi, track  # noqa: F401  (words of this module too)
from .tracks import explain as _explain

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


def assets_dir() -> Any:
    """Where this notebook's uploaded samples are (None outside a notebook's instrument)."""
    if _engine_override is not None:
        return None
    from ..extension import current

    return current().settings.assets_dir


def _timing(at: str | None):
    at = at or defaults.at
    if at not in TIMINGS:
        raise DslError(f"at= is one of {', '.join(TIMINGS)}, not {at!r}")
    return timing_from_name(at)



# ---- tracks -------------------------------------------------------------------------------


def submit(command: cmd.Command, at: str | None) -> None:
    """Every word's one way into the engine: its command, on its timing."""
    try:
        engine().submit(command, _timing(at))
    except EngineError as exc:
        raise DslError(str(exc)) from None


def set_params(name: str, params: dict[str, Any], at: str | None = "now") -> None:
    """Change a track's own params (gain, pan, cutoff, ...) without touching what it plays."""
    submit(cmd.UpdateTrackParams(name, params), at)


def drop(name: str, at: str | None = None) -> None:
    """Remove a track (on the next bar by default)."""
    plan = engine().projected_state()
    if not plan.has_track(name):
        raise DslError(f"there is no track {name!r}; tracks: {', '.join(plan.track_ids()) or 'none'}")
    submit(cmd.DropTrack(name), at)


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
    submit(cmd.SetMixerLine(line), at)


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
    submit(cmd.Hush(), at)
    engine().midi_panic()


def play() -> None:
    engine().start()


def stop() -> None:
    engine().stop()


def pause() -> None:
    engine().pause()


_UNSET: Any = object()


def midi_clock(out: bool | None = None, follow: str | None | bool = _UNSET) -> str:
    """MIDI clock: ``out=True`` sends it (24 pulses a beat, start/stop) so hardware follows;
    ``follow="port"`` (or ``None``: a virtual input) takes the tempo and the transport from a
    clock coming in; ``follow=False`` stops following. Returns what it does now."""
    eng = engine()
    try:
        if out is not None:
            eng.set_midi_clock_out(out)
        if follow is False:
            eng.stop_following_midi_clock()
        elif follow is not _UNSET:
            eng.follow_midi_clock(follow)  # type: ignore[arg-type]
    except EngineError as exc:
        raise DslError(str(exc)) from None
    clock = eng.midi_status()["clock"]
    following = f"following the clock on {clock['in']}" if clock["in"] else "not following a clock"
    return f"MIDI clock out {'on' if clock['out'] else 'off'}; {following}"


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

    try:
        return render_offline(engine().projected_state(), path, bars=bars, assets_dir=assets_dir())
    except (RuntimeError, ValueError) as exc:
        raise DslError(str(exc)) from None


def state() -> PlayState:
    """The session as it will play once the waiting changes have applied."""
    return engine().projected_state()
