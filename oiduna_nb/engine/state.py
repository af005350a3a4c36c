"""What is playing: an immutable snapshot, and pure functions that make the next one.

The control plane builds a new ``PlayState`` for every change and swaps it in; the
metronome only ever reads whole snapshots, so it never sees a half-applied change.
Models inside a snapshot are never mutated: every change copies what it touches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable

from pydantic import ValidationError

from .cycles import TrackSource

from .errors import NotFound, InvalidRequest
from .ir import (
    Environment,
    Event,
    EventSequence,
    MixerLine,
    Scene,
    Session,
    Track,
    TrackMidi,
    TrackParams,
)

MIDI_PARAM_KEYS = ("channel", "velocity", "transpose")
DERIVED_FROM = {
    "by_step": {"sequences"},
    "audible": {"tracks", "tracks_midi"},
    "line_of": {"mixer_lines"},
    "active": {"tracks", "tracks_midi", "sequences", "sources"},
    "last_steps": {"sequences"},
}



@dataclass(frozen=True)
class PlayState:
    environment: Environment = field(default_factory=Environment)
    tracks: dict[str, Track] = field(default_factory=dict)
    tracks_midi: dict[str, TrackMidi] = field(default_factory=dict)
    mixer_lines: dict[str, MixerLine] = field(default_factory=dict)
    sequences: dict[str, EventSequence] = field(default_factory=dict)
    scenes: dict[str, Scene] = field(default_factory=dict)
    current_scene: str | None = None
    # Tracks that play a pattern (instead of a sequence), and the patterns scenes keep.
    sources: dict[str, TrackSource] = field(default_factory=dict)
    scene_sources: dict[str, dict[str, TrackSource]] = field(default_factory=dict)

    # Derived data (the per-step index, who is audible, the mixer-line routing) is built on
    # first use and carried over by replace() when what it derives from is unchanged, so a
    # burst of parameter changes does not rebuild a 4,096-event index once per change.
    @cached_property
    def by_step(self) -> dict[int, tuple[tuple[str, Event], ...]]:
        index: dict[int, list[tuple[str, Event]]] = {}
        for track_id, seq in self.sequences.items():
            for event in seq.events:
                index.setdefault(event.step, []).append((track_id, event))
        return {k: tuple(v) for k, v in index.items()}

    @cached_property
    def audible(self) -> frozenset[str]:
        return frozenset(_audible(self.tracks, self.tracks_midi))

    @cached_property
    def line_of(self) -> dict[str, MixerLine]:
        return {t: line for line in self.mixer_lines.values() for t in line.include}

    # ---- reading --------------------------------------------------------------------

    def track_ids(self) -> list[str]:
        return [*self.tracks, *self.tracks_midi]

    def has_track(self, track_id: str) -> bool:
        return track_id in self.tracks or track_id in self.tracks_midi

    @cached_property
    def active(self) -> tuple[str, ...]:
        return tuple(
            t
            for t in self.track_ids()
            if t in self.audible and (t in self.sources or (self.sequences.get(t) and self.sequences[t].events))
        )

    @cached_property
    def last_steps(self) -> dict[str, int]:
        """The last step holding an event, per track with events."""
        return {t: max(e.step for e in seq.events) for t, seq in self.sequences.items() if seq.events}

    def active_tracks(self) -> list[str]:
        """Tracks that sound: audible (mute/solo) and with at least one event."""
        return list(self.active)

    def events_at(self, step: int) -> tuple[tuple[str, Event], ...]:
        return self.by_step.get(step, ())

    def is_muted(self, track_id: str) -> bool:
        if track_id in self.tracks:
            return self.tracks[track_id].meta.mute
        return self._midi(track_id).mute

    def is_solo(self, track_id: str) -> bool:
        if track_id in self.tracks:
            return self.tracks[track_id].meta.solo
        return self._midi(track_id).solo

    def _midi(self, track_id: str) -> TrackMidi:
        try:
            return self.tracks_midi[track_id]
        except KeyError:
            raise NotFound(f"Track not found: {track_id}") from None

    def warm(self) -> "PlayState":
        """Build the derived data now, on the writer's thread, so the metronome never does."""
        self.by_step, self.audible, self.line_of, self.active  # noqa: B018 - computed for their side effect
        return self

    def replace(self, **changes: Any) -> "PlayState":
        values = {
            "environment": self.environment,
            "tracks": self.tracks,
            "tracks_midi": self.tracks_midi,
            "mixer_lines": self.mixer_lines,
            "sequences": self.sequences,
            "scenes": self.scenes,
            "current_scene": self.current_scene,
            "sources": self.sources,
            "scene_sources": self.scene_sources,
        }
        values.update(changes)
        new = PlayState(**values)
        for name, sources in DERIVED_FROM.items():
            if name in self.__dict__ and not sources & changes.keys():
                new.__dict__[name] = self.__dict__[name]
        return new


