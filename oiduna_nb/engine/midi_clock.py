"""MIDI clock: out, so hardware follows our tempo; in, so we follow another machine's.

Out: 24 pulses per quarter note, i.e. 6 per 16th step, at the exact times of the step's
unswung grid (the timeline's, never a thread's wake-up), queued with the step's notes a
lookahead ahead; start / continue (after a song position) / stop with the transport. The
messages go through the MIDI output's own path: written at their frame through JACK,
or sent at their time through rtmidi.

In: a ``ClockFollower`` reads an input port's pulses, measures the tempo over the last beats
and sets the engine's tempo through its command path (start, stop and continue follow too,
if asked).
"""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from typing import Any, Callable

PULSE, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2
PULSES_PER_STEP = 6  # 24 per quarter note; a step is a 16th
PULSES_PER_BEAT = 24


def step_pulses(grid_ns: int | Fraction, step_ns: Fraction) -> list[int]:
    """The 6 pulse times of a step that starts (unswung) at ``grid_ns``."""
    return [round(grid_ns + step_ns * k / PULSES_PER_STEP) for k in range(PULSES_PER_STEP)]


def song_position(tick: int) -> bytes:
    """Song position pointer: the count of 16ths ("MIDI beats") from the start, 14 bits."""
    tick %= 1 << 14
    return bytes((SONG_POSITION, tick & 0x7F, tick >> 7))


def transport_messages(resume: str | None, tick: int) -> list[bytes]:
    """What precedes a step's first pulse when the transport has just (re)started."""
    if resume == "start":
        return [bytes((START,))]
    if resume == "continue":
        return [song_position(tick), bytes((CONTINUE,))]
    return []


POLL_S = 0.002  # how often the follower reads its port's queue


class ClockFollower:
    """Follows a MIDI clock coming in on ``port`` (a virtual input when None), through
    python-rtmidi. ``set_tempo(bpm)`` and ``transport(name)`` are the engine's commands.

    The port's queue is read by a thread of ours, never through a callback: rtmidi calls a
    callback from the MIDI system's own thread, on JACK the real-time process thread, and a
    Python callback there waits for the GIL (a busy cell holds it): every JACK client (the
    audio too) would wait with it. Pulse times come from rtmidi's timestamps (taken when the
    message arrived), so the polling adds no jitter to the tempo."""

    def __init__(self, set_tempo: Callable[[float], None], transport: Callable[[str], None] | None,
                 api: Any = None, port: str | None = None, beats: int = 4, tolerance: float = 0.25) -> None:
        import rtmidi

        self._set_tempo, self._transport = set_tempo, transport
        self.beats, self.tolerance = beats, tolerance
        self.tempo: float | None = None
        self.pulses = 0
        self._times: list[int] = []
        self._lock = threading.Lock()
        self._in = rtmidi.MidiIn(api if api is not None else rtmidi.API_UNSPECIFIED, name="oiduna_nb clock",
                                 queue_size_limit=4096)
        self._in.ignore_types(sysex=True, timing=False, active_sense=True)
        if port is None:
            self._in.open_virtual_port("clock in")
            self.port_name = "clock in"
        else:
            names = self._in.get_ports()
            matches = [i for i, n in enumerate(names) if n == port or n.startswith(port) or port in n]
            if not matches:
                self._in.delete()
                raise LookupError(f"no MIDI input named {port!r}; inputs: {names}")
            self._in.open_port(matches[0])
            self.port_name = names[matches[0]]
        self._stop = threading.Event()
        self._last_ns: int | None = None  # when the last message arrived (monotonic)
        self._thread = threading.Thread(target=self._read, name="oiduna-midi-clock-in", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.wait(POLL_S):
            while (event := self._in.get_message()) is not None:
                message, delta_s = event
                # rtmidi gives each message's time since the one before: the first one read
                # after a silence is placed at now, the ones after it by their deltas
                if self._last_ns is None or delta_s > 1.0:
                    arrived = time.monotonic_ns()
                else:
                    arrived = self._last_ns + round(delta_s * 1e9)
                self._last_ns = arrived
                try:
                    self._message(message, arrived)
                except Exception:  # a command the engine refused: the next pulse tries again
                    pass

    def _message(self, message: list[int], arrived_ns: int) -> None:
        if not message:
            return
        status = message[0]
        if status == PULSE:
            self._pulse(arrived_ns)
        elif status in (START, CONTINUE, STOP):
            with self._lock:
                self._times.clear()  # a tempo is measured from pulses of one run, never across a pause
            if self._transport is not None:
                self._transport({START: "start", CONTINUE: "continue", STOP: "stop"}[status])

    def _pulse(self, now_ns: int) -> None:
        window = self.beats * PULSES_PER_BEAT
        with self._lock:
            self.pulses += 1
            self._times.append(now_ns)
            if len(self._times) > window + 1:
                del self._times[: len(self._times) - window - 1]
            if len(self._times) <= window or self.pulses % PULSES_PER_BEAT:
                return  # a tempo is told once a beat, from the last ``beats`` beats
            # the span of the window, not each gap: pulses read in batches (a JACK period) jitter
            # one by one, but their average over a few beats is exact to a fraction of a bpm
            span = self._times[-1] - self._times[0]
            bpm = 60e9 * (len(self._times) - 1) / (span * PULSES_PER_BEAT)
        if self.tempo is None or abs(bpm - self.tempo) > self.tolerance:
            self.tempo = round(bpm, 2)
            self._set_tempo(self.tempo)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        self._in.close_port()
        self._in.delete()
