"""MIDI through JACK, each message written at the frame of its intended time.

Two processes, three threads that matter:

- Here, in the engine's process, the control side: the metronome queues records
  (time, bytes; see ``midi_schedule``) a lookahead ahead, as soon as a step is computed,
  with one non-blocking ``write`` each to a pipe (whole records, ≤ PIPE_BUF, so the
  kernel delivers each write whole). A full pipe drops and counts; it never blocks.
  Producers take a lock of their own, so one writes at a time; nothing on the
  real-time side ever takes it. A JACK client that is never activated (no thread, no
  callback) lists ports and makes connections.
- A helper process (``jack_process.py``) owns the JACK client with our output port.
  Its process callback reads the pipe without blocking, keeps what is due later, and
  writes what falls in the current cycle at its frame. It is a separate process because
  a Python callback needs the GIL, and a busy notebook cell in the engine's process holds
  that one (measured: xruns every few cycles); the helper's GIL is its own.

Latency: every message sounds a constant ``latency_ns`` after its intended time,
``max(the midi_latency setting, one JACK period)``, so a note queued at its own time (a
trigger) still reaches its frame. A receiver of our port (a synth, or a2jmidid to an
ALSA device) sees each message on frame ``F(time + latency)`` of JACK's time base.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import NotFound, Unavailable
from .midi import ALL_NOTES_OFF, ALL_SOUND_OFF, CHANNELS, CONTROL_CHANGE, PortInfo, _find_port, quiet_fd
from .midi_schedule import DROP, MSG, OFF, ON, RECORD, RELEASE, encode

HELPER = Path(__file__).with_name("jack_process.py")
PIPE_BUF = 4096  # POSIX's minimum: a write this size or smaller arrives whole
START_TIMEOUT = 20.0  # the helper starts a Python and opens a JACK client: slow on a busy machine
REPLY_TIMEOUT = 5.0


class JackMidiOutput:
    """Our MIDI output port on JACK; timestamped, so it is fed ahead of time."""

    timestamped = True
    api_name = "jack"

    def __init__(self, latency: float = 0.0, client_name: str = "oiduna_nb") -> None:
        os.environ.setdefault("JACK_NO_START_SERVER", "1")  # never start a server of our own
        self.port_name: str | None = None
        self.own_port: str | None = None
        self.unavailable_reason: str | None = None
        self.setting_ns = round(latency * 1e9)
        self.dropped = 0
        self._client: Any = None
        self._helper: subprocess.Popen | None = None
        self._producer = threading.Lock()  # one writer at a time on the pipe
        self._control = threading.Lock()  # one request at a time to the helper
        self._ids = itertools.count(1)  # note ids pair a note-on with its note-off
        try:
            import jack
        except (ImportError, OSError) as exc:  # OSError: JACK-Client without libjack
            self.unavailable_reason = f"JACK MIDI is unavailable: {exc}"
            return
        try:
            with quiet_fd(2):
                client = jack.Client(client_name + "-ctl", no_start_server=True)
        except jack.JackError as exc:
            self.unavailable_reason = f"JACK MIDI is unavailable: no JACK server answered ({exc})"
            return
        try:
            self._start_helper(client_name)
        except (OSError, RuntimeError) as exc:
            client.close()
            self._stop_helper()
            self.unavailable_reason = f"JACK MIDI is unavailable: {exc}"
            return
        self._client = client

    def _start_helper(self, client_name: str) -> None:
        read_end, self._pipe = os.pipe()
        os.set_blocking(self._pipe, False)
        try:
            self._helper = subprocess.Popen(
                [sys.executable, str(HELPER), client_name, str(read_end)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # libjack's own messages; we report what matters
                pass_fds=(read_end,),
                text=True,
            )
        finally:
            os.close(read_end)
        hello = self._reply(START_TIMEOUT)
        if "error" in hello:
            raise RuntimeError(f"the JACK helper could not start ({hello['error']})")
        self.own_port = hello["port"]

    # ---- what it is ---------------------------------------------------------------

    @property
    def available(self) -> bool:
        return self._client is not None

    @property
    def latency_ns(self) -> int:
        """How long after its intended time every message sounds: constant, ≥ one period."""
        if self._client is None:
            return self.setting_ns
        period_ns = round(self._client.blocksize * 1e9 / self._client.samplerate)
        return max(self.setting_ns, period_ns)

    @property
    def path(self) -> str:
        return f"jack, timestamped, latency {self.latency_ns / 1e6:.1f} ms"

    def stats(self) -> dict[str, Any]:
        if self._client is None:
            return {}
        helper = self._request({"op": "stats"})
        return {
            "xruns": helper.get("xruns"),
            "late": helper.get("late"),
            "dropped": self.dropped + helper.get("dropped", 0),
            "period_frames": self._client.blocksize,
            "sample_rate": self._client.samplerate,
            "jack_clock": helper.get("jack_clock"),
        }

    def _require(self) -> Any:
        if self._client is None:
            raise Unavailable(self.unavailable_reason or "JACK MIDI is unavailable")
        return self._client

    # ---- talking to the helper --------------------------------------------------------

    def _reply(self, timeout: float) -> dict[str, Any]:
        assert self._helper is not None and self._helper.stdout is not None
        ready, _, _ = select.select([self._helper.stdout], [], [], timeout)
        line = self._helper.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError("the JACK helper process does not answer")
        return json.loads(line)

    def _request(self, command: dict[str, Any], timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
        """Ask the helper; an answer that does not come marks the path unavailable."""
        with self._control:
            try:
                assert self._helper is not None and self._helper.stdin is not None
                self._helper.stdin.write(json.dumps(command) + "\n")
                self._helper.stdin.flush()
                return self._reply(timeout)
            except (OSError, RuntimeError, ValueError) as exc:
                self._lost(f"the JACK helper process stopped ({exc})")
                return {}

    def _lost(self, reason: str) -> None:
        self.unavailable_reason = f"JACK MIDI is unavailable: {reason}; MIDI is silent, OSC keeps playing"
        client, self._client = self._client, None
        if client is not None:
            client.close()

    # ---- the control side: queue ahead --------------------------------------------------

    def _queue(self, records: bytes) -> bool:
        if self._client is None:
            return False
        with self._producer:
            for start in range(0, len(records), PIPE_BUF // RECORD.size * RECORD.size):
                chunk = records[start : start + PIPE_BUF // RECORD.size * RECORD.size]
                try:
                    os.write(self._pipe, chunk)  # whole or not at all (≤ PIPE_BUF, non-blocking)
                except BlockingIOError:  # the helper is that far behind: drop, count, go on
                    self.dropped += len(chunk) // RECORD.size
                    return False
                except OSError as exc:  # the helper is gone
                    self._lost(f"the JACK helper process stopped ({exc})")
                    return False
        return True

    def schedule_note(self, note: Any) -> None:
        """Queue a note-on at ``note.time_ns`` and its note-off at ``note.off_ns``
        (monotonic ns, before the latency), as soon as the step is computed."""
        note_id = next(self._ids) % 0xFFFFFFFF + 1  # 32 bits, never 0
        on = bytes((0x90 | note.channel, note.note, note.velocity))
        off = bytes((0x80 | note.channel, note.note, 0))
        latency = self.latency_ns
        self._queue(
            encode(ON, note.time_ns + latency, note_id, on) + encode(OFF, note.off_ns + latency, note_id, off)
        )

    def send_at(self, time_ns: int, message: bytes | list[int]) -> None:
        """Any short MIDI message (a clock pulse 0xF8, start 0xFA, stop 0xFC, continue 0xFB,
        song position 0xF2 lsb msb, a CC) at ``time_ns`` (monotonic) + the latency."""
        self._queue(encode(MSG, time_ns + self.latency_ns, 0, bytes(message)))

    def send_message(self, message: bytes | list[int]) -> None:
        """A short MIDI message now (through the same path, so after what is already queued)."""
        self.send_at(time.monotonic_ns(), message)

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
        if self._client is None:
            return []
        return [tuple(key) for key in self._request({"op": "stats"}).get("sounding", [])]

    def _release_and_wait(self) -> None:
        """Note-offs for what sounds, delivered before the connections change."""
        due = time.monotonic_ns() + self.latency_ns
        if self._queue(encode(RELEASE, due, 0)):
            # one period more: a release half a frame before a cycle's end rounds into the next
            self._request({"op": "wait", "until_ns": due + self.latency_ns})

    # ---- ports ----------------------------------------------------------------------------

    def ports(self) -> list[PortInfo]:
        """Every JACK MIDI port but ours. ``is_output``: one we can send to (a JACK input)."""
        client = self._require()
        return [
            PortInfo(p.name, is_input=p.is_output, is_output=p.is_input)
            for p in client.get_ports(is_midi=True)
            if p.name != self.own_port
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
        self._disconnect_all(client)
        client.connect(self.own_port, names[index])
        self.port_name = names[index]
        return self.port_name

    def open_virtual(self, name: str | None = None) -> str:
        """No output chosen: our own port, connected to nothing, for synths and DAWs to
        connect to (JACK names it ``<client>:out``)."""
        client = self._require()
        self._release_and_wait()
        self._disconnect_all(client)
        self.port_name = self.own_port
        return self.port_name

    def _disconnect_all(self, client: Any) -> None:
        for other in client.get_all_connections(self.own_port):
            client.disconnect(self.own_port, other)

    def close(self) -> None:
        if self._client is not None:
            self.release_all()
            self._release_and_wait()
            client, self._client = self._client, None
            client.close()
        self._stop_helper()
        self.unavailable_reason = self.unavailable_reason or "MIDI output closed"

    def _stop_helper(self) -> None:
        helper, self._helper = self._helper, None
        if helper is None:
            return
        for stream in (helper.stdin, helper.stdout):
            if stream is not None:
                stream.close()  # stdin's end: the helper deactivates and exits
        try:
            helper.wait(timeout=5)
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()
        if getattr(self, "_pipe", None) is not None:
            os.close(self._pipe)
            self._pipe = None
