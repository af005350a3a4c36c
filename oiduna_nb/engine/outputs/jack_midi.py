"""MIDI through JACK, each message written at the frame of its intended time.

Threads. The control side (the metronome, or a command such as panic) queues records
(time, bytes) a lookahead ahead into JACK's lock-free single-producer ring; producers
take a lock of their own so only one writes at a time, and the real-time side never
takes it. JACK's process callback (its own thread) reads what is new, keeps what is due
later (``CycleSchedule``) and writes what falls in the current cycle at its frame with
``write_midi_event(offset, ...)``. It never waits for the metronome: it needs only the
GIL, which Python hands over within the switch interval (the engine sets 1 ms).

Time. JACK's clock (``jack_get_time``, µs) is CLOCK_MONOTONIC_RAW on Linux, not the
monotonic clock our timeline uses (measured here: 108 ms apart, and their rates differ
by the NTP correction), so every cycle measures the offset between the two. JACK's
time base (``jack_get_cycle_times``: the DLL-filtered start of this cycle and of the
next) then maps a time to a frame of the cycle. JACK-Client does not expose those two
functions: a small cffi binding calls them on the client's own handle.

Latency. Every message sounds a constant ``latency_ns`` after its intended time:
``max(the midi_latency setting, one JACK period)``, so a note queued at its own time (a
trigger) still reaches its frame. The receiver of our port (a synth, or a2jmidid to an
ALSA device) sees each message on frame ``F(time + latency)``.
"""

from __future__ import annotations

import os
import threading
import time
from ctypes.util import find_library
from typing import Any

from ..errors import NotFound, Unavailable
from .midi import CHANNELS, CONTROL_CHANGE, ALL_NOTES_OFF, ALL_SOUND_OFF, PortInfo, _find_port, quiet_fd
from .midi_schedule import DROP, MSG, OFF, ON, RECORD, RELEASE, CycleSchedule, encode

PORT_NAME = "out"
RING_BYTES = 1 << 16  # 3,855 records: minutes of dense notes queued a lookahead ahead
READ_PER_CYCLE = 256 * RECORD.size  # bounded work per cycle; the rest waits a cycle
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


