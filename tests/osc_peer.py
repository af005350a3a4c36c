"""A real UDP peer for the tests: receives datagrams and parses OSC bundles independently
of the engine's encoder (timetags read as raw 64-bit NTP, nested bundles flattened)."""

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
