"""A real server for the API tests: engine (metronome thread on the real clock) and the
tornado API on its own thread and loop (as it runs in a kernel), OSC to a real UDP peer."""

from __future__ import annotations

from pathlib import Path

import httpx

from oiduna_nb.engine import Engine
from oiduna_nb.engine.outputs.midi import MidiOutput
from oiduna_nb.server import ApiServer
from oiduna_nb.settings import Settings


class RunningServer:
    def __init__(
        self,
        osc_port: int,
        assets_dir: Path,
        midi: MidiOutput,
        port: int = 0,
        sse_heartbeat: float = 15.0,
        **settings,
    ) -> None:
        settings.setdefault("data_dir", Path(assets_dir).parent / "data")
        self.settings = Settings(
            api_host="127.0.0.1", api_port=port, assets_dir=assets_dir, osc_port=osc_port, **settings
        )
        self.engine = Engine(self.settings.engine_config(), midi=midi)
        self.server = ApiServer(self.engine, self.settings, sse_heartbeat=sse_heartbeat)
        self.server.start()
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def call(self, fn, timeout: float = 10):
        """Run ``fn`` (a function or a coroutine function) on the server's own loop."""
        return self.server.call(fn, timeout)

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        self.engine.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(port: int, proc, timeout: float = 30) -> None:
    """Wait for a ``oiduna-nb serve`` process to answer /health; fail with its output if it dies."""
    import time

    import pytest

    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                out = proc.communicate()[0] if proc.stdout else ""
                pytest.fail(f"oiduna-nb serve did not come up:\n{out}")
            time.sleep(0.1)
