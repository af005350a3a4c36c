"""A JACK MIDI receiver for the tests: a real JACK client that stamps every message with
the frame it arrived on (``last_frame_time + offset``), and JACK's own time base for that
cycle, so a test can compute the frame a message was meant for from its intended time.

It reads JACK's clock and time base through its own small cffi binding, independently of
the engine's code under test.
"""

from __future__ import annotations

import time
from collections import deque
from ctypes.util import find_library
from dataclasses import dataclass

import cffi
import jack

_ffi = cffi.FFI()
_ffi.cdef(
    """
    uint64_t jack_get_time(void);
    int jack_get_cycle_times(const void *client, uint32_t *current_frames, uint64_t *current_usecs,
                             uint64_t *next_usecs, float *period_usecs);
    """
)
_lib = _ffi.dlopen(find_library("jack"))


@dataclass(frozen=True)
class Arrival:
    frame: int  # JACK's frame counter where the message is
    data: tuple[int, ...]
    cycle_frame: int  # the cycle it arrived in: its first frame, start and next start (µs)
    cycle_usecs: int
    next_usecs: int
    nframes: int
    to_jack_ns: float  # JACK's clock minus the monotonic clock, measured in that cycle

    def frame_of(self, mono_ns: float) -> float:
        """The frame JACK's time base puts the monotonic time ``mono_ns`` on (this cycle's terms)."""
        span_ns = (self.next_usecs - self.cycle_usecs) * 1000
        return self.cycle_frame + (mono_ns + self.to_jack_ns - self.cycle_usecs * 1000) * self.nframes / span_ns


class JackReceiver:
    def __init__(self, name: str = "rx", port: str = "in") -> None:
        self.client = jack.Client(name, no_start_server=True)
        self.port = self.client.midi_inports.register(port)
        self.arrivals: list[Arrival] = []
        self.cycles: deque[tuple[int, int, int]] = deque(maxlen=40_000)  # (first frame, start µs, frames)
        self._handle = _ffi.cast("void *", int(jack._ffi.cast("uintptr_t", self.client._ptr)))
        self._f = _ffi.new("uint32_t *")
        self._u = _ffi.new("uint64_t *")
        self._n = _ffi.new("uint64_t *")
        self._p = _ffi.new("float *")
        self.client.set_process_callback(self._process)
        self.client.activate()
        self.name = self.port.name

    def _process(self, frames: int) -> None:
        _lib.jack_get_cycle_times(self._handle, self._f, self._u, self._n, self._p)
        self.cycles.append((self._f[0], self._u[0], frames))
        events = list(self.port.incoming_midi_events())
        if not events:
            return
        to_jack = jack_offset_ns(tries=3)
        start = self.client.last_frame_time
        for offset, data in events:
            self.arrivals.append(
                Arrival(start + offset, tuple(bytes(data)), start, self._u[0], self._n[0], frames, to_jack)
            )

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Arrival]:
        """Wait until ``count`` messages have arrived (delivery, not timing)."""
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count and time.monotonic() < deadline:
            time.sleep(0.005)
        return list(self.arrivals)

    def kept_time(self, first_frame: int, last_frame: int) -> bool:
        """Whether JACK's time base ran steadily from the cycle before ``first_frame`` to
        ``last_frame``: every cycle followed the last one, about a period later. A server
        starved of CPU (a dummy server, not real-time, on a busy machine) stalls, then
        catches up with its time base jumped: what was due in the gap is written late, at
        the start of the first cycle after it, and no placement can be right."""
        cycles = [c for c in self.cycles if first_frame - 2 * c[2] <= c[0] <= last_frame]
        for (frame0, usecs0, frames), (frame1, usecs1, _) in zip(cycles, cycles[1:]):
            period_us = frames * 1e6 / self.client.samplerate
            if frame1 - frame0 != frames or not 0.5 * period_us <= usecs1 - usecs0 <= 1.5 * period_us:
                return False
        return len(cycles) > 1

    def messages(self) -> list[tuple[int, ...]]:
        return [a.data for a in self.arrivals]

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def jack_offset_ns(tries: int = 20) -> float:
    """JACK's clock minus time.monotonic_ns, from the tightest of a few brackets (a JACK
    client must be open in this process)."""
    best = None
    for _ in range(tries):
        a = time.monotonic_ns()
        j = _lib.jack_get_time()
        b = time.monotonic_ns()
        if best is None or b - a < best[0]:
            best = (b - a, j * 1000 + 500 - (a + b) / 2)
    return best[1]


class JackClockSender:
    """A MIDI clock master: a real JACK client writing a start and then 24 pulses a beat at
    ``bpm``, each at its exact frame (what a drum machine or a DAW sends)."""

    def __init__(self, bpm: float, name: str = "master", port: str = "clock") -> None:
        self.client = jack.Client(name, no_start_server=True)
        self.port = self.client.midi_outports.register(port)
        self.frames_per_pulse = self.client.samplerate * 60 / bpm / 24
        self.started = False
        self.stopping = False
        self._next = None
        self.client.set_process_callback(self._process)
        self.client.activate()
        self.name = self.port.name

    def _process(self, frames: int) -> None:
        self.port.clear_buffer()
        start = self.client.last_frame_time
        if self.stopping:
            self.port.write_midi_event(0, bytes((0xFC,)))
            self.stopping, self._next = False, None
            return
        if self._next is None:
            if not self.started:
                return
            self._next = float(start)
            self.port.write_midi_event(0, bytes((0xFA,)))
        while self._next < start + frames:
            self.port.write_midi_event(max(0, int(self._next) - start), bytes((0xF8,)))
            self._next += self.frames_per_pulse

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False
        self.stopping = True

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()
