"""One step of the session, as sounds and notes: pure, no I/O.

``step_output`` is the single mapping from the IR to what the outputs play. Each
``Sound`` carries SuperDirt's ``/dirt/play`` arguments in SuperDirt's order (``s``,
``orbit``, ``cps``, ``cycle``, ``delta`` first, then ``gain``, ``pan``, ``n`` and the
rest) and the exact time it must sound at; each ``MidiNote`` its on and off times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .cycles import CycleCache, Hit
from .ir import Event, MixerLine, Track, TrackMidi
from .state import PlayState
from .timeline import NS_PER_SECOND, STEPS_PER_BAR, Timeline, step_length_ns

if TYPE_CHECKING:
    from .templates import Templates

MIDDLE_C = 60  # SuperDirt's note 0 is MIDI note 60
DEFAULT_MIDI_NOTE = 60
# SuperDirt's amplitude is amp × gain⁴: gain is the track's level as Tidal users know it,
# and dynamics (an event's velocity, a mixer line's gain) scale the linear amp, whose
# default is 0.4. Our own instruments read both the same way, so every output agrees.
DIRT_AMP = 0.4
# A mixer line's effects that say how much of a sound goes into an orbit's global effect:
# a send scales them by its amount (SuperDirt's reverb and delay read the orbit's dry bus
# times these, so a send cannot be a second copy of the sound, which would play dry twice).
SEND_LEVELS = ("room", "delay")
# Keys the engine computes; a track param of the same name does not override them.
ENGINE_KEYS = ("s", "orbit", "cps", "cycle", "delta")
# An event's own params may name its sound and its orbit (Tidal's # orbit), not its timing.
EVENT_FIXED_KEYS = ("cps", "cycle", "delta")


@dataclass(frozen=True, slots=True)
class Sound:
    time_ns: int
    track_id: str
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MidiNote:
    time_ns: int
    off_ns: int
    track_id: str
    channel: int
    note: int
    velocity: int


@dataclass(slots=True)
class StepOutput:
    tick: int
    step: int
    time_ns: int
    sounds: list[Sound] = field(default_factory=list)
    notes: list[MidiNote] = field(default_factory=list)
    prepared: Any = None  # the sequence events, encoded ahead (a PreparedStep), when there is one
    timeline: Timeline | None = None

    def track_ids(self) -> set[str]:
        """The tracks that sound at this step."""
        ids = {s.track_id for s in self.sounds} | {n.track_id for n in self.notes}
        return ids | set(self.prepared.track_ids) if self.prepared is not None else ids


def step_output(
    state: PlayState, timeline: Timeline, tick: int, step: int, cycles: CycleCache | None = None,
    templates: Templates | None = None,
) -> StepOutput:
    """Tick ``tick`` (at loop position ``step``): its sequences' events at ``step``, and its
    patterns' events in the 16th ``tick`` is of its cycle (``cycles`` has them rendered).
    With ``templates``, the sequences' OSC events come prepared (docs: templates.py)."""
    out = StepOutput(tick, step, timeline.time_ns(tick, step), timeline=timeline)
    if templates is not None:  # OSC events come prepared; only MIDI ones are worked out here
        out.prepared = templates.step(state, step)
        for track_id, event in state.events_at(step):
            if track_id in state.tracks_midi:
                _place(state, timeline, out, track_id, event)
    else:
        for track_id, event in state.events_at(step):
            _place(state, timeline, out, track_id, event)
    if state.sources:
        cycles = cycles if cycles is not None else CycleCache()
        cycle, in_cycle = divmod(tick, STEPS_PER_BAR)
        for track_id, source in state.sources.items():
            for hit in cycles.hits(source, cycle).get(in_cycle, ()):
                _place(state, timeline, out, track_id, hit)
    return out


def _place(state: PlayState, timeline: Timeline, out: StepOutput, track_id: str, event: Any) -> None:
    if track_id not in state.audible:
        return
    if track_id in state.tracks:
        track = state.tracks[track_id]
        out.sounds.extend(track_sounds(state, timeline, out.tick, out.step, out.time_ns, track, event))
    elif track_id in state.tracks_midi:
        note = midi_note(state, timeline, out.tick, out.step, state.tracks_midi[track_id], event)
        if note is not None:
            out.notes.append(note)


def cps(bpm: float) -> float:
    """SuperDirt cycles per second: one cycle is one bar of 16 steps."""
    return bpm / 60.0 / 4.0


