"""The real-time side of the timestamped JACK MIDI path, in a process of its own.

Why a process: JACK-Client runs the process callback in Python, and a Python callback
needs the GIL. A notebook cell busy in pure Python holds the GIL of the kernel's process;
measured with the callback in that process, it started p50 1.1 ms / p99 5.4 ms into its
5.3 ms cycle and caused 70 xruns a second (still p99 4.9 ms with a 0.2 ms switch
interval). Here the callback shares its GIL only with this process's main thread, which
sleeps on its control pipe: nothing the engine's process runs can delay it.

Run by ``JackMidiOutput`` as ``python .../jack_process.py NAME FD`` (a script, so it starts
without importing the engine: 0.5 s less, and only JACK-Client in memory):
records arrive on the pipe ``FD`` (non-blocking, read in the process callback, whole
records only); control commands are JSON lines on stdin, answered on stdout. It exits
when stdin closes (the engine closed it, or its process died).

Time: JACK's clock (``jack_get_time``, µs) is CLOCK_MONOTONIC_RAW on Linux, not the
monotonic clock our timeline uses (108 ms apart here, and their rates differ by the NTP
correction), so every cycle measures the offset between the two. JACK's time base
(``jack_get_cycle_times``: the DLL-filtered start of this cycle and of the next) maps a
time to a frame of the cycle. JACK-Client exposes neither: a small cffi binding calls
them on the client's own handle.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from ctypes.util import find_library
from pathlib import Path
from typing import Any

try:
    from ..realtime import raise_priority
    from .midi_schedule import RECORD, CycleSchedule
except ImportError:  # run as a script, beside midi_schedule.py and below realtime.py
    sys.path.append(str(Path(__file__).resolve().parent.parent))
    from midi_schedule import RECORD, CycleSchedule  # type: ignore[no-redef]
    from realtime import raise_priority  # type: ignore[no-redef]

PORT_NAME = "out"
READ_PER_CYCLE = 240 * RECORD.size  # bounded work per cycle (and ≤ PIPE_BUF); the rest waits a cycle
GOOD_BRACKET_NS = 20_000  # a clock comparison bracketed tighter than this was not preempted

_CDEF = """
uint64_t jack_get_time(void);
int jack_get_cycle_times(const void *client, uint32_t *current_frames, uint64_t *current_usecs,
                         uint64_t *next_usecs, float *period_usecs);
