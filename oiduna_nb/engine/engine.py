"""The engine as one object: commands in, events out.

Every front end (the HTTP server, the notebook DSL, the widgets) drives the music
through these methods, so every client sees every change. Commands are cheap and
thread-safe (they hold the engine lock for microseconds); the metronome thread does
the timing. Bad commands raise ``EngineError`` subclasses with a message for the user.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from . import state as st
from .bus import EventBus
from .changes import PendingChange
from .clock import Clock, Metronome, SystemClock
from .config import EngineConfig
from .errors import InvalidRequest, NotFound, Unavailable
from .ir import (
    DEFAULT_TIMING,
    AbsoluteTiming,
    BoundaryTiming,
    NowTiming,
    Session,
    timing_from_name,
)
from .outputs.midi_choice import AnyMidiOutput, open_midi_output, path_status
from .outputs.superdirt import SuperDirtOutput, handshake
from .player import Player
from .sequencer import MidiNote, clamp_midi, dirt_args
from .timeline import NS_PER_SECOND, STEPS_PER_BAR

AnyTiming = NowTiming | BoundaryTiming | AbsoluteTiming


class Engine:
    def __init__(
        self,
        config: EngineConfig | None = None,
        clock: Clock | None = None,
        midi: AnyMidiOutput | None = None,
        run_thread: bool = True,
    ) -> None:
        self.config = config or EngineConfig()
        self.clock = clock or SystemClock()
        self.lock = threading.RLock()
        self.bus = EventBus()
        self.player = Player(self.config.lookahead_ns)
        self.superdirt = SuperDirtOutput(self.config.osc_host, self.config.osc_port, self.clock.to_unix_ns)
        self.midi = midi if midi is not None else open_midi_output(self.config.midi_api, self.config.midi_latency)
        self.midi_error: str | None = None
        self._open_midi_port()
        self.superdirt_answering: bool | None = None  # unknown until a handshake
        self.metronome = Metronome(
            self.player, self.lock, self.clock, self.superdirt, self.midi, self.bus.publish, self.config
        )
        self.closed = False
        self._old_switch_interval: float | None = None
        if run_thread:
            if self.config.gil_switch_interval is not None:
                self._old_switch_interval = sys.getswitchinterval()
                sys.setswitchinterval(min(self._old_switch_interval, self.config.gil_switch_interval))
            self.metronome.start()

    def _open_midi_port(self) -> None:
        if not self.midi.available or self.midi.port_name is not None:
            return
        try:
            if self.config.midi_port:
                self.midi.select(self.config.midi_port)
            else:
                self.midi.open_virtual()
        except Exception as exc:  # a missing port is reported, never fatal
            self.midi_error = f"MIDI port {self.config.midi_port!r} could not be opened: {exc}"

    # ---- session changes ------------------------------------------------------------

    def load_session(self, session: Session, timing: AnyTiming | None = None) -> PendingChange | None:
        """Load a session on its timing (the wrapper's, else ``apply.timing``, else next bar)."""
        if timing is None:
            timing = timing_from_name(session.apply.timing) if session.apply else DEFAULT_TIMING
        scene = session.apply.scene_name if session.apply else None

        def transform(state: st.PlayState) -> st.PlayState:
            new = st.load_session(state, session)
            return st.activate_scene(new, scene) if scene else new

        return self._submit("session", transform, timing, scene_name=scene)

    def update_environment(self, changes: dict[str, Any], timing: AnyTiming | None = None) -> PendingChange | None:
        return self._submit(
            "environment", lambda s: st.update_environment(s, changes), timing or NowTiming(type="now")
        )

    def update_track_params(
        self, track_id: str, changes: dict[str, Any], timing: AnyTiming | None = None
    ) -> PendingChange | None:
        with self.lock:
            st.require_track(self.player.state, track_id)
        return self._submit(
            "track_update",
            lambda s: st.update_track_params(s, track_id, changes),
            timing or NowTiming(type="now"),
            track_id=track_id,
        )

    def activate_scene(self, name: str, timing: AnyTiming | None = None) -> PendingChange | None:
        with self.lock:
            if name not in self.player.state.scenes:
                raise NotFound(f"Scene not found: {name}")
        return self._submit("scene", lambda s: st.activate_scene(s, name), timing or DEFAULT_TIMING, scene_name=name)

    def capture_scene(self, name: str) -> None:
        """Store what plays now as scene ``name``, to activate later."""
        with self.lock:
            scene = st.capture_scene(self.player.state).model_copy(update={"name": name})
            self.player.apply_now(lambda s: s.replace(scenes={**s.scenes, name: scene}))
        self._publish_status()

    def _submit(self, type: str, transform: Any, timing: AnyTiming, **kw: Any) -> PendingChange | None:
        with self.lock:
            try:
                change = self.player.submit(type, transform, timing, **kw)
            except ValueError as exc:  # an absolute step outside the loop, say
                raise InvalidRequest(str(exc)) from None
        self.metronome.wake()
        if change is None:
            self._publish_tracks()
            if type == "scene":
                self.bus.publish("scene_activated", {"scene_name": kw.get("scene_name")})
        else:
            self.bus.publish("change_queued", change.as_dict())
        self._publish_status()
        return change

    def set_mute(self, track_id: str, muted: bool) -> None:
        self._set_flag(track_id, "mute", muted)

    def set_solo(self, track_id: str, solo: bool) -> None:
        self._set_flag(track_id, "solo", solo)

    def _set_flag(self, track_id: str, flag: str, value: bool) -> None:
        with self.lock:
            st.require_track(self.player.state, track_id)
            self.player.apply_now(lambda s: st.set_flag(s, track_id, flag, value))
        self._publish_tracks()

    # ---- transport --------------------------------------------------------------------

    def start(self) -> None:
        with self.lock:
            started = self.player.start(self.clock.now_ns())
        self.metronome.wake()
        if started:
            self._publish_status()

    def pause(self) -> None:
        with self.lock:
            paused = self.player.pause()
        if paused:
            self._publish_status()

    def stop(self) -> None:
        with self.lock:
            applied = self.player.stop()
            self.metronome.clear()
        for change in applied:
            self.bus.publish("change_applied", change.as_dict())
        self.bus.publish("position", self.player.position.as_dict())
        self._publish_tracks()
        self._publish_status()

    def status(self) -> dict[str, Any]:
        with self.lock:
            return {**self.player.status(), "output": self.output_name}

    @property
    def state(self) -> st.PlayState:
        return self.player.state

    def projected_state(self) -> st.PlayState:
        """The state once every pending change has applied (what a new change builds on)."""
        with self.lock:
            return self.player.projected_state()

    # ---- pending changes ----------------------------------------------------------------

    def pending(self) -> list[dict[str, Any]]:
        with self.lock:
            return [c.as_dict() for c in self.player.changes.pending()]

    def cancel(self, change_id: str) -> PendingChange:
        with self.lock:
            change = self.player.changes.cancel(change_id)
        self._publish_status()
        return change

    def cancel_all(self) -> int:
        with self.lock:
            count = self.player.changes.cancel_all()
        self._publish_status()
        return count

    # ---- realtime triggers ----------------------------------------------------------------

    def trigger_osc(self, track_id: str, velocity: float = 1.0, note: float | None = None) -> None:
        """Play the track's sound now, outside the sequence."""
        with self.lock:
            state = self.player.state
            st.require_track(state, track_id)
            if track_id not in state.tracks:
                raise InvalidRequest(f"Track {track_id!r} is a MIDI track; use the MIDI trigger")
            env = state.environment
            step_s = 60.0 / env.bpm / 4.0
            args = dirt_args(
                state.tracks[track_id],
                bpm=env.bpm,
                cycle=self.player.next_tick / STEPS_PER_BAR,
                delta=env.default_gate * step_s,
                velocity=velocity,
                note=note,
                line=state.line_of.get(track_id),
            )
            error = self.metronome.output.play_now(args)
        if error is not None:
            self.bus.publish("error", {"message": "OSC send failed", "details": str(error)})

    def trigger_midi(self, track_id: str, note: int, velocity: int = 100, duration_ms: float = 500) -> None:
        """Play a MIDI note now on the track's channel, released after ``duration_ms``."""
        with self.lock:
            state = self.player.state
            st.require_track(state, track_id)
            if track_id not in state.tracks_midi:
                raise InvalidRequest(f"Track {track_id!r} is not a MIDI track")
            if not self.midi.available:
                raise Unavailable(self.midi.unavailable_reason or "MIDI is unavailable")
            track = state.tracks_midi[track_id]
            now = self.clock.now_ns()
            self.metronome.schedule_note(
                MidiNote(
                    time_ns=now,
                    off_ns=now + round(duration_ms * NS_PER_SECOND / 1000),
                    track_id=track_id,
                    channel=track.channel,
                    note=clamp_midi(note + track.transpose),
                    velocity=clamp_midi(velocity),
                )
            )
        self.metronome.wake()

    # ---- MIDI ports ----------------------------------------------------------------------

    def midi_ports(self) -> list[dict[str, Any]]:
        with self.lock:
            if not self.midi.available:
                return []
            return [p.as_dict() for p in self.midi.ports()]

    def select_midi_port(self, name: str) -> str:
        with self.lock:
            if not self.midi.available:
                raise Unavailable(self.midi.unavailable_reason or "MIDI is unavailable")
            port = self.midi.select(name)
            self.midi_error = None
            return port

    def midi_panic(self) -> None:
        with self.lock:
            self.metronome.clear()
            self.midi.panic()

    def midi_status(self) -> dict[str, Any]:
        return {
            "available": self.midi.available,
            "api": self.midi.api_name,
            "port": self.midi.port_name,
            "message": self.midi.unavailable_reason or self.midi_error,
            **path_status(self.midi, self.config.midi_latency_ns),  # e.g. "jack, timestamped, latency 5.3 ms"
            "thread": self.metronome.priority,  # e.g. "SCHED_FIFO 3"
        }

    # ---- SuperDirt ----------------------------------------------------------------------

    def use_output(self, output: Any) -> None:
        """Send the steps to ``output`` from the next step on (the old one is closed)."""
        with self.lock:
            old, self.metronome.output = self.metronome.output, output
        if old is not self.superdirt:
            old.close()
        self._publish_status()

    @property
    def output_name(self) -> str:
        return getattr(self.metronome.output, "label", self.metronome.output.name)

    def check_superdirt(self) -> bool:
        """Ask SuperDirt for a handshake (blocks up to the timeout). The engine plays either way."""
        answering = handshake(self.config.osc_host, self.config.osc_port, self.config.handshake_timeout)
        self.superdirt_answering = answering
        return answering

    # ---- events -----------------------------------------------------------------------------

    def _publish_status(self) -> None:
        with self.lock:
            data = self.player.status_event()
        self.bus.publish("status", data)

    def _publish_tracks(self) -> None:
        with self.lock:
            data = {"active_tracks": self.player.state.active_tracks()}
        self.bus.publish("tracks", data)

    def close(self) -> None:
        """Stop the clock, release every note, close the sockets. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        self.metronome.stop_thread()
        if self._old_switch_interval is not None:
            sys.setswitchinterval(self._old_switch_interval)
        with self.lock:
            self.player.pause()
            self.metronome.clear()
            self.midi.close()
            if self.metronome.output is not self.superdirt:
                self.metronome.output.close()
            self.superdirt.close()
