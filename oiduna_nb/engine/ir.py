"""The session IR: pydantic models of the seed's ``POST /playback/session`` body.

These models are the one definition of what a session is. The HTTP API validates
with them (so their errors become the seed's 422 body) and the DSL compiles to them.
Unknown SuperDirt parameters in ``params``/``fx``/``track_fx`` pass through, but must
be scalars, because they travel as OSC arguments.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .limits import MAX_META_DEPTH, check_id, check_params, json_depth_error

# A value that can travel as an OSC argument.
Scalar = Union[bool, int, float, str]

MAX_LOOP_STEPS = 4096
MAX_TRACKS = 512
MAX_EVENTS = 65536  # per sequence
TIMING_UNITS = ("beat", "bar", "seq")


def split_sound(params: dict[str, Any]) -> dict[str, Any]:
    """``s: "bd:3"`` means sample 3 of bank bd, as in Tidal: SuperDirt knows no sound "bd:3"."""
    sound = params.get("s")
    if isinstance(sound, str) and ":" in sound:
        name, _, number = sound.partition(":")
        try:
            index = float(number)
        except ValueError:
            return params
        if name:
            params = {**params, "s": name}
            params.setdefault("n", index)
    return params


def _valid_params(params: dict[str, Any]) -> dict[str, Any]:
    check_params(params)
    return split_sound(params)


def _valid_meta(value: Any) -> Any:
    problem = json_depth_error(value, MAX_META_DEPTH)
    if problem:
        raise ValueError(f"metadata {problem}")
    return value


Id = Annotated[str, AfterValidator(check_id)]
Params = Annotated[dict[str, Scalar], AfterValidator(_valid_params)]
Meta = Annotated[dict[str, Any], AfterValidator(_valid_meta)]


class _Strict(BaseModel):
    """Structural models refuse unknown keys so that a typo is a 422, not silence."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Environment(BaseModel):
    """Global playing environment. Extra keys (scale, chords, ...) are kept as metadata."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounded_extras(self) -> "Environment":
        _valid_meta(self.__pydantic_extra__ or {})
        return self

    bpm: float = Field(120.0, gt=0, le=999, description="Tempo in beats (quarter notes) per minute")
    default_gate: float = Field(
        1.0, gt=0, le=MAX_LOOP_STEPS, description="Event length in steps when an event gives no gate"
    )
    swing: float = Field(
        0.0, ge=0, lt=1, description="Delay of odd 16ths, as a fraction of a step"
    )
    loop_steps: int = Field(256, ge=1, le=MAX_LOOP_STEPS, description="Loop length in 16th-note steps")


class EnvironmentUpdate(BaseModel):
    """Body of ``PATCH /playback/environment``: only the given keys change."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounded_extras(self) -> "EnvironmentUpdate":
        _valid_meta(self.__pydantic_extra__ or {})
        return self

    bpm: float | None = Field(None, gt=0, le=999)
    default_gate: float | None = Field(None, gt=0, le=MAX_LOOP_STEPS)
    swing: float | None = Field(None, ge=0, lt=1)
    loop_steps: int | None = Field(None, ge=1, le=MAX_LOOP_STEPS)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class TrackMeta(_Strict):
    track_id: Id
    mute: bool = False
    solo: bool = False


