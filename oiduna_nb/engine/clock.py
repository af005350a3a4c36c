"""The metronome: a thread of its own with one time-ordered queue of due actions.

It never waits for an asyncio loop. When a step's send time comes (its sound time
minus the lookahead) it asks the player for the step and sends its OSC bundle at
once; the step's MIDI notes and its position event go into the due queue for the
step's own time. ``run_due(now)`` does all of that for one instant, so tests drive
it with a manual clock and no thread, deterministically.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Any, Callable, Protocol

from .config import EngineConfig
from .outputs.midi_choice import AnyMidiOutput
from .outputs.osc import SendReport
from .player import Player, StepResult
from .midi_clock import PULSE, step_pulses, transport_messages
from .realtime import raise_priority
from .sequencer import MidiNote, StepOutput
from .templates import Templates
from .timeline import STEPS_PER_BAR, Position

# Hands a batch of (type, data) events to the bus: one call, however many events.
PublishMany = Callable[[list[tuple[str, dict[str, Any]]]], Any]
REPORT_EVERY_NS = 1_000_000_000
CLOCK_PULSE = bytes((PULSE,))  # send problems are reported at most once a second, never dropped


class SoundOutput(Protocol):
    """Where a step's sounds go: SuperDirt, or our instruments on scsynth."""

    name: str

    def send_step(self, step_time_ns: int, sounds: Any, prepared: Any = None) -> SendReport: ...

    def play_at(self, time_ns: int, args: dict[str, Any]) -> SendReport: ...

    def close(self) -> None: ...


class SendProblems:
    """Send errors and dropped messages, counted for ``status`` and reported as ``error``
    events within a second: the first at once, the rest summed up once a second."""

    def __init__(self) -> None:
        self.send_errors = 0
        self.dropped_messages = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None  # Unix time
        self._unreported: list[str] = []  # the first few reasons since the last report
        self._unreported_errors = 0
        self._unreported_dropped = 0
        self._last_report_ns: int | None = None

    def note(self, report: SendReport) -> None:
        problems = list(report.dropped)
        self.dropped_messages += len(report.dropped)
        self._unreported_dropped += len(report.dropped)
        if report.error is not None:
            self.send_errors += 1
            self._unreported_errors += 1
            problems.append(str(report.error))
        if problems:
            self.last_error, self.last_error_at = problems[-1], time.time()
            if len(self._unreported) < 3:
                self._unreported.extend(problems[: 3 - len(self._unreported)])

    def due_report(self, now_ns: int) -> dict[str, Any] | None:
        """An ``error`` event's data when there is something to say and a second has passed."""
        if not (self._unreported_errors or self._unreported_dropped):
            return None
        if self._last_report_ns is not None and now_ns - self._last_report_ns < REPORT_EVERY_NS:
            return None
        parts = []
        if self._unreported_errors:
            parts.append("OSC send failed" + (f" ({self._unreported_errors} times)" if self._unreported_errors > 1 else ""))
        if self._unreported_dropped:
            n = self._unreported_dropped
            parts.append(f"{n} message{'s' if n > 1 else ''} dropped")
        details = "; ".join(self._unreported)
        self._unreported, self._unreported_errors, self._unreported_dropped = [], 0, 0
        self._last_report_ns = now_ns
        return {"message": ", ".join(parts), "details": details}

    def next_report_ns(self) -> int | None:
        if not (self._unreported_errors or self._unreported_dropped) or self._last_report_ns is None:
            return None
        return self._last_report_ns + REPORT_EVERY_NS

    def as_dict(self) -> dict[str, Any]:
        return {
            "send_errors": self.send_errors,
            "dropped_messages": self.dropped_messages,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
        }


class Clock(Protocol):
    def now_ns(self) -> int: ...

    def to_unix_ns(self, mono_ns: int) -> int: ...