def _audible(tracks: dict[str, Track], tracks_midi: dict[str, TrackMidi]) -> Iterable[str]:
    flags = {t: (tr.meta.mute, tr.meta.solo) for t, tr in tracks.items()}
    flags.update({t: (tr.mute, tr.solo) for t, tr in tracks_midi.items()})
    soloed = [t for t, (_, solo) in flags.items() if solo]
    if soloed:  # solo wins over mute
        return soloed
    return [t for t, (mute, _) in flags.items() if not mute]


# ---- pure transformations ---------------------------------------------------------


def load_session(state: PlayState, session: Session) -> PlayState:
    """The state after loading ``session`` (``apply.track_ids`` limits what changes)."""
    only = session.apply.track_ids if session.apply else []
    if not only:
        return PlayState(
            environment=session.environment,
            tracks=dict(session.tracks),
            tracks_midi=dict(session.tracks_midi),
            mixer_lines=dict(session.mixer_lines),
            sequences=dict(session.sequences),
            scenes=dict(session.scenes),
            current_scene=None,
        )
    unknown = [t for t in only if t not in session.tracks and t not in session.tracks_midi]
    if unknown:
        raise InvalidRequest(f"apply.track_ids names tracks that the session does not have: {unknown}")
    tracks, tracks_midi, sequences = dict(state.tracks), dict(state.tracks_midi), dict(state.sequences)
    sources = dict(state.sources)
    for t in only:
        for table in (tracks, tracks_midi, sequences, sources):
            table.pop(t, None)
        if t in session.tracks:
            tracks[t] = session.tracks[t]
        else:
            tracks_midi[t] = session.tracks_midi[t]
        if t in session.sequences:
            sequences[t] = session.sequences[t]
    # The session validated its own sends against its own mixer lines, so merging keeps them valid.
    return state.replace(
        tracks=tracks,
        tracks_midi=tracks_midi,
        sequences=sequences,
        sources=sources,
        mixer_lines={**state.mixer_lines, **session.mixer_lines},
        scenes={**state.scenes, **session.scenes},
    )


def replace_track(
    state: PlayState, track: Track | TrackMidi, sequence: EventSequence | None, source: TrackSource | None = None
) -> PlayState:
    """One track (OSC or MIDI) and its events (a loop of events, or a pattern), replaced or
    added; every other part as it is."""
    track_id = track.meta.track_id if isinstance(track, Track) else track.track_id
    tracks = {k: v for k, v in state.tracks.items() if k != track_id}
    tracks_midi = {k: v for k, v in state.tracks_midi.items() if k != track_id}
    if isinstance(track, Track):
        missing = [s.mixer_line for s in track.sends if s.mixer_line not in state.mixer_lines]
        if missing:
            raise InvalidRequest(f"track {track_id!r} sends to unknown mixer lines {missing}")
        tracks[track_id] = track
    else:
        tracks_midi[track_id] = track
    sequences = {k: v for k, v in state.sequences.items() if k != track_id}
    sources = {k: v for k, v in state.sources.items() if k != track_id}
    if source is not None:
        sources[track_id] = source
    if sequence is not None:
        loop = state.environment.loop_steps
        outside = [e.step for e in sequence.events if e.step >= loop]
        if outside:
            raise InvalidRequest(f"track {track_id!r}: steps {outside[:5]} are outside the loop (loop_steps={loop})")
        sequences[track_id] = sequence
    return state.replace(tracks=tracks, tracks_midi=tracks_midi, sequences=sequences, sources=sources)


def drop_track(state: PlayState, track_id: str) -> PlayState:
    """A track gone: its events, and its place in any mixer line."""
    require_track(state, track_id)
    lines = {
        name: line.model_copy(update={"include": [t for t in line.include if t != track_id]})
        if track_id in line.include else line
        for name, line in state.mixer_lines.items()
    }
    return state.replace(
        tracks={k: v for k, v in state.tracks.items() if k != track_id},
        tracks_midi={k: v for k, v in state.tracks_midi.items() if k != track_id},
        sequences={k: v for k, v in state.sequences.items() if k != track_id},
        sources={k: v for k, v in state.sources.items() if k != track_id},
        mixer_lines=lines,
    )


def set_mixer_line(state: PlayState, line: MixerLine) -> PlayState:
    unknown = [t for t in line.include if t not in state.tracks]
    if unknown:
        raise InvalidRequest(f"mixer line {line.name!r} includes unknown OSC tracks {unknown}")
    return state.replace(mixer_lines={**state.mixer_lines, line.name: line})


