"""Request and response bodies of the API that the engine's IR does not already define.

The handlers validate with these and the OpenAPI document is generated from them, so the
documentation cannot drift from what the server accepts and returns.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..engine.ir import Timing


class Ok(BaseModel):
    status: Literal["ok"] = "ok"


class MessageResponse(Ok):
    message: str


class Queued(BaseModel):
    """Present when the change waits for its boundary."""

    change_id: str | None = Field(None, description="Id of the pending change, when it was queued")
    apply_at_step: int | None = Field(None, description="Loop step it applies at, when it was queued")


class SessionResponse(MessageResponse, Queued):
    pass


class EnvironmentResponse(Ok, Queued):
    environment: dict[str, Any]


class ParamsResponse(Ok, Queued):
    track_id: str
    updated_params: dict[str, Any]


class TransportResponse(Ok):
    playing: bool
    paused: bool | None = None


class PositionModel(BaseModel):
    step: int
    beat: int
    bar: int


class SendErrors(BaseModel):
    send_errors: int = Field(description="Datagrams the socket refused (a peer gone, a full buffer)")
    dropped_messages: int = Field(description="Messages left out of a step: unencodable or over the datagram limit")
    last_error: str | None
    last_error_at: float | None = Field(description="Unix time of the last error")


class LinkStatus(BaseModel):
    enabled: bool = Field(description="In an Ableton Link session (oiduna-nb serve --link, OIDUNA_LINK=1, "
                          "%oiduna link on, link(True))")
    available: bool = Field(description="aalink is installed (the link extra)")
    peers: int = Field(description="Other apps and machines in the session")
    tempo: float | None = Field(description="The session's tempo (bpm)")
    playing: bool | None = Field(description="The session's start/stop state")
    start_stop_sync: bool = Field(description="We start and stop with the session")
    message: str | None = Field(description="Why Link is off, when it could not start")
    beat: float | None = Field(description="The session's beat now")
    phase: float | None = Field(description="Where in its bar the session is now, 0 <= phase < quantum")
    quantum: int = Field(description="Beats per bar: our bars line up with the session's")


class StatusResponse(BaseModel):
    playing: bool
    playback_state: Literal["stopped", "playing", "paused"]
    bpm: float
    position: PositionModel
    active_tracks: list[str]
    has_pending: bool
    scenes: list[str]
    current_scene: str | None
    output: str = Field(description="Where the sound goes: superdirt, or our instruments on scsynth")
    errors: SendErrors = Field(description="What could not be sent, so far (also published as error events)")
    link: LinkStatus = Field(description="Ableton Link (also published as link events when it changes)")


class TriggerOsc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    track_id: str = Field(min_length=1)
    velocity: float = Field(1.0, ge=0, le=1)
    note: float | None = Field(None, ge=0, le=127, description="MIDI note number")


class TriggerMidi(BaseModel):
    model_config = ConfigDict(extra="forbid")
    track_id: str = Field(min_length=1)
    note: int = Field(ge=0, le=127)
    velocity: int = Field(100, ge=0, le=127)
    duration_ms: float = Field(500, gt=0, le=60_000)


class PendingChangeModel(BaseModel):
    id: str
    type: Literal["session", "environment", "track_update", "scene"]
    track_id: str | None = None
    scene_name: str | None = None
    apply_timing: Literal["beat", "bar", "seq", "absolute"]
    apply_at_step: int


class PendingResponse(BaseModel):
    pending: list[PendingChangeModel]


class CancelResponse(Ok):
    cancelled_id: str


class CancelAllResponse(Ok):
    cancelled_count: int


class ClientUpdated(BaseModel):
    client_id: str
    updated_at: float


class ClientEntry(BaseModel):
    metadata: dict[str, Any]
    updated_at: float


class ClientRemoved(Ok):
    removed_client_id: str


class TrackEvent(BaseModel):
    step: int = Field(description="16th of the cycle")
    offset: float = Field(description="Start within the step (0..1)")
    gate: float = Field(description="Length in steps")
    params: dict[str, Any]


class TrackInfo(BaseModel):
    id: str
    type: Literal["osc", "midi"]
    sound: str | None = Field(None, description="SuperDirt sound (OSC tracks)")
    orbit: int | None = None
    gain: float | None = None
    pan: float | None = None
    channel: int | None = Field(None, description="MIDI channel 0-15 (MIDI tracks)")
    muted: bool
    solo: bool
    length: int = Field(description="Length in steps: a sequence's whole bars that hold its events, a loop's "
                        "own length, a pattern track's 16 (one cycle; its events change from cycle to cycle)")
    source: Literal["sequence", "pattern", "loop"] = Field(
        "sequence", description="sequence: the session's events; pattern: a notebook pattern, asked cycle by "
        "cycle; loop: a notebook step string or note list, repeated at its own length")
    pattern: str | None = Field(None, description="The pattern's short written form (pattern and loop tracks)")
    events: list[TrackEvent] | None = Field(
        None, description="Pattern and loop tracks: the events of the cycle playing now (steps 0-15 of it)")


class TrackList(BaseModel):
    tracks: list[TrackInfo]


class MuteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    muted: bool


class SoloBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    solo: bool


class MuteResponse(Ok):
    track_id: str
    muted: bool


class SoloResponse(Ok):
    track_id: str
    solo: bool


class SceneActivate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scene_id: str = Field(min_length=1)
    timing: Literal["now", "beat", "bar", "seq"] | Timing = "bar"


class AppliedAt(BaseModel):
    step: int
    beat: int


class SceneResponse(Ok, Queued):
    scene_id: str
    applied_at: AppliedAt


class MidiPort(BaseModel):
    name: str
    is_input: bool
    is_output: bool


class MidiPortsResponse(BaseModel):
    ports: list[MidiPort]
    available: bool
    message: str | None = None


class MidiPortBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port_name: str = Field(min_length=1)


class MidiPortResponse(Ok):
    port_name: str


class SampleUploaded(Ok):
    filename: str
    category: str
    path: str


class SampleList(BaseModel):
    samples: dict[str, list[str]]


class SynthDefUploaded(Ok):
    name: str
    path: str


class SynthDefList(BaseModel):
    synthdefs: list[str]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    playback_state: str
    superdirt: Literal["answering", "not answering", "unknown"]
    output: str
    midi: dict[str, Any]
    sse_subscribers: int


class ErrorDetail(BaseModel):
    detail: str


class ValidationErrorItem(BaseModel):
    type: str
    loc: list[str | int]
    msg: str
    input: Any = None


class ValidationErrorResponse(BaseModel):
    detail: list[ValidationErrorItem] | str
