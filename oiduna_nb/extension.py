"""``%load_ext oiduna_nb``: the engine and the HTTP/SSE API inside the running kernel.

The API runs on the kernel's own asyncio loop (also when the extension is loaded from
IPython config, before that loop runs: it is the loop tornado's ``IOLoop.current()``
names in the main thread). The metronome runs on its own thread, so a busy cell never
delays the music. Errors in background work are printed to the notebook; nothing is
put into the user's namespace.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from .dsl.errors import DslError
from .engine import Engine
from .engine.bus import BusEvent
from .outputs import select_output, status_line
from .settings import Settings

_current: "Instrument | None" = None


def report(message: str) -> None:
    """Say something from background work where the notebook shows it (the cell's stderr)."""
    print(f"oiduna_nb: {message}", file=sys.stderr, flush=True)


def kernel_loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # loaded from config: the kernel's loop exists but does not run yet
        import tornado.ioloop

        return tornado.ioloop.IOLoop.current().asyncio_loop  # type: ignore[attr-defined]


class Instrument:
    """The engine, its API server and the widgets of one kernel."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.loop = kernel_loop()
        self.engine = Engine(self.settings.engine_config())
        self.server: Any = None
        self.server_error: str | None = None
        self.widgets: list[Any] = []
        self._unsubscribe = self.engine.bus.subscribe_callback(self._on_event, self.loop)
        self.output = select_output(self.engine, self.settings)
        self.serve(self.settings.api_port)

    def serve(self, port: int) -> bool:
        """(Re)start the HTTP/SSE API on ``port``; False, with a message, when it is taken."""
        from .server import ApiServer, PortInUse

        self.stop_server()
        settings = self.settings.model_copy(update={"api_port": port})
        server = ApiServer(self.engine, settings)
        try:
            server.start(self.loop, on_error=report)
        except PortInUse as exc:
            self.server_error = (
                f"{exc}\n  The engine plays without the HTTP API. Serve it on another port with "
                f"%oiduna serve {port + 1}  (or set API_PORT before %load_ext)."
            )
            return False
        self.server, self.server_error = server, None
        return True

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.stop_now()
            self.server = None

    def _on_event(self, event: BusEvent) -> None:
        if event.type == "error":
            details = event.data.get("details")
            report(event.data.get("message", "error") + (f": {details}" if details else ""))

    def status_line(self) -> str:
        api = f"API at {self.server.url}" if self.server else "no HTTP API (port taken)"
        if self.server and self.server.policy.token:
            api += f" (token {self.server.policy.token})"
        return status_line(self.engine).replace("oiduna_nb: ", f"oiduna_nb: {api}; ", 1)

    def close(self) -> None:
        for widget in self.widgets:
            widget.close()
        self.widgets.clear()
        self._unsubscribe()
        self.stop_server()
        self.engine.stop()  # every sounding MIDI note released
        self.engine.close()


def current() -> Instrument:
    if _current is None:
        raise DslError("oiduna_nb is not running: run %load_ext oiduna_nb (or oiduna_nb.start()) first")
    return _current


def start(**settings: Any) -> Instrument:
    """Start the instrument in this process (what ``%load_ext`` does); settings override env/.env."""
    global _current
    if _current is not None:
        return _current
    _current = Instrument(Settings(**settings))
    print(_current.status_line())
    if _current.server_error:
        report(_current.server_error)
    return _current


def shutdown() -> None:
    """Stop everything ``start`` began: no thread, task, socket, widget or MIDI note is left."""
    global _current
    if _current is not None:
        instrument, _current = _current, None
        instrument.close()


def load_ipython_extension(ipython: Any) -> None:
    if _current is not None:
        print(_current.status_line() + " (already loaded)")
        return
    start()
    from .magics import OidunaMagics

    ipython.register_magics(OidunaMagics)


def unload_ipython_extension(ipython: Any) -> None:
    shutdown()
