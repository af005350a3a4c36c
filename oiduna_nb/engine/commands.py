"""Engine commands: each names only what it changes. Pure.

A command is applied to the state as it is when it lands (now, or on its boundary), never
to a copy taken when it was sent, so interleaved changes from several clients all take
effect. Only ``LoadSession`` replaces the session as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from . import state as st
from .cycles import TrackSource
from .ir import EventSequence, MixerLine, Session, Track, TrackMidi
from .state import PlayState


@dataclass(frozen=True)
class Command:
    type: ClassVar[str] = "command"  # what GET /playback/changes/pending calls it

    def apply(self, state: PlayState) -> PlayState:
        raise NotImplementedError

    @property
    def track_id(self) -> str | None:
        return None

    @property
    def scene_name(self) -> str | None:
        return None


@dataclass(frozen=True)
class LoadSession(Command):
    """The one command that replaces the session (all of it, or ``apply.track_ids``)."""

    type: ClassVar[str] = "session"
    session: Session

    def apply(self, state: PlayState) -> PlayState:
        new = st.load_session(state, self.session)
        scene = self.scene_name
        return st.activate_scene(new, scene) if scene else new

    @property
    def scene_name(self) -> str | None:
        return self.session.apply.scene_name if self.session.apply else None


@dataclass(frozen=True)
class UpdateEnvironment(Command):
    type: ClassVar[str] = "environment"
    changes: dict[str, Any]

    def apply(self, state: PlayState) -> PlayState:
        return st.update_environment(state, self.changes)


@dataclass(frozen=True)
class LinkTempo(UpdateEnvironment):
    """The Link session's tempo (a peer set it, or we joined): applied like any tempo change,
    but never sent back to the session it came from."""


@dataclass(frozen=True)
class KeepTempo(Command):
    """``command`` with the tempo left as it is where it lands: a session loaded while others
    share our Link session plays at their tempo, not at the one in its file."""

    command: Command

    @property
    def type(self) -> str:  # type: ignore[override]  # what it wraps, for pending changes
        return self.command.type

    def apply(self, state: PlayState) -> PlayState:
        new = self.command.apply(state)
        if new.environment.bpm == state.environment.bpm:
            return new
        return new.replace(environment=new.environment.model_copy(update={"bpm": state.environment.bpm}))

    @property
    def track_id(self) -> str | None:
        return self.command.track_id

    @property
    def scene_name(self) -> str | None:
        return self.command.scene_name


@dataclass(frozen=True)
class UpdateTrackParams(Command):
    type: ClassVar[str] = "track_update"
    id: str
    changes: dict[str, Any]

    def apply(self, state: PlayState) -> PlayState:
        return st.update_track_params(state, self.id, self.changes)

    @property
    def track_id(self) -> str | None:
        return self.id


@dataclass(frozen=True)
class ReplaceTrack(Command):
    """One track and its events (a notebook cell re-run), added or replaced."""

    type: ClassVar[str] = "track"
    track: Track | TrackMidi
    sequence: EventSequence | None = None
    source: TrackSource | None = None  # a pattern instead of a sequence

    def apply(self, state: PlayState) -> PlayState:
        return st.replace_track(state, self.track, self.sequence, self.source)

    @property
    def track_id(self) -> str | None:
        return self.track.meta.track_id if isinstance(self.track, Track) else self.track.track_id


@dataclass(frozen=True)
class DropTrack(Command):
    type: ClassVar[str] = "drop"
    id: str

    def apply(self, state: PlayState) -> PlayState:
        return st.drop_track(state, self.id)

    @property
    def track_id(self) -> str | None:
        return self.id


@dataclass(frozen=True)
class SetFlag(Command):
    """Mute or solo one track."""

    type: ClassVar[str] = "track_update"
    id: str
    flag: str  # mute | solo
    value: bool

    def apply(self, state: PlayState) -> PlayState:
        return st.set_flag(state, self.id, self.flag, self.value)

    @property
    def track_id(self) -> str | None:
        return self.id


@dataclass(frozen=True)
class SetMixerLine(Command):
    type: ClassVar[str] = "mixer_line"
    line: MixerLine

    def apply(self, state: PlayState) -> PlayState:
        return st.set_mixer_line(state, self.line)


@dataclass(frozen=True)
class RemoveMixerLine(Command):
    type: ClassVar[str] = "mixer_line"
    name: str

    def apply(self, state: PlayState) -> PlayState:
        return st.remove_mixer_line(state, self.name)


@dataclass(frozen=True)
class Hush(Command):
    type: ClassVar[str] = "hush"

    def apply(self, state: PlayState) -> PlayState:
        return st.hush(state)


@dataclass(frozen=True)
class ActivateScene(Command):
    type: ClassVar[str] = "scene"
    name: str

    def apply(self, state: PlayState) -> PlayState:
        return st.activate_scene(state, self.name)

    @property
    def scene_name(self) -> str | None:
        return self.name


@dataclass(frozen=True)
class CaptureScene(Command):
    """What plays when the command lands, kept as scene ``name``."""

    type: ClassVar[str] = "capture"
    name: str

    def apply(self, state: PlayState) -> PlayState:
        scene = st.capture_scene(state).model_copy(update={"name": self.name})
        return st.store_scene(state, self.name, scene, state.sources)

    @property
    def scene_name(self) -> str | None:
        return self.name


@dataclass(frozen=True)
class Batch(Command):
    """Several commands landing together, in order (a scene built in one cell, say)."""

    type: ClassVar[str] = "batch"
    commands: tuple[Command, ...] = field(default_factory=tuple)

    def apply(self, state: PlayState) -> PlayState:
        for command in self.commands:
            state = command.apply(state)
        return state
