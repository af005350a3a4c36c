"""OSC on the wire: messages, bundles and exact NTP timetags. Pure except ``OscSender``.

Timetags are computed in integer arithmetic from nanoseconds, so a step's timetag is
exactly its timeline time (to the 2^-32 s resolution of NTP), never a float rounding.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping, Sequence


NTP_UNIX_OFFSET_S = 2_208_988_800  # 1900-01-01 to 1970-01-01
BUNDLE_HEAD = b"#bundle\x00"
# The largest datagram a step sends: below a typical MTU-fragmented UDP limit with room to
# spare, so a busy step never exceeds what the peer's socket takes in one read.
MAX_DATAGRAM = 8192


def ntp_timetag(unix_ns: int) -> int:
    """64-bit NTP timetag (32.32 fixed point) of a Unix time in nanoseconds."""
    return ((unix_ns + NTP_UNIX_OFFSET_S * 1_000_000_000) << 32) // 1_000_000_000


def timetag_to_unix_ns(timetag: int) -> int:
    return ((timetag * 1_000_000_000) >> 32) - NTP_UNIX_OFFSET_S * 1_000_000_000


def _padded(raw: bytes) -> bytes:
    """An OSC string: NUL-terminated, padded to a multiple of 4 bytes."""
    return raw + b"\x00" * (4 - len(raw) % 4)


@lru_cache(maxsize=4096)
def _osc_string(text: str) -> bytes:
    """Keys and sound names repeat every step: encode each once."""
    return _padded(text.encode())


def encode_message(address: str, args: Mapping[str, Any] | Iterable[Any] = ()) -> bytes:
    """An OSC message; a mapping becomes SuperDirt's key/value argument list.

    Our own encoder, not python-osc's builder: the builder re-parses every message it
    builds, which made it 70% of the metronome's time per step. python-osc still parses
    what comes back (the handshake reply) and what the tests receive.
    """
    flat: Iterable[Any] = _pairs(args) if isinstance(args, Mapping) else args
    tags, data = [","], []
    for value in flat:
        if isinstance(value, float) and abs(value) > 3.4028234663852886e38:
            raise ValueError(f"{value!r} does not fit OSC's 32-bit float")
        if isinstance(value, str):
            tags.append("s")
            data.append(_osc_string(value))
        elif isinstance(value, (bool, int)) and -(2**31) <= value < 2**31:
            tags.append("i")
            data.append(struct.pack(">i", int(value)))
        elif isinstance(value, (int, float)):
            tags.append("f")
            data.append(struct.pack(">f", value))
        elif isinstance(value, (bytes, bytearray)):  # a blob: a SynthDef for /d_recv, say
            tags.append("b")
            pad = (4 - len(value) % 4) % 4
            data.append(struct.pack(">i", len(value)) + bytes(value) + b"\x00" * pad)
        else:
            raise TypeError(f"an OSC argument must be a string, a number or bytes, not {value!r}")
    return b"".join([_osc_string(address), _osc_string("".join(tags)), *data])


def encode_with_slot(address: str, args: Mapping[str, Any], slot: str) -> tuple[bytes, int]:
    """A ``/dirt/play``-style message and the byte offset of the float value of ``slot`` (-1
    when absent), so that value can be filled in later without encoding again."""
    message = encode_message(address, args)
    if slot not in args or not isinstance(args[slot], float):
        return message, -1
    tags_len = len(_padded(("," + "".join(_tag(v) for v in _pairs(args))).encode()))
    offset = len(_osc_string(address)) + tags_len
    for key, value in args.items():
        offset += len(_osc_string(key))
        if key == slot:
            return message, offset
        offset += _size(value)
    return message, -1


def _tag(value: Any) -> str:
    if isinstance(value, str):
        return "s"
    if isinstance(value, (bool, int)) and -(2**31) <= value < 2**31:
        return "i"
    if isinstance(value, (int, float)):
        return "f"
    return "b"


def _size(value: Any) -> int:
    if isinstance(value, str):
        return len(_osc_string(value))
    if isinstance(value, (bytes, bytearray)):
        return 4 + len(value) + (4 - len(value) % 4) % 4
    return 4


def _pairs(args: Mapping[str, Any]) -> Iterable[Any]:
    for key, value in args.items():
        yield key
        yield value


def encode_bundle(timetag: int, elements: Iterable[bytes]) -> bytes:
    """A bundle of already encoded messages or bundles."""
    parts = [BUNDLE_HEAD, struct.pack(">Q", timetag)]
    for element in elements:
        parts.append(struct.pack(">i", len(element)))
        parts.append(element)
    return b"".join(parts)


@dataclass
class Packed:
    """A step's datagrams, and what could not go into them."""

    datagrams: list[bytes] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # why each dropped message was dropped