def dirt_args(
    track: Track,
    *,
    bpm: float,
    cycle: float,
    delta: float,
    velocity: float,
    note: float | None,
    line: MixerLine | None = None,
    sends: list[tuple[MixerLine, float]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``/dirt/play`` arguments for one event of ``track`` (also used by realtime triggers).

    ``line`` is the mixer line the track plays through (its orbit, level and effects);
    ``sends`` are (line, amount) pairs whose effects apply to this event on its own orbit.
    """
    params = track.params.model_dump(exclude_none=True)
    args: dict[str, Any] = {
        "s": params.pop("s"),
        "orbit": line.orbit if line else params["orbit"],
        "cps": cps(bpm),
        "cycle": cycle,
        "delta": delta,
        "gain": params.pop("gain"),
        "pan": params.pop("pan"),
    }
    params.pop("orbit")
    args.update(params)  # n and any other SuperDirt params, in their given order
    for table, fixed in ((track.fx, ENGINE_KEYS), (track.track_fx, ENGINE_KEYS)):
        for key, value in table.items():
            if key not in fixed:
                args[key] = value
    level = velocity * (line.gain if line else 1.0)
    if line is not None:
        args.update({k: v for k, v in line.fx.items() if k not in ENGINE_KEYS})
        if line.pan is not None:
            args["pan"] = line.pan
    for target, amount in sends or ():
        for key, value in target.fx.items():
            if key in ENGINE_KEYS:
                continue
            if key in SEND_LEVELS and isinstance(value, (int, float)):
                sent = float(value) * amount * target.gain
                args[key] = min(1.0, float(args.get(key, 0.0)) + sent)
            else:
                args[key] = value
    for key, value in (extra or {}).items():
        if key == "gain" and isinstance(value, (int, float)):
            args["gain"] = float(args["gain"]) * float(value)  # the event's gain under the track's fader
        elif key not in EVENT_FIXED_KEYS:
            args[key] = value
    if level != 1.0 or "amp" in args:
        args["amp"] = float(args.get("amp", DIRT_AMP)) * level
    if note is not None:
        args["note"] = note - MIDDLE_C
    return args


def sends_of(state: PlayState, track: Track) -> list[tuple[MixerLine, float]]:
    """The track's sends to lines that exist, sound and receive something."""
    out = []
    for send in track.sends:
        target = state.mixer_lines.get(send.mixer_line)
        if target is not None and not target.mute and send.amount > 0:
            out.append((target, send.amount))
    return out


def event_args(state: PlayState, track: Track, event: Event | Hit, cycle: float) -> dict[str, Any]:
    """``/dirt/play`` arguments of one event of ``track`` in ``state``."""
    env = state.environment
    gate = event.gate if event.gate is not None else env.default_gate
    track_id = track.meta.track_id
    return dirt_args(
        track,
        bpm=env.bpm,
        cycle=cycle,
        delta=round(step_length_ns(env.bpm) * Fraction(gate)) / NS_PER_SECOND,
        velocity=event.velocity,
        note=event.note,
        line=state.line_of.get(track_id),
        sends=sends_of(state, track),
        extra=event.params,
    )


def track_sounds(
    state: PlayState, timeline: Timeline, tick: int, step: int, step_time_ns: int, track: Track,
    event: Event | Hit,
) -> list[Sound]:
    track_id = track.meta.track_id
    line = state.line_of.get(track_id)
    if line is not None and line.mute:
        return []
    time_ns = timeline.offset_ns(tick, step, event.offset) if event.offset else step_time_ns
    cycle = (tick + event.offset) / STEPS_PER_BAR
    return [Sound(time_ns, track_id, event_args(state, track, event, cycle))]


def _pattern_note(params: dict[str, Any]) -> float:
    """A pattern's pitch as a MIDI note: Tidal's ``note`` (or ``n``) counts semitones from
    c5, MIDI note 60."""
    for key in ("note", "n"):
        if key in params:
            return MIDDLE_C + float(params[key])
    return DEFAULT_MIDI_NOTE


def clamp_midi(value: float) -> int:
    return max(0, min(127, int(round(value))))


def midi_note(
    state: PlayState, timeline: Timeline, tick: int, step: int, track: TrackMidi, event: Event | Hit
) -> MidiNote | None:
    params = event.params
    velocity = clamp_midi(event.velocity * float(params.get("velocity", 1.0)) * track.velocity)
    if velocity == 0:  # a note-on with velocity 0 means note-off: nothing to play
        return None
    gate = event.gate if event.gate is not None else state.environment.default_gate
    gate *= float(params.get("legato", 1.0))
    on = timeline.offset_ns(tick, step, event.offset)
    base = event.note if event.note is not None else _pattern_note(params)
    return MidiNote(
        time_ns=on,
        off_ns=on + timeline.duration_ns(gate),
        track_id=track.track_id,
        channel=track.channel,
        note=clamp_midi(base + track.transpose),
        velocity=velocity,
    )