"""


class JackTime:
    """JACK's clock and time base, for the functions JACK-Client leaves out."""

    def __init__(self, jack_module: Any, client: Any) -> None:
        import cffi

        self.ffi = cffi.FFI()
        self.ffi.cdef(_CDEF)
        self.lib = self.ffi.dlopen(getattr(jack_module, "_libname", None) or find_library("jack"))
        handle = getattr(client, "_ptr", None)  # JACK-Client's jack_client_t*
        if handle is None:
            raise RuntimeError("this JACK-Client version hides its client handle")
        self.client = self.ffi.cast("void *", int(jack_module._ffi.cast("uintptr_t", handle)))
        self._frames = self.ffi.new("uint32_t *")
        self._usecs = self.ffi.new("uint64_t *")
        self._next = self.ffi.new("uint64_t *")
        self._period = self.ffi.new("float *")
        self.source = self._identify_clock()

    def _identify_clock(self) -> str:
        """Which system clock JACK's µs clock is (checked, not assumed)."""
        for name in ("CLOCK_MONOTONIC_RAW", "CLOCK_MONOTONIC"):
            clock_id = getattr(time, name, None)
            if clock_id is None:
                continue
            gaps = []
            for _ in range(5):
                a = time.clock_gettime_ns(clock_id)
                j = self.lib.jack_get_time() * 1000
                b = time.clock_gettime_ns(clock_id)
                gaps.append(abs(j + 500 - (a + b) // 2))
            if min(gaps) < 5_000:
                return name
        return "JACK's own clock"

    def offset_ns(self) -> tuple[int, int]:
        """(JACK time − monotonic time, bracket width), both ns, to about a µs."""
        a = time.monotonic_ns()
        j = self.lib.jack_get_time()
        b = time.monotonic_ns()
        return j * 1000 + 500 - (a + b) // 2, b - a

    def cycle(self) -> tuple[int, int] | None:
        """Start of this cycle and of the next, ns of JACK's clock (process thread only)."""
        if self.lib.jack_get_cycle_times(self.client, self._frames, self._usecs, self._next, self._period):
            return None
        return self._usecs[0] * 1000, self._next[0] * 1000


class RealtimeSide:
    """The JACK client with our MIDI output port, and its process callback."""

    def __init__(self, jack: Any, client: Any, fd: int) -> None:
        self.jack, self.client, self.fd = jack, client, fd
        self.port = client.midi_outports.register(PORT_NAME)
        self.time = JackTime(jack, client)
        self.schedule = CycleSchedule()
        self.samplerate = client.samplerate
        self.to_jack_ns = self.time.offset_ns()[0]
        self.written_until_ns = 0  # monotonic time up to which every due record was written
        self.xruns = self.dropped = self.errors = 0
        client.set_process_callback(self.process)
        client.set_xrun_callback(self.on_xrun)
        client.activate()

    def process(self, frames: int) -> None:
        try:
            self.port.clear_buffer()
            try:
                data = os.read(self.fd, READ_PER_CYCLE)  # non-blocking; whole records (writes ≤ PIPE_BUF)
            except BlockingIOError:
                data = b""
            if data:
                self.schedule.take(data)
            cycle = self.time.cycle()
            if cycle is None:  # no cycle times (an old JACK): this cycle from the clock
                start = self.time.lib.jack_get_time() * 1000 - round(
                    self.client.frames_since_cycle_start * 1e9 / self.samplerate
                )
                cycle = start, start + round(frames * 1e9 / self.samplerate)
            offset, width = self.time.offset_ns()
            if width < GOOD_BRACKET_NS:
                self.to_jack_ns = offset
            self.schedule.run(cycle[0], cycle[1], frames, self.to_jack_ns, self.write)
            self.written_until_ns = cycle[1] - self.to_jack_ns
        except Exception:  # an exception would stop the callback for good: count it, go on
            self.errors += 1

    def write(self, offset: int, data: bytes) -> None:
        try:
            self.port.write_midi_event(offset, data)
        except self.jack.JackError:  # the port's buffer is full this cycle
            self.dropped += 1

    def on_xrun(self, delayed_usecs: float) -> None:
        self.xruns += 1

    def stats(self) -> dict[str, Any]:
        return {
            "xruns": self.xruns,
            "late": self.schedule.late,
            "dropped": self.dropped + self.schedule.overflow,
            "callback_errors": self.errors,
            "written_until_ns": self.written_until_ns,
            "sounding": self.schedule.sounding(),
            "jack_clock": self.time.source,
        }

    def wait_written(self, until_ns: int, timeout: float = 1.0) -> bool:
        deadline = time.monotonic() + timeout
        while self.written_until_ns < until_ns:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return True


def serve(client_name: str, fd: int) -> None:
    import jack

    # This thread takes the GIL now and then (a command); were it preempted while holding
    # it, the real-time callback would wait: so it runs real-time too, where allowed.
    raise_priority()
    os.set_blocking(fd, False)
    reply = lambda data: print(json.dumps(data), flush=True)  # noqa: E731
    try:
        client = jack.Client(client_name, no_start_server=True)
        side = RealtimeSide(jack, client, fd)
    except Exception as exc:  # no server, no libjack, a JACK-Client we cannot drive
        reply({"error": str(exc) or type(exc).__name__})
        return
    gc.freeze()  # what is loaded stays: a collection in the callback has less to scan
    reply({"port": side.port.name, "realtime": client.realtime})
    for line in sys.stdin:  # the main thread sleeps here: the callback has the GIL to itself
        command = json.loads(line)
        if command["op"] == "stats":
            reply(side.stats())
        elif command["op"] == "wait":
            reply({"written": side.wait_written(command["until_ns"])})
    client.deactivate()
    client.close()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
