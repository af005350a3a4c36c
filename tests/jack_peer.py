"""A JACK MIDI receiver for the tests: a real JACK client that stamps every message with
the frame it arrived on (``last_frame_time + offset``), and JACK's own time base for that
cycle, so a test can compute the frame a message was meant for from its intended time.

It reads JACK's clock and time base through its own small cffi binding, independently of
the engine's code under test.
"""

from __future__ import annotations

import subprocess
import sys
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
        ``last_frame``: every cycle followed the last one, a period later (within 3%). A
        server that stalled (a dummy server, not real-time, on a busy machine, or a client
        that kept it waiting) catches up with its time base off for seconds: what is due
        then is written late, at the start of a cycle, and no placement can be right."""
        return _steady([c for c in self.cycles if first_frame - 2 * c[2] <= c[0] <= last_frame], self.client.samplerate)

    def wait_steady(self, cycles: int = 100, timeout: float = 20.0) -> bool:
        """Wait until JACK's time base has run steadily for the last ``cycles`` cycles."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            recent = list(self.cycles)[-cycles:]
            if len(recent) == cycles and _steady(recent, self.client.samplerate):
                return True
            time.sleep(0.05)
        return False

    def messages(self) -> list[tuple[int, ...]]:
        return [a.data for a in self.arrivals]

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def _steady(cycles: list[tuple[int, int, int]], samplerate: int) -> bool:
    for (frame0, usecs0, frames), (frame1, usecs1, _) in zip(cycles, cycles[1:]):
        period_us = frames * 1e6 / samplerate
        if frame1 - frame0 != frames or abs(usecs1 - usecs0 - period_us) > 0.03 * period_us:
            return False
    return len(cycles) > 1


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
    ``bpm``, each at its exact frame (what a drum machine or a DAW sends).

    It runs in a process of its own, as a DAW would: a Python process callback in the test's
    process would wait for the GIL whenever the engine under test calls into JACK holding it
    (rtmidi opening a port), and JACK would stall every client until its timeout (5 s)."""

    def __init__(self, bpm: float, name: str = "master", port: str = "clock") -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "clock-master", name, port, str(bpm)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.name = self.proc.stdout.readline().strip()  # the port, once the client is active
        if not self.name:
            raise RuntimeError("the clock master did not start")
        self.client = jack.Client(name + "-ctl", no_start_server=True)  # never activated: ports, connections

    def _say(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def start(self) -> None:
        self._say("start")

    def stop(self) -> None:
        self._say("stop")

    def close(self) -> None:
        self.client.close()
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def _clock_master(name: str, port_name: str, bpm: float) -> None:
    """The clock master's process: start / stop lines on stdin, until it closes."""
    client = jack.Client(name, no_start_server=True)
    port = client.midi_outports.register(port_name)
    frames_per_pulse = client.samplerate * 60 / bpm / 24
    state = {"started": False, "stopping": False, "next": None}

    def process(frames: int) -> None:
        port.clear_buffer()
        start = client.last_frame_time
        if state["stopping"]:
            port.write_midi_event(0, bytes((0xFC,)))
            state["stopping"], state["next"] = False, None
            return
        if state["next"] is None:
            if not state["started"]:
                return
            state["next"] = float(start)
            port.write_midi_event(0, bytes((0xFA,)))
        while state["next"] < start + frames:
            port.write_midi_event(max(0, int(state["next"]) - start), bytes((0xF8,)))
            state["next"] += frames_per_pulse

    client.set_process_callback(process)
    client.activate()
    print(port.name, flush=True)
    for line in sys.stdin:
        if line.strip() == "start":
            state["started"] = True
        elif line.strip() == "stop":
            state["started"], state["stopping"] = False, True
    client.deactivate()
    client.close()


if __name__ == "__main__" and sys.argv[1:2] == ["clock-master"]:
    _clock_master(sys.argv[2], sys.argv[3], float(sys.argv[4]))
