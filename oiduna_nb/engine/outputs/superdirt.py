"""SuperDirt: ``/dirt/play`` messages in timetagged bundles, and the handshake."""

from __future__ import annotations

import socket
import time
from typing import Any

from pythonosc.osc_message import OscMessage

from .osc import TimetaggedOutput, encode_message, encode_with_slot

PLAY = "/dirt/play"


class SuperDirtOutput(TimetaggedOutput):
    name = "superdirt"
    # sclang itself needs CPU time to pass each event on to scsynth: at 0.1 s a loaded
    # machine made real SuperDirt report events late; Tidal uses 0.2 s too.
    lookahead = 0.2

    def encode(self, args: dict[str, Any]) -> bytes:
        return encode_message(PLAY, args)

    def template(self, args: dict[str, Any]) -> tuple[bytes, int]:
        return encode_with_slot(PLAY, args, "cycle")


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
