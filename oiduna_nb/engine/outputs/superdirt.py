"""SuperDirt: one timetagged bundle per step, ``/dirt/play`` messages, the handshake."""

from __future__ import annotations

import socket
import time
from typing import Any, Callable, Sequence

from pythonosc.osc_message import OscMessage

from ..sequencer import Sound
from .osc import OscSender, encode_bundle, encode_message, ntp_timetag

PLAY = "/dirt/play"


def step_bundle(step_time_ns: int, sounds: Sequence[Sound], to_unix_ns: Callable[[int], int]) -> bytes:
    """The step's bundle, timetagged with the step's time.

    A sound that starts later inside the step (a sub-step offset) travels as a nested
    bundle with its own, later timetag, so it is not rounded to the step.
    """
    elements = []
    for sound in sounds:
        message = encode_message(PLAY, sound.args)
        if sound.time_ns == step_time_ns:
            elements.append(message)
        else:
            elements.append(encode_bundle(ntp_timetag(to_unix_ns(sound.time_ns)), [message]))
    return encode_bundle(ntp_timetag(to_unix_ns(step_time_ns)), elements)


class SuperDirtOutput:
    name = "superdirt"

    def __init__(self, host: str, port: int, to_unix_ns: Callable[[int], int]) -> None:
        self.host, self.port = host, port
        self._to_unix_ns = to_unix_ns
        self._sender = OscSender(host, port)

    def send_step(self, step_time_ns: int, sounds: Sequence[Sound]) -> OSError | None:
        """One bundle per step that has something to play."""
        if not sounds:
            return None
        return self._sender.send(step_bundle(step_time_ns, sounds, self._to_unix_ns))

    def play_now(self, args: dict[str, Any]) -> OSError | None:
        """An unbundled message: SuperDirt plays it on arrival."""
        return self._sender.send(encode_message(PLAY, args))

    def close(self) -> None:
        self._sender.close()


def handshake(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether SuperDirt answers ``/dirt/handshake`` with ``/dirt/handshake/reply``.

    Blocking (up to ``timeout``): call it from a thread or an executor.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            sock.sendto(encode_message("/dirt/handshake"), (host, port))
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                data, _ = sock.recvfrom(65536)
                if _is_reply(data):
                    return True
        except OSError:  # timeout, or ICMP port unreachable reported on recv
            return False
    return False


def _is_reply(data: bytes) -> bool:
    try:
        return OscMessage(data).address == "/dirt/handshake/reply"
    except Exception:  # not a message (a bundle, garbage): not the reply
        return False
