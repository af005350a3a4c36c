"""The engine as one object: commands in, events out.

Every front end (the HTTP server, the notebook DSL, the widgets) drives the music
through these methods, so every client sees every change. Commands are cheap and
thread-safe (they hold the engine lock for microseconds); the metronome thread does
the timing. Bad commands raise ``EngineError`` subclasses with a message for the user.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable

from dataclasses import dataclass

from . import commands as cmd
from . import state as st
from .bus import EventBus
from .changes import PendingChange, Plan, new_change
from .collector import SessionCollector
from .clock import Clock, Metronome, SystemClock
from .cycles import CycleCache, render_ahead
from .midi_clock import STOP, ClockFollower
from .templates import WARM_SETTLE, Templates
from .config import EngineConfig
from .worker import Worker
from .errors import EngineError, InvalidRequest, NotFound, Unavailable
from .link import LinkPeer
from .linksync import LinkSync
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
from .sequencer import MidiNote, clamp_midi, dirt_args, sends_of
from .timeline import NS_PER_SECOND, STEPS_PER_BAR

AnyTiming = NowTiming | BoundaryTiming | AbsoluteTiming


def _clock_in_api(midi: Any) -> Any:
    """The MIDI system to read a clock from: the output's own (JACK when it plays through JACK)."""
    import rtmidi

    path = getattr(midi, "path", "") or ""
    if "jack" in str(path).lower():
        return rtmidi.API_UNIX_JACK
    return rtmidi.API_UNSPECIFIED


def new_plan_has_sources(plan: Plan) -> bool:
    return bool(plan.current.sources) or any(b.state.sources for b in plan.boundaries)


@dataclass(frozen=True)
class Outcome:
    """What a command did: queued as ``change`` (None when it applied at once), and the
    state it produces (what plays right after it lands)."""

    change: PendingChange | None
    state: st.PlayState


