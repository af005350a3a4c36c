"""A real UDP peer for the tests: receives datagrams and parses OSC bundles independently
of the engine's encoder (timetags read as raw 64-bit NTP, nested bundles flattened).

``OscPeer.heard()`` also says what real SuperDirt would make of each ``/dirt/play`` message,
as measured against SuperDirt 0c14168 (SuperCollider 3.13) with tests/test_superdirt_real.py:

- its level is ``amp × min(gain, 2)⁴`` (``amp`` defaults to 0.4): velocity belongs in ``amp``;
- ``s`` is taken as it is: ``"bd:3"`` is no sound at all ("no synth or sample named");
- a bundle plays at its timetag; a message that arrives after it, or a bare message (played
  at once, with zero latency), is late: scsynth reports it;
- room/size/delay are its orbit's global effects, set by each event that names them.

What it does not do: play anything (levels are computed, not heard), know which samples
exist beyond the name's form, or spend sclang's CPU time (real lateness also depends on
the machine's load: see docs/benchmarks.md).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass

from pythonosc.osc_message import OscMessage


@dataclass
class Received:
    timetag: int | None  # raw NTP of the enclosing element; None for a bare message
    address: str
    args: dict | list
    arrival_ns: int


def parse_packet(data: bytes, timetag: int | None = None) -> list[tuple[int | None, str, list]]:
    """Every message in a datagram with the timetag it is scheduled at."""
    if data.startswith(b"#bundle\x00"):
        (tag,) = struct.unpack(">Q", data[8:16])
        out, i = [], 16
        while i < len(data):
            (size,) = struct.unpack(">i", data[i : i + 4])
            out.extend(parse_packet(data[i + 4 : i + 4 + size], tag))
            i += 4 + size
        return out
    msg = OscMessage(data)
    return [(timetag, msg.address, list(msg.params))]


def timetag_to_unix_ns(timetag: int) -> int:
    return ((timetag * 1_000_000_000) >> 32) - 2_208_988_800 * 1_000_000_000


def as_dict(args: list) -> dict:
    return {args[i]: args[i + 1] for i in range(0, len(args) - 1, 2)}


class OscPeer:
    """Collects every datagram sent to ``port``.

    A datagram sent on loopback is in this socket's buffer when ``sendto`` returns, so
    reading the buffer after the engine sent (``messages()``) is deterministic. With
    ``answer_handshake`` a thread reads instead and answers like SuperDirt.
    """

    def __init__(self, answer_handshake: bool = False, record_arrivals: bool = False) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
            try:  # room for minutes of steps between two reads
                self.sock.setsockopt(socket.SOL_SOCKET, option, 16 * 1024 * 1024)
                break
            except (OSError, TypeError):
                continue
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.packets: list[tuple[int, bytes]] = []
        self._stop = False
        self._thread = None
        self.answer_handshake = answer_handshake
        if answer_handshake or record_arrivals:  # a thread reads at once, so arrivals are true times
            self.sock.settimeout(0.05)
            self._thread = threading.Thread(target=self._answer, daemon=True)
            self._thread.start()
        else:
            self.sock.setblocking(False)

    def _answer(self) -> None:
        from pythonosc.osc_message_builder import OscMessageBuilder

        reply = OscMessageBuilder("/dirt/handshake/reply").build().dgram
        while not self._stop:
            try:
                data, addr = self.sock.recvfrom(65536)
            except (socket.timeout, OSError):
                continue
            self.packets.append((time.time_ns(), data))
            if self.answer_handshake and data.startswith(b"/dirt/handshake"):
                self.sock.sendto(reply, addr)

    def drain(self) -> None:
        if self._thread is not None:
            return
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            self.packets.append((time.time_ns(), data))

    def messages(self) -> list[Received]:
        self.drain()
        out = []
        for arrival, data in list(self.packets):
            for tag, address, args in parse_packet(data):
                out.append(Received(tag, address, args, arrival))
        return out

    def heard(self) -> list[dict]:
        """Each ``/dirt/play`` message as SuperDirt would play it (see the module's docstring)."""
        out = []
        for m in self.messages():
            if m.address != "/dirt/play":
                continue
            args = as_dict(m.args)
            sound = str(args.get("s", ""))
            lead_s = None if m.timetag is None else (timetag_to_unix_ns(m.timetag) - m.arrival_ns) / 1e9
            out.append({
                **args,
                "found": bool(sound) and ":" not in sound,
                "level": float(args.get("amp", 0.4)) * min(float(args.get("gain", 1.0)), 2.0) ** 4,
                "late": lead_s is None or lead_s < 0,
            })
        return out

    def bundles(self) -> list[tuple[int, int]]:
        """(arrival in Unix ns, raw NTP timetag) of every bundle received."""
        self.drain()
        return [(t, struct.unpack(">Q", d[8:16])[0]) for t, d in list(self.packets) if d.startswith(b"#bundle")]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """Wait until ``count`` datagrams arrived (delivery, not timing, is waited for)."""
        deadline = time.monotonic() + timeout
        self.drain()
        while len(self.packets) < count and time.monotonic() < deadline:
            time.sleep(0.005)
            self.drain()
        return [d for _, d in self.packets]

    def close(self) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.sock.close()