class JackMidiOutput:
    """A JACK client with one MIDI output port; timestamped, so it plays ahead of time."""

    timestamped = True
    api_name = "jack"

    def __init__(self, latency: float = 0.0, client_name: str = "oiduna_nb") -> None:
        os.environ.setdefault("JACK_NO_START_SERVER", "1")  # never start a server of our own
        self.port_name: str | None = None
        self.unavailable_reason: str | None = None
        self.setting_ns = round(latency * 1e9)
        self.xruns = self.dropped = self.callback_errors = 0
        self._client: Any = None
        self._producer = threading.Lock()  # producers only; the process callback never takes it
        self._schedule = CycleSchedule()
        self._next_id = 0
        self._to_jack_ns = 0
        self._written_until_ns = 0  # monotonic time up to which every due record was written
        try:
            import jack
        except (ImportError, OSError) as exc:  # OSError: JACK-Client without libjack
            self.unavailable_reason = f"JACK MIDI is unavailable: {exc}"
            return
        self._jack = jack
        try:
            with quiet_fd(2):
                client = jack.Client(client_name, no_start_server=True)
        except jack.JackError as exc:
            self.unavailable_reason = f"JACK MIDI is unavailable: no JACK server answered ({exc})"
            return
        try:
            self._port = client.midi_outports.register(PORT_NAME)
            self._ring = jack.RingBuffer(RING_BYTES)
            self._time = JackTime(jack, client)
            self._to_jack_ns = self._time.offset_ns()[0]
            self._period_ns = round(client.blocksize * 1e9 / client.samplerate)
            self._samplerate = client.samplerate
            client.set_process_callback(self._process)
            client.set_xrun_callback(self._on_xrun)
            client.set_blocksize_callback(self._on_blocksize)
            client.set_shutdown_callback(self._on_shutdown)
            client.activate()
        except Exception as exc:  # a JACK-Client or libjack we cannot drive: say so, use rtmidi
            client.close()
            self.unavailable_reason = f"JACK MIDI is unavailable: {exc}"
            return
        self._client = client
        self.own_port = self._port.name

    # ---- what it is ---------------------------------------------------------------

    @property
    def available(self) -> bool:
        return self._client is not None

    @property
    def latency_ns(self) -> int:
        """How long after its intended time every message sounds: constant, ≥ one period."""
        return max(self.setting_ns, self._period_ns) if self.available else self.setting_ns

    @property
    def path(self) -> str:
        return f"jack, timestamped, latency {self.latency_ns / 1e6:.1f} ms"

    def stats(self) -> dict[str, Any]:
        if not self.available:
            return {}
        return {
            "xruns": self.xruns,
            "late": self._schedule.late,
            "dropped": self.dropped + self._schedule.overflow,
            "period_frames": self._client.blocksize,
            "sample_rate": self._samplerate,
            "jack_clock": self._time.source,
        }

    def _require(self) -> Any:
        if self._client is None:
            raise Unavailable(self.unavailable_reason or "JACK MIDI is unavailable")
        return self._client

    # ---- the real-time side -----------------------------------------------------------

    def _process(self, frames: int) -> None:
        try:
            self._port.clear_buffer()
            ring = self._ring
            space = ring.read_space
            if space >= RECORD.size:
                size = min(space, READ_PER_CYCLE)
                self._schedule.take(ring.read(size - size % RECORD.size))
            cycle = self._time.cycle()
            if cycle is None:  # no cycle times (an old JACK): this cycle from the clock
                start = self._time.lib.jack_get_time() * 1000 - round(
                    self._client.frames_since_cycle_start * 1e9 / self._samplerate
                )
                cycle = start, start + round(frames * 1e9 / self._samplerate)
            offset, width = self._time.offset_ns()
            if width < GOOD_BRACKET_NS:
                self._to_jack_ns = offset
            self._schedule.run(cycle[0], cycle[1], frames, self._to_jack_ns, self._write)
            self._written_until_ns = cycle[1] - self._to_jack_ns
        except Exception:  # an exception would stop the callback for good: count it, go on
            self.callback_errors += 1

    def _write(self, offset: int, data: bytes) -> None:
        try:
            self._port.write_midi_event(offset, data)
        except self._jack.JackError:  # the port's buffer is full this cycle
            self.dropped += 1

    def _on_xrun(self, delayed_usecs: float) -> None:
        self.xruns += 1

    def _on_blocksize(self, blocksize: int) -> None:
        self._period_ns = round(blocksize * 1e9 / self._samplerate)

    def _on_shutdown(self, status: Any, reason: str) -> None:
        # JACK's thread: only note it (no client calls here); sends become no-ops
        self.unavailable_reason = f"JACK server shut down ({reason}); MIDI is silent, OSC keeps playing"
        self._client = None

    # ---- the control side: queue ahead --------------------------------------------------

    def _queue(self, records: bytes) -> bool:
        if self._client is None:
            return False
        with self._producer:
            if self._ring.write_space < len(records):
                self.dropped += len(records) // RECORD.size
                return False
            self._ring.write(records)
        return True

    def schedule_note(self, note: Any) -> None:
        """Queue a note-on at ``note.time_ns`` and its note-off at ``note.off_ns``
        (monotonic ns, before the latency), as soon as the step is computed."""
        self._next_id = self._next_id % 0xFFFFFFFF + 1  # never 0
        on = bytes((0x90 | note.channel, note.note, note.velocity))
        off = bytes((0x80 | note.channel, note.note, 0))
        latency = self.latency_ns
        self._queue(
            encode(ON, note.time_ns + latency, self._next_id, on)
            + encode(OFF, note.off_ns + latency, self._next_id, off)
        )

    def send_at(self, time_ns: int, message: bytes | list[int]) -> None:
        """Any short MIDI message (a clock pulse 0xF8, start 0xFA, stop 0xFC, continue 0xFB,
        song position 0xF2 lsb msb, a CC) at ``time_ns`` (monotonic) + the latency."""
        self._queue(encode(MSG, time_ns + self.latency_ns, 0, bytes(message)))

    def release_all(self) -> None:
        """Transport stop: forget every record not yet played; release every sounding note."""
        now = time.monotonic_ns() + self.latency_ns
        self._queue(encode(DROP, now, 0) + encode(RELEASE, now, 0))

    def panic(self) -> None:
        """Release everything, then all-notes-off and all-sound-off on all 16 channels,
        through the same path."""
        now = time.monotonic_ns() + self.latency_ns
        records = [encode(DROP, now, 0), encode(RELEASE, now, 0)]
        for channel in CHANNELS:
            records.append(encode(MSG, now, 0, bytes((CONTROL_CHANGE | channel, ALL_NOTES_OFF, 0))))
            records.append(encode(MSG, now, 0, bytes((CONTROL_CHANGE | channel, ALL_SOUND_OFF, 0))))
        self._queue(b"".join(records))

    def sounding(self) -> list[tuple[int, int]]:
        return self._schedule.sounding()

    def _release_and_wait(self) -> None:
        """Note-offs for what sounds, delivered before the connections change."""
        due = time.monotonic_ns() + self.latency_ns
        if not self._queue(encode(RELEASE, due, 0)):
            return
        # one period more: a release half a frame before a cycle's end rounds into the next
        written = due + self._period_ns
        deadline = time.monotonic() + 1.0  # a stalled server must not hang the caller
        while self._written_until_ns < written and time.monotonic() < deadline and self._client is not None:
            time.sleep(0.001)

    # ---- ports ----------------------------------------------------------------------------

    def ports(self) -> list[PortInfo]:
        """Every JACK MIDI port but ours. ``is_output``: one we can send to (a JACK input)."""
        client = self._require()
        own = {p.name for p in client.midi_outports}
        return [
            PortInfo(p.name, is_input=p.is_output, is_output=p.is_input)
            for p in client.get_ports(is_midi=True)
            if p.name not in own
        ]

    def select(self, name: str) -> str:
        """Connect our port to the MIDI input called ``name`` (exact, else prefix, else
        substring) and to nothing else."""
        client = self._require()
        names = [p.name for p in client.get_ports(is_midi=True, is_input=True)]
        index = _find_port(names, name)
        if index is None:
            raise NotFound(f"MIDI port not found: {name}")
        self._release_and_wait()
        self._port.disconnect()
        client.connect(self._port, names[index])
        self.port_name = names[index]
        return self.port_name

    def open_virtual(self, name: str | None = None) -> str:
        """No output chosen: our own port, connected to nothing, for synths and DAWs to
        connect to (JACK names it ``<client>:out``)."""
        self._require()
        self._release_and_wait()
        self._port.disconnect()
        self.port_name = self.own_port
        return self.port_name

    def close(self) -> None:
        client = self._client
        if client is None:
            return
        self.release_all()
        self._release_and_wait()
        self._client = None
        client.deactivate()
        client.close()
        self.unavailable_reason = "MIDI output closed"