class SystemClock:
    """Monotonic time for scheduling; Unix time (for OSC timetags) by a fixed offset."""

    def __init__(self) -> None:
        samples = []
        for _ in range(5):  # the tightest bracket gives the best offset
            a = time.monotonic_ns()
            u = time.time_ns()
            b = time.monotonic_ns()
            samples.append((b - a, u - (a + b) // 2))
        self._offset = min(samples)[1]

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def to_unix_ns(self, mono_ns: int) -> int:
        return mono_ns + self._offset


class ManualClock:
    """A clock that moves only when told to: for deterministic tests."""

    def __init__(self, start_ns: int = 1_000_000_000, unix_offset_ns: int = 1_700_000_000 * 10**9) -> None:
        self.t = start_ns
        self.offset = unix_offset_ns

    def now_ns(self) -> int:
        return self.t

    def to_unix_ns(self, mono_ns: int) -> int:
        return mono_ns + self.offset

    def advance(self, seconds: float) -> int:
        self.t += round(seconds * 1e9)
        return self.t


class Metronome:
    def __init__(
        self,
        player: Player,
        lock: threading.RLock,
        clock: Clock,
        output: SoundOutput,
        midi: AnyMidiOutput,
        publish: PublishMany,
        config: EngineConfig,
    ) -> None:
        self.player = player
        self.lock = lock
        self.clock = clock
        self.output = output
        self.midi = midi
        self.publish = publish
        self.config = config
        self._due: list[tuple[int, int, str, Any]] = []
        self._order = itertools.count()
        self._wake = threading.Event()
        self._quit = False
        self._thread: threading.Thread | None = None
        self.priority = "normal (thread not started)"  # how the thread is scheduled, for status
        self.clock_out = False  # send MIDI clock (24 pulses a beat) with the steps
        self.stats = {"steps": 0, "late_steps": 0, "resyncs": 0, "cpu_ns": 0}
        self.on_new_cycle: Callable[[], None] | None = None  # a cycle begins: render the ones after it
        self.problems = SendProblems()
        self.templates = Templates(output)  # the output's messages of sequence events, encoded once

    # ---- the due queue ----------------------------------------------------------------

    def _push(self, due_ns: int, kind: str, payload: Any) -> None:
        heapq.heappush(self._due, (due_ns, next(self._order), kind, payload))

    def schedule_note(self, note: MidiNote) -> None:
        """Queue a MIDI note (its on, then its off). Caller holds the lock.

        A timestamped output (JACK) gets it now, a lookahead ahead with its intended
        times, and writes it at its frame; otherwise it waits in the due queue and is sent
        when due (rtmidi)."""
        if self.midi.timestamped:
            self.midi.schedule_note(note)
            return
        self._push(note.time_ns + self.config.midi_latency_ns, "note_on", note)

    def clear(self) -> None:
        """Drop everything queued and release every sounding note (transport stop)."""
        with self.lock:
            self._due.clear()
            self.midi.release_all()

    def _schedule_clock(self, result: StepResult) -> None:
        """The step's 6 clock pulses (24 a beat) on its unswung grid, after start/continue."""
        pulses = step_pulses(result.timeline.grid_ns(result.tick), result.timeline.step_ns)
        for message in transport_messages(result.resume, result.tick):
            self.send_midi_at(pulses[0], message)
        for at in pulses:
            self.send_midi_at(at, CLOCK_PULSE)

    def send_midi_at(self, time_ns: int, message: bytes) -> None:
        """A short MIDI message at ``time_ns`` (+ the MIDI latency): written at its frame by a
        timestamped output, else sent when it comes due. Caller holds the lock."""
        if self.midi.timestamped:
            self.midi.send_at(time_ns, message)
        else:
            self._push(time_ns + self.config.midi_latency_ns, "message", message)

    def drop_positions(self) -> None:
        """Forget the positions of steps sent ahead (a pause: the position holds where it is)."""
        with self.lock:
            self._due = [item for item in self._due if item[2] != "position"]
            heapq.heapify(self._due)

    def report_send(self, report: SendReport) -> None:
        """A send made outside the step (a realtime trigger): counted and reported the same way."""
        with self.lock:
            self.problems.note(report)
        self.wake()

    def run_due(self, now_ns: int) -> int | None:
        """Do everything due at ``now_ns``; returns when something is next due.

        The engine lock is held only to take the due steps (a state swap each) and to queue
        what they leave for later; working out a step's sounds and sending them happens
        outside it, so a command never waits behind a heavy step.
        """
        events: list[tuple[str, dict[str, Any]]] = []
        steps: list[StepResult] = []
        with self.lock:
            while (send_at := self.player.next_send_ns()) is not None and send_at <= now_ns:
                if now_ns - send_at > self.config.stall_resync_ns:
                    self.player.resync(now_ns)
                    self.stats["resyncs"] += 1
                    events.append(("error", {"message": "Clock stalled; resynchronised", "details": ""}))
                    continue
                result = self.player.advance()
                steps.append(result)
                self._note_changes(result, events)
            output, templates = self.output, self.templates
        played = [self._send_step(result, output, templates, now_ns) for result in steps]
        with self.lock:
            for result, (out, report) in zip(steps, played):
                self.problems.note(report)
                for note in out.notes:
                    self.schedule_note(note)
                if self.clock_out:
                    self._schedule_clock(result)
                sounding = sorted(out.track_ids())
                self._push(out.time_ns, "position", (out.step, out.tick, sounding))
            while self._due and self._due[0][0] <= now_ns:
                _, _, kind, payload = heapq.heappop(self._due)
                self._run_action(kind, payload, events)
            report = self.problems.due_report(now_ns)
            if report is not None:
                events.append(("error", report))
            candidates = (self.player.next_send_ns(), self._due[0][0] if self._due else None,
                          self.problems.next_report_ns())
            next_due = [t for t in candidates if t is not None]
        if events:
            self.publish(events)  # one hand-over for the whole batch: O(1) here
        return min(next_due) if next_due else None

    def _note_changes(self, result: StepResult, events: list) -> None:
        for change in result.applied:
            events.append(("change_applied", change.as_dict()))
        for change, reason in result.failed:
            events.append(("error", {"message": f"Change {change.id} could not apply", "details": reason}))
        if result.applied:
            events.append(("tracks", {"active_tracks": self.player.state.active_tracks()}))
            events.append(("status", self.player.status_event()))

    def _send_step(self, result: StepResult, output: Any, templates: Any, now_ns: int) -> tuple[StepOutput, SendReport]:
        cpu0 = time.thread_time_ns()
        out = result.output(self.player.cycles, templates)
        if out.time_ns < now_ns:
            self.stats["late_steps"] += 1
        prepared = None if out.prepared is None else (out.prepared, out.tick, out.step, out.timeline)
        report = output.send_step(out.time_ns, out.sounds, prepared)
        if out.tick % 16 == 0 and self.on_new_cycle is not None:
            self.on_new_cycle()
        self.stats["steps"] += 1
        self.stats["cpu_ns"] += time.thread_time_ns() - cpu0
        return out, report

    def _run_action(self, kind: str, payload: Any, events: list) -> None:
        if kind == "position":
            step, tick, sounding = payload
            self.player.position = Position.of(step)
            # the cycle (bar since the start) tells a piano roll which cycle of a pattern sounds
            events.append(("position", {**self.player.position.as_dict(), "cycle": tick // STEPS_PER_BAR,
                                        "tracks": sounding}))
        elif kind == "note_on":
            note: MidiNote = payload
            generation = self.midi.note_on(note.channel, note.note, note.velocity)
            self._push(note.off_ns + self.config.midi_latency_ns, "note_off", (note.channel, note.note, generation))
        elif kind == "note_off":
            self.midi.note_off(*payload)
        elif kind == "message":
            self.midi.send_message(payload)

    # ---- the thread -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._quit = False
        self._thread = threading.Thread(target=self._run, name="oiduna-metronome", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Something changed (a start, a tempo): recompute when to wake."""
        self._wake.set()

    def _run(self) -> None:
        self.priority = raise_priority()  # SCHED_FIFO where the OS allows it, else as it was
        while not self._quit:
            self._wake.clear()  # before the work: a wake() during it is not lost
            try:
                next_due = self.run_due(self.clock.now_ns())
            except Exception as exc:  # never let the clock die; say what happened
                self.publish([("error", {"message": "Metronome error", "details": repr(exc)})])
                next_due = self.clock.now_ns() + 10_000_000
            timeout = None if next_due is None else max(0.0, (next_due - self.clock.now_ns()) / 1e9)
            self._wake.wait(timeout)

    def stop_thread(self) -> None:
        self._quit = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