def remove_mixer_line(state: PlayState, name: str) -> PlayState:
    """A line gone, and every send to it (a send to nowhere would be refused on load)."""
    if name not in state.mixer_lines:
        raise NotFound(f"Mixer line not found: {name}")
    tracks = {
        k: t.model_copy(update={"sends": [s for s in t.sends if s.mixer_line != name]})
        if any(s.mixer_line == name for s in t.sends) else t
        for k, t in state.tracks.items()
    }
    return state.replace(tracks=tracks, mixer_lines={k: v for k, v in state.mixer_lines.items() if k != name})


def hush(state: PlayState) -> PlayState:
    """Every pattern emptied; tracks, params and lines stay, ready for the next cell."""
    return state.replace(sequences={}, sources={})


def store_scene(state: PlayState, name: str, scene: Scene,
                sources: dict[str, TrackSource] | None = None) -> PlayState:
    scene_sources = {k: v for k, v in state.scene_sources.items() if k != name}
    if sources:
        scene_sources[name] = dict(sources)
    return state.replace(scenes={**state.scenes, name: scene}, scene_sources=scene_sources)


def update_environment(state: PlayState, changes: dict[str, Any]) -> PlayState:
    merged = {**state.environment.model_dump(), **changes}
    try:
        env = Environment.model_validate(merged)
    except ValidationError as exc:
        raise InvalidRequest(str(exc)) from None
    return state.replace(environment=env)


def update_track_params(state: PlayState, track_id: str, changes: dict[str, Any]) -> PlayState:
    """Merge SuperDirt params into an OSC track, or channel/velocity/transpose into a MIDI track."""
    if track_id in state.tracks:
        track = state.tracks[track_id]
        try:
            params = TrackParams.model_validate({**track.params.model_dump(exclude_none=True), **changes})
        except ValidationError as exc:
            raise InvalidRequest(str(exc)) from None
        new_track = track.model_copy(update={"params": params})
        return state.replace(tracks={**state.tracks, track_id: new_track})
    midi = state._midi(track_id)
    unknown = [k for k in changes if k not in MIDI_PARAM_KEYS]
    if unknown:
        raise InvalidRequest(
            f"MIDI track {track_id!r} takes only {list(MIDI_PARAM_KEYS)}, not {unknown}"
        )
    try:
        new_midi = TrackMidi.model_validate({**midi.model_dump(), **changes})
    except ValidationError as exc:
        raise InvalidRequest(str(exc)) from None
    return state.replace(tracks_midi={**state.tracks_midi, track_id: new_midi})


def set_flag(state: PlayState, track_id: str, flag: str, value: bool) -> PlayState:
    """Set ``mute`` or ``solo`` of an OSC or MIDI track."""
    if track_id in state.tracks:
        track = state.tracks[track_id]
        meta = track.meta.model_copy(update={flag: value})
        return state.replace(tracks={**state.tracks, track_id: track.model_copy(update={"meta": meta})})
    midi = state._midi(track_id)
    return state.replace(tracks_midi={**state.tracks_midi, track_id: midi.model_copy(update={flag: value})})


def activate_scene(state: PlayState, name: str) -> PlayState:
    try:
        scene = state.scenes[name]
    except KeyError:
        raise NotFound(f"Scene not found: {name}") from None
    changes: dict[str, Any] = {"current_scene": name}
    if scene.environment is not None:
        changes["environment"] = scene.environment
    if scene.tracks is not None:
        changes["tracks"] = dict(scene.tracks)
    if scene.tracks_midi is not None:
        changes["tracks_midi"] = dict(scene.tracks_midi)
    if scene.sequences is not None:
        changes["sequences"] = dict(scene.sequences)
    if scene.tracks is not None or scene.tracks_midi is not None:
        # the scene's tracks play what they played when it was captured (patterns included)
        kept = set(changes.get("tracks", state.tracks)) | set(changes.get("tracks_midi", state.tracks_midi))
        changes["sources"] = {k: v for k, v in state.scene_sources.get(name, {}).items() if k in kept}
    return state.replace(**changes)


def capture_scene(state: PlayState) -> Scene:
    """What plays now, as a scene (the DSL's "capture")."""
    return Scene(
        environment=state.environment,
        tracks=dict(state.tracks),
        tracks_midi=dict(state.tracks_midi),
        sequences=dict(state.sequences),
    )


def require_track(state: PlayState, track_id: str) -> None:
    if not state.has_track(track_id):
        raise NotFound(f"Track not found: {track_id}")