def step_datagrams(
    step_time_ns: int,
    items: Sequence[tuple[int, Callable[[], bytes]]],
    timetag_of: Callable[[int], int],
    max_size: int = MAX_DATAGRAM,
) -> Packed:
    """The bundles of one step, for every output: (time, encode) pairs in, datagrams out.

    Each message is encoded alone, so one that cannot be encoded is dropped alone. A message
    that starts later than the step (a sub-step offset) is nested in a bundle of its own
    time. When the step's messages exceed ``max_size`` they go out as several bundles with
    the same timetag, so a full step is never lost to the datagram limit.
    """
    packed = Packed()
    head = 16  # "#bundle\0" + timetag
    outer = timetag_of(step_time_ns)
    current: list[bytes] = []
    size = head
    for time_ns, encode in items:
        try:
            element = encode()
        except (TypeError, ValueError, UnicodeError, struct.error, OverflowError) as exc:
            packed.dropped.append(f"unencodable message: {exc}")
            continue
        if time_ns != step_time_ns:
            element = encode_bundle(timetag_of(time_ns), [element])
        if head + 4 + len(element) > max_size:
            packed.dropped.append(f"message of {len(element)} bytes exceeds the {max_size}-byte datagram limit")
            continue
        if size + 4 + len(element) > max_size:
            packed.datagrams.append(encode_bundle(outer, current))
            current, size = [], head
        current.append(element)
        size += 4 + len(element)
    if current:
        packed.datagrams.append(encode_bundle(outer, current))
    return packed


class OscSender:
    """A UDP socket to one OSC peer. Sending never blocks and never raises."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.setblocking(False)

    def send(self, data: bytes) -> OSError | None:
        """Send one datagram; returns the error instead of raising (the music goes on)."""
        try:
            self._sock.sendto(data, (self.host, self.port))
        except OSError as exc:
            return exc
        return None

    def close(self) -> None:
        self._sock.close()


@dataclass
class SendReport:
    """What became of one send: messages dropped (and why), and a socket error if any."""

    dropped: list[str] = field(default_factory=list)
    error: OSError | None = None


class TimetaggedOutput:
    """An OSC peer that plays timetagged bundles (SuperDirt, scsynth). Subclasses say how one
    sound's arguments become a message; sending, timetags and splitting are shared here."""

    name = "osc"
    lookahead = 0.1  # seconds ahead a step is sent, unless the user sets one

    def __init__(self, host: str, port: int, to_unix_ns: Callable[[int], int]) -> None:
        self.host, self.port = host, port
        self._to_unix_ns = to_unix_ns
        self._sender = OscSender(host, port)

    def encode(self, args: dict[str, Any]) -> bytes:
        raise NotImplementedError

    def template(self, args: dict[str, Any]) -> tuple[bytes, int]:
        """The message of ``args`` and where its ``cycle`` goes (-1: nowhere), encoded once and
        filled in at each play (a sequence event sounds every pass of the loop)."""
        return self.encode(args), -1

    def timetag(self, mono_ns: int) -> int:
        return ntp_timetag(self._to_unix_ns(mono_ns))

    def send_step(self, step_time_ns: int, sounds: Sequence[Any], prepared: Any = None) -> SendReport:
        """A step's sounds (each with ``time_ns`` and ``args``) as bundles of the step's time,
        after its ``prepared`` datagrams (a PreparedStep with its tick, step and timeline)."""
        report = SendReport()
        if prepared is not None:
            step, tick, step_in_loop, timeline = prepared
            report.dropped.extend(step.dropped)
            for datagram in step.fill(timeline, tick, step_in_loop, self.timetag):
                report.error = self._sender.send(datagram) or report.error
        if not sounds:
            return report
        items = [(sound.time_ns, _encoder(self.encode, sound.args)) for sound in sounds]
        packed = step_datagrams(step_time_ns, items, self.timetag)
        report.dropped.extend(packed.dropped)
        for datagram in packed.datagrams:
            report.error = self._sender.send(datagram) or report.error
        return report

    def play_at(self, time_ns: int, args: dict[str, Any]) -> SendReport:
        """One sound at ``time_ns`` (a realtime trigger, sent a lookahead ahead of it)."""
        return self.send_step(time_ns, [_Sound(time_ns, args)])

    def close(self) -> None:
        self._sender.close()


@dataclass(frozen=True)
class _Sound:
    time_ns: int
    args: dict[str, Any]


def _encoder(encode: Callable[[dict[str, Any]], bytes], args: dict[str, Any]) -> Callable[[], bytes]:
    return lambda: encode(args)

