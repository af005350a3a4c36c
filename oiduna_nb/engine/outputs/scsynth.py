"""scsynth: our own instruments on a SuperCollider server (embedded or a system scsynth),
fed by the same step events and timetags as SuperDirt. A ``mapper`` (from
``oiduna_nb.sound``) turns each event into a SynthDef name and its controls."""

from __future__ import annotations

import socket
import time
from typing import Any, Callable, Sequence

from pythonosc.osc_message import OscMessage

from .osc import TimetaggedOutput, encode_message

Mapper = Callable[[dict[str, Any]], tuple[str, dict[str, float]]]
ROOT_GROUP, ADD_TO_HEAD, NEW_NODE = 0, 0, -1


def s_new(defname: str, controls: dict[str, float]) -> bytes:
    args: list[Any] = [defname, NEW_NODE, ADD_TO_HEAD, ROOT_GROUP]
    for key, value in controls.items():
        args += [key, float(value)]
    return encode_message("/s_new", args)


class ScsynthOutput(TimetaggedOutput):
    name = "scsynth"

    def __init__(
        self,
        host: str,
        port: int,
        to_unix_ns: Callable[[int], int],
        mapper: Mapper,
        label: str = "scsynth",
        on_close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(host, port, to_unix_ns)
        self.label = label
        self._on_close = on_close
        self._mapper = mapper

    def encode(self, args: dict[str, Any]) -> bytes:
        return s_new(*self._mapper(args))

    def prepare(self, setup: Sequence[bytes], timeout: float = 5.0) -> bool:
        """Send the SynthDefs and buffer loads, then wait until the server has done them."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            for message in setup:
                sock.sendto(message, (self.host, self.port))
            sock.sendto(encode_message("/sync", [7]), (self.host, self.port))
            deadline = time.monotonic() + timeout
            try:
                while time.monotonic() < deadline:
                    data, _ = sock.recvfrom(65536)
                    try:
                        message = OscMessage(data)
                    except Exception:
                        continue
                    if message.address == "/synced":
                        return True
            except OSError:
                return False
        return False

    def close(self) -> None:
        super().close()
        if self._on_close is not None:
            self._on_close()
            self._on_close = None