class _DirtParams(BaseModel):
    """SuperDirt params: known ones typed, any other scalar passed through (within the limits),
    ``s: "bd:3"`` split as Tidal does."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    __pydantic_extra__: dict[str, Scalar]

    @model_validator(mode="before")
    @classmethod
    def _split_sound(cls, data: Any) -> Any:
        return split_sound(data) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _bounded_extras(self) -> "_DirtParams":
        check_params(self.model_dump(exclude_none=True, exclude_unset=isinstance(self, ParamsUpdate)))
        return self


class TrackParams(_DirtParams):
    """SuperDirt parameters of a track. Known ones are checked; any other scalar passes through."""

    s: str = Field(min_length=1, max_length=256, description="SuperDirt sound (sample bank or synth name); "
                   "'bd:3' means s 'bd', n 3")
    gain: float = Field(1.0, ge=0, le=4)
    pan: float = Field(0.5, ge=0, le=1)
    orbit: int = Field(0, ge=0, le=63)
    n: float | None = Field(None, ge=-1024, le=1024, description="Sample number within the bank")


class ParamsUpdate(_DirtParams):
    """Body of ``PATCH /playback/tracks/{id}/params``: any SuperDirt scalars; known ones checked."""

    s: str | None = Field(None, min_length=1, max_length=256)
    gain: float | None = Field(None, ge=0, le=4)
    pan: float | None = Field(None, ge=0, le=1)
    orbit: int | None = Field(None, ge=0, le=63)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class Send(_Strict):
    mixer_line: Id
    amount: float = Field(1.0, ge=0, le=1)


class Track(_Strict):
    meta: TrackMeta
    params: TrackParams
    fx: Params = Field(default_factory=dict)
    track_fx: Params = Field(default_factory=dict)
    sends: list[Send] = Field(default_factory=list, max_length=64)
    # Produced by the MARS compiler; kept so its sessions load, not interpreted (yet).
    modulations: Meta = Field(default_factory=dict)


class TrackMidi(_Strict):
    track_id: Id
    channel: int = Field(0, ge=0, le=15)
    velocity: int = Field(127, ge=0, le=127, description="Velocity of an event with velocity 1.0")
    transpose: int = Field(0, ge=-127, le=127)
    mute: bool = False
    solo: bool = False


class MixerLine(_Strict):
    """A bus: tracks it includes play on its orbit; sends add an event on its orbit."""

    name: Id
    orbit: int = Field(0, ge=0, le=63)
    gain: float = Field(1.0, ge=0, le=4)
    pan: float | None = Field(None, ge=0, le=1)
    mute: bool = False
    include: list[Id] = Field(default_factory=list, max_length=MAX_TRACKS)
    fx: Params = Field(default_factory=dict)


class Event(_Strict):
    step: int = Field(ge=0, lt=MAX_LOOP_STEPS)
    velocity: float = Field(1.0, ge=0, le=1)
    gate: float | None = Field(None, gt=0, le=MAX_LOOP_STEPS, description="Length in steps")
    note: float | None = Field(None, ge=0, le=127, description="MIDI note number")
    offset: float = Field(0.0, ge=0, lt=1, description="Start within the step, as a fraction of it")
    params: Params = Field(default_factory=dict, description="Per-event SuperDirt params")


VALIDATE_CHUNK = 256  # events validated per call: between two, other threads get the GIL


class EventSequence(_Strict):
    track_id: Id
    events: list[Event] = Field(default_factory=list, max_length=MAX_EVENTS)

    @field_validator("events", mode="wrap")
    @classmethod
    def _in_chunks(cls, value: Any, handler: Any) -> Any:
        """A long list validated a chunk at a time: pydantic holds the GIL for a whole call, and
        the metronome must never wait behind tens of thousands of events being checked."""
        if not isinstance(value, list) or len(value) <= VALIDATE_CHUNK:
            return handler(value)
        if len(value) > MAX_EVENTS:
            return handler(value)  # refused as a whole, with pydantic's own message
        out: list = []
        for start in range(0, len(value), VALIDATE_CHUNK):
            try:
                out.extend(handler(value[start:start + VALIDATE_CHUNK]))
            except ValidationError as exc:  # keep each error's place in the whole list
                raise ValidationError.from_exception_data(exc.title, [
                    {**err, "loc": (err["loc"][0] + start, *err["loc"][1:]) if err["loc"] and isinstance(err["loc"][0], int) else err["loc"]}
                    for err in exc.errors()
                ]) from None
        return out


class Scene(_Strict):
    """A snapshot to switch to: whatever it carries replaces the playing one."""

    name: Id | None = None
    environment: Environment | None = None
    tracks: dict[str, Track] | None = None
    tracks_midi: dict[str, TrackMidi] | None = None
    sequences: dict[str, EventSequence] | None = None


TimingName = Literal["now", "beat", "bar", "seq"]


class ApplyCommand(_Strict):
    timing: TimingName = "bar"
    track_ids: list[Id] = Field(default_factory=list, description="Only these tracks change; empty: all")
    scene_name: Id | None = None


class Session(_Strict):
    environment: Environment = Field(default_factory=Environment)
    tracks: dict[str, Track] = Field(default_factory=dict, max_length=MAX_TRACKS)
    tracks_midi: dict[str, TrackMidi] = Field(default_factory=dict, max_length=MAX_TRACKS)
    mixer_lines: dict[str, MixerLine] = Field(default_factory=dict, max_length=64)
    sequences: dict[str, EventSequence] = Field(default_factory=dict, max_length=2 * MAX_TRACKS)
    scenes: dict[str, Scene] = Field(default_factory=dict, max_length=256)
    apply: ApplyCommand | None = None

    @model_validator(mode="after")
    def _check_references(self) -> "Session":
        check_tracks(self.tracks, self.tracks_midi)
        for key, line in self.mixer_lines.items():
            if line.name != key:
                raise ValueError(f"mixer line key {key!r} differs from its name {line.name!r}")
        for key in self.scenes:
            check_id(key, "scene name")
        for track_id, track in self.tracks.items():
            for send in track.sends:
                if send.mixer_line not in self.mixer_lines:
                    raise ValueError(
                        f"track {track_id!r} sends to unknown mixer line {send.mixer_line!r}"
                    )
        for name, line in self.mixer_lines.items():
            unknown = [t for t in line.include if t not in self.tracks]
            if unknown:
                raise ValueError(f"mixer line {name!r} includes unknown tracks {unknown}")
        check_sequences(self.sequences, self.tracks, self.tracks_midi, self.environment.loop_steps)
        for name, scene in self.scenes.items():
            check_scene(name, scene, self)
        if self.apply and self.apply.scene_name and self.apply.scene_name not in self.scenes:
            raise ValueError(f"apply.scene_name {self.apply.scene_name!r} is not one of the scenes")
        return self


def check_tracks(tracks: dict[str, Track], tracks_midi: dict[str, TrackMidi]) -> None:
    for key, track in tracks.items():
        if track.meta.track_id != key:
            raise ValueError(f"track key {key!r} differs from its meta.track_id {track.meta.track_id!r}")
    for key, track in tracks_midi.items():
        if track.track_id != key:
            raise ValueError(f"MIDI track key {key!r} differs from its track_id {track.track_id!r}")
    both = set(tracks) & set(tracks_midi)
    if both:
        raise ValueError(f"track ids used for both an OSC and a MIDI track: {sorted(both)}")


def check_sequences(
    sequences: dict[str, EventSequence],
    tracks: dict[str, Track],
    tracks_midi: dict[str, TrackMidi],
    loop_steps: int,
) -> None:
    for key, seq in sequences.items():
        if seq.track_id != key:
            raise ValueError(f"sequence key {key!r} differs from its track_id {seq.track_id!r}")
        if key not in tracks and key not in tracks_midi:
            raise ValueError(f"sequence {key!r} refers to an unknown track")
        for event in seq.events:
            if event.step >= loop_steps:
                raise ValueError(
                    f"sequence {key!r}: step {event.step} is outside the loop (loop_steps={loop_steps})"
                )


def check_scene(name: str, scene: Scene, session: Session) -> None:
    tracks = scene.tracks if scene.tracks is not None else session.tracks
    tracks_midi = scene.tracks_midi if scene.tracks_midi is not None else session.tracks_midi
    env = scene.environment or session.environment
    try:
        check_tracks(tracks, tracks_midi)
        check_sequences(scene.sequences or {}, tracks, tracks_midi, env.loop_steps)
    except ValueError as exc:
        raise ValueError(f"scene {name!r}: {exc}") from None


# ---- the seed's timing wrapper -------------------------------------------------------


class NowTiming(_Strict):
    type: Literal["now"]


class BoundaryTiming(_Strict):
    type: Literal["boundary"]
    unit: Literal["beat", "bar", "seq"] = "bar"


class AbsoluteTiming(_Strict):
    type: Literal["absolute"]
    step: int = Field(ge=0, lt=MAX_LOOP_STEPS)


Timing = Annotated[Union[NowTiming, BoundaryTiming, AbsoluteTiming], Field(discriminator="type")]
DEFAULT_TIMING = BoundaryTiming(type="boundary", unit="bar")


def timing_from_name(name: str) -> NowTiming | BoundaryTiming:
    """``apply.timing`` and ``/scene/activate`` name a timing with one word."""
    if name == "now":
        return NowTiming(type="now")
    return BoundaryTiming(type="boundary", unit=name)  # type: ignore[arg-type]


def describe_timing(timing: NowTiming | BoundaryTiming | AbsoluteTiming) -> str:
    if isinstance(timing, BoundaryTiming):
        return timing.unit
    return timing.type