class Engine:
    def __init__(
        self,
        config: EngineConfig | None = None,
        clock: Clock | None = None,
        midi: AnyMidiOutput | None = None,
        run_thread: bool = True,
        link: Callable[[], LinkPeer] | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        self.clock = clock or SystemClock()
        self.lock = threading.RLock()  # held for instants: the metronome's step, a plan's install
        self._writer = threading.RLock()  # one command at a time computes the next plan
        self.change_listeners: list[Any] = []  # called after every change (autosave)
        self.collector: SessionCollector | None = None  # the hosts' (collector.py); None: Python's policy
        self.bus = EventBus()
        self.superdirt = SuperDirtOutput(self.config.osc_host, self.config.osc_port, self.clock.to_unix_ns)
        self.cycles = CycleCache(report=lambda message, details: self.bus.publish(
            "error", {"message": message, "details": details}))
        self.player = Player(self._lookahead_ns(self.superdirt), cycles=self.cycles)
        self.midi = midi if midi is not None else open_midi_output(self.config.midi_api, self.config.midi_latency)
        self.midi_error: str | None = None
        self._open_midi_port()
        self.superdirt_answering: bool | None = None  # unknown until a handshake
        self.metronome = Metronome(
            self.player, self.lock, self.clock, self.superdirt, self.midi, self.bus.publish_many, self.config
        )
        self.closed = False
        self._old_switch_interval: float | None = None
        # threads that keep work ahead of the metronome: pattern cycles, boundary states' messages
        self.renderer: Worker | None = None
        self.warmer: Worker | None = None
        self.clock_follower: ClockFollower | None = None
        if run_thread:
            self.renderer = Worker("oiduna-cycles", lambda: render_ahead(self.cycles, self._pattern_sources), every=1.0)
            self.warmer = Worker("oiduna-warmer", lambda: self.metronome.templates.warm(self._boundary_states()),
                                 settle=WARM_SETTLE)
            self.metronome.on_new_cycle = self.renderer.wake
            if self.config.gil_switch_interval is not None:
                self._old_switch_interval = sys.getswitchinterval()
                sys.setswitchinterval(min(self._old_switch_interval, self.config.gil_switch_interval))
            self.metronome.start()
        # Ableton Link (engine/linksync.py): off unless asked; ``link`` makes the peer (tests: a fake).
        self.link = LinkSync(self, link)
        if self.config.link:
            try:
                self.link.enable()
            except Unavailable:  # said in link status; the engine plays on
                pass

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

    # ---- the command path ---------------------------------------------------------------

    def submit(self, command: cmd.Command, timing: AnyTiming | None = None) -> Outcome:
        """Apply ``command`` now (timing ``now``, or the transport is not playing) or queue it
        for its boundary. The one way anything changes what plays.

        The new plan is computed here, on the caller's thread and outside the engine lock (the
        metronome never waits for it); it is installed only if the metronome has not crossed
        a boundary meanwhile, else computed again. A command that cannot apply to the state
        it lands on raises ``EngineError`` and changes nothing.
        """
        timing = timing or NowTiming(type="now")
        with self._writer:
            # with Link peers, a loaded session takes the shared tempo (decided as late as can be:
            # a sample that arrived while another command was installed counts)
            command = self.link.yielding(command)
            for _ in range(100):
                with self.lock:
                    player = self.player
                    plan, next_tick, next_step = player.plan, player.next_tick, player.next_step
                    immediate = isinstance(timing, NowTiming) or not player.playing
                change = None
                try:
                    if immediate:
                        new_plan = plan.with_current(command.apply(plan.current))
                        state = new_plan.current
                    else:
                        loop = plan.current.environment.loop_steps
                        change = new_change(command, timing, next_tick, next_step, loop)
                        new_plan = plan.with_change(change)
                        state = new_plan.state_of(change.id)
                except ValueError as exc:  # an absolute step outside the loop, say
                    raise InvalidRequest(str(exc)) from None
                # Encode what plays next now, here, so the metronome need not; the states waiting
                # on boundaries are the warmer's (the writer: with no thread, here too).
                if immediate:
                    self.metronome.templates.warm([new_plan.current])
                if self.warmer is None or isinstance(command, cmd.LoadSession):
                    # A whole session (tens of thousands of events, maybe) is encoded before the
                    # reply, so it is ready at its boundary: its client waits, the music does not.
                    # The warmer may not be done in time (measured: a 60,000-event step 0.5–3 s late).
                    self.metronome.templates.warm([b.state for b in new_plan.boundaries])
                with self.lock:
                    if player.plan is plan and (change is None or change.target_tick >= player.next_tick):
                        from_link = isinstance(command, cmd.LinkTempo)  # never echoed to the session
                        yields = isinstance(command, cmd.LoadSession)  # to peers Link finds meanwhile
                        retimed = player.install(new_plan, self.clock.now_ns(), from_link, yields)
                        break
            else:  # pragma: no cover - the metronome crosses a boundary at most once a step
                raise EngineError("The engine is too busy to take the change; try again")
        if retimed:  # the next step's time moved: the metronome must recompute when to wake
            self.metronome.wake()
        if self.collector is not None and isinstance(command, cmd.LoadSession):
            self.collector.loaded()  # its events and their encodings: out of the collector's walks
        if self.warmer is not None and new_plan.boundaries:
            self.warmer.wake()
        if self.renderer is not None and new_plan_has_sources(new_plan):
            self.renderer.wake()
        if change is None:
            self._publish_tracks()
            if command.type == "scene" or command.scene_name and command.type == "session":
                self.bus.publish("scene_activated", {"scene_name": command.scene_name})
        else:
            self.bus.publish("change_queued", change.as_dict())
        self._publish_status()
        self._changed()
        return Outcome(change, state)

    def _boundary_states(self) -> list[Any]:
        with self.lock:
            plan = self.player.plan
        return [b.state for b in plan.boundaries]

    def _pattern_sources(self) -> tuple[int, list[Any]]:
        """(the cycle about to play, every pattern the plan may play): what to render ahead."""
        with self.lock:
            plan, tick = self.player.plan, self.player.next_tick
        states = [plan.current, *(b.state for b in plan.boundaries)]
        sources = {id(s): s for state in states for s in state.sources.values()}
        return tick // STEPS_PER_BAR, list(sources.values())

    def _changed(self) -> None:
        for listener in list(self.change_listeners):
            listener()

    # ---- commands by name (each one a ``submit``) -----------------------------------------

    def load_session(self, session: Session, timing: AnyTiming | None = None) -> PendingChange | None:
        """Load a session on its timing (the wrapper's, else ``apply.timing``, else next bar)."""
        if timing is None:
            timing = timing_from_name(session.apply.timing) if session.apply else DEFAULT_TIMING
        return self.submit(cmd.LoadSession(session), timing).change

    def update_environment(self, changes: dict[str, Any], timing: AnyTiming | None = None) -> PendingChange | None:
        return self.submit(cmd.UpdateEnvironment(changes), timing).change

    def update_track_params(
        self, track_id: str, changes: dict[str, Any], timing: AnyTiming | None = None
    ) -> PendingChange | None:
        return self.submit(cmd.UpdateTrackParams(track_id, changes), timing).change

    def activate_scene(self, name: str, timing: AnyTiming | None = None) -> PendingChange | None:
        return self.submit(cmd.ActivateScene(name), timing or DEFAULT_TIMING).change

    def capture_scene(self, name: str) -> None:
        """Store what plays now as scene ``name``, to activate later."""
        self.submit(cmd.CaptureScene(name))

    def set_mute(self, track_id: str, muted: bool, timing: AnyTiming | None = None) -> None:
        self.submit(cmd.SetFlag(track_id, "mute", muted), timing)

    def set_solo(self, track_id: str, solo: bool, timing: AnyTiming | None = None) -> None:
        self.submit(cmd.SetFlag(track_id, "solo", solo), timing)

    # ---- transport --------------------------------------------------------------------

    def _clock_stop(self) -> None:
        """MIDI clock's stop, at once (the device halts with the transport)."""
        if self.metronome.clock_out:
            with self.lock:
                self.metronome.send_midi_at(self.clock.now_ns(), bytes((STOP,)))

    def start(self, steps: int | None = None) -> None:
        """Play (from the kept position); with ``steps``, exactly that many steps."""
        with self._writer, self.lock:
            started = self.player.start(self.clock.now_ns(), steps)
        self.metronome.wake()
        if started:
            self._publish_status()
            self._changed()

    def pause(self) -> bool:
        """Pause (resume with ``start``); False when not playing. The position holds."""
        with self._writer, self.lock:
            paused = self.player.pause()
        if paused:
            self.metronome.drop_positions()
            self._clock_stop()
            self._publish_status()
            self._changed()
        return paused

    def stop(self) -> None:
        was_playing = self.player.playing
        with self._writer:
            with self.lock:
                applied, failed = self.player.stop()
                self.metronome.clear()
                position = self.player.position.as_dict()
            events: list[tuple[str, dict[str, Any]]] = [("change_applied", c.as_dict()) for c in applied]
            events += [("error", {"message": f"Change {c.id} could not apply", "details": why}) for c, why in failed]
            self.bus.publish_many([*events, ("position", {**position, "cycle": 0, "tracks": []})])
        if was_playing:
            self._clock_stop()
        self._publish_tracks()
        self._publish_status()
        self._changed()
        if self.collector is not None:
            self.collector.stopped()

    def last_step_time_ns(self) -> int | None:
        """When the last step of a run of ``start(steps=N)`` sounds and ends (None: no end)."""
        with self.lock:
            player = self.player
            if player.end_tick is None or player.timeline is None:
                return None
            last = player.end_tick - 1
            step = last % player.state.environment.loop_steps
            return player.timeline.time_ns(last, step) + player.timeline.duration_ns(1)

    def status(self) -> dict[str, Any]:
        with self.lock:
            status = self.player.status()
            problems = self.metronome.problems.as_dict()
        return {**status, "output": self.output_name, "errors": problems, "link": self.link.status()}

    @property
    def state(self) -> st.PlayState:
        return self.player.state

    def projected_state(self) -> st.PlayState:
        """The state once every pending change has applied (what a new change builds on)."""
        return self.player.plan.final()

    # ---- pending changes ----------------------------------------------------------------

    def pending(self) -> list[dict[str, Any]]:
        return [c.as_dict() for c in self.player.plan.pending()]

    def cancel(self, change_id: str) -> PendingChange:
        with self._writer:
            with self.lock:
                plan = self.player.plan
            new_plan, change = plan.without(change_id)
            with self.lock:
                if self.player.plan is not plan:  # it applied meanwhile
                    new_plan, change = self.player.plan.without(change_id)
                self.player.install(new_plan, self.clock.now_ns())
        self._publish_status()
        return change

    def cancel_all(self) -> int:
        with self._writer, self.lock:
            count = len(self.player.plan)
            self.player.install(Plan(self.player.plan.current), self.clock.now_ns())
        self._publish_status()
        return count

    # ---- realtime triggers ----------------------------------------------------------------

    def trigger_osc(self, track_id: str, velocity: float = 1.0, note: float | None = None) -> None:
        """Play the track's sound now, outside the sequence: a bundle timetagged one lookahead
        from now, so the peer schedules it like every step (never late, never jittered)."""
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
                sends=sends_of(state, state.tracks[track_id]),
            )
            output = self.metronome.output
        self.metronome.report_send(output.play_at(self.clock.now_ns() + self.player.lookahead_ns, args))

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

    # ---- MIDI clock --------------------------------------------------------------------

    def set_midi_clock_out(self, on: bool) -> None:
        """Send MIDI clock (24 pulses a beat, start/continue/stop) on the MIDI output."""
        with self.lock:
            was, self.metronome.clock_out = self.metronome.clock_out, on
            if on and not was and self.player.playing:
                self.player.resume = "continue"  # the next step tells the device where we are
            if was and not on and self.player.playing:
                self.metronome.send_midi_at(self.clock.now_ns(), bytes((STOP,)))
        self.metronome.wake()

    def follow_midi_clock(self, port: str | None = None, transport: bool = True) -> str:
        """Take the tempo (and start/stop, with ``transport``) from a MIDI clock coming in on
        ``port`` (an input port's name; None: a virtual input others connect to)."""
        self.stop_following_midi_clock()
        if not self.midi.available:
            raise Unavailable(self.midi.unavailable_reason or "MIDI is unavailable")
        try:
            self.clock_follower = ClockFollower(
                lambda bpm: self.update_environment({"bpm": bpm}, NowTiming(type="now")),
                self._follow_transport if transport else None,
                api=_clock_in_api(self.midi),
                port=port,
            )
        except LookupError as exc:
            raise NotFound(str(exc)) from None
        return self.clock_follower.port_name

    def stop_following_midi_clock(self) -> None:
        if self.clock_follower is not None:
            self.clock_follower.close()
            self.clock_follower = None

    def _follow_transport(self, what: str) -> None:
        if what == "stop":
            self.pause()
        elif what == "start":
            self.stop()
            self.start()
        else:
            self.start()

    def midi_status(self) -> dict[str, Any]:
        follower = self.clock_follower
        return {
            "available": self.midi.available,
            "api": self.midi.api_name,
            "port": self.midi.port_name,
            "message": self.midi.unavailable_reason or self.midi_error,
            **path_status(self.midi, self.config.midi_latency_ns),  # e.g. "jack, timestamped, latency 5.3 ms"
            "thread": self.metronome.priority,  # e.g. "SCHED_FIFO 3"
            "clock": {
                "out": self.metronome.clock_out,
                "in": follower.port_name if follower is not None else None,
                "tempo": follower.tempo if follower is not None else None,
            },
        }

    # ---- SuperDirt ----------------------------------------------------------------------

    def _lookahead_ns(self, output: Any) -> int:
        seconds = self.config.lookahead if self.config.lookahead is not None else output.lookahead
        return round(seconds * 1e9)

    @property
    def lookahead(self) -> float:
        return self.player.lookahead_ns / 1e9

    def use_output(self, output: Any) -> None:
        """Send the steps to ``output`` from the next step on (the old one is closed), a
        lookahead ahead that suits it unless one was set."""
        templates = Templates(output)
        templates.warm([self.player.plan.current, *(b.state for b in self.player.plan.boundaries)])
        with self.lock:
            old, self.metronome.output = self.metronome.output, output
            self.metronome.templates = templates
            self.player.lookahead_ns = self._lookahead_ns(output)
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
        self.link.close()
        self.metronome.stop_thread()
        self.stop_following_midi_clock()
        if self.renderer is not None:
            self.renderer.stop()
        if self.warmer is not None:
            self.warmer.stop()
        if self._old_switch_interval is not None:
            sys.setswitchinterval(self._old_switch_interval)
        with self.lock:
            self.player.pause()
            self.metronome.clear()
            self.midi.close()
            if self.metronome.output is not self.superdirt:
                self.metronome.output.close()
            self.superdirt.close()
