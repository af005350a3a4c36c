"""``%load_ext oiduna_nb``: the engine and the HTTP/SSE API inside the running kernel.

Three places run code: the kernel's loop (cells, the DSL, widgets), the API's own thread
and loop (so HTTP and SSE clients are answered while a cell blocks), and the metronome's
thread (so a busy cell never delays the music). Errors in background work are printed to
the notebook; nothing is put into the user's namespace.

``%reload_ext`` keeps what plays (the engine, its session, the widgets on screen); the
session is autosaved, and after a kernel restart or crash ``%oiduna restore`` brings it back.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from .dsl.errors import DslError
from .engine import Engine
from .engine.bus import BusEvent
from .engine.collector import SessionCollector, freeze_what_is_loaded
from .outputs import apply_midi_clock, link_line, select_output, status_line
from .persist import Autosaver, restore
from .settings import Settings

_current: "Instrument | None" = None
_parked: "Instrument | None" = None  # unloaded by %reload_ext, picked up again by its load


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
        self.engine.collector = SessionCollector()  # sessions never walked by a full collection while playing
        self.server: Any = None
        self.server_error: str | None = None
        self.widgets: list[Any] = []
        self._unsubscribe = self.engine.bus.subscribe_callback(self._on_event, self.loop)
        self.autosaver = (
            Autosaver(self.engine, self.settings.data_dir / "sessions" / "autosave.json")
            if self.settings.autosave else None
        )
        self.output = select_output(self.engine, self.settings)
        clock_problem = apply_midi_clock(self.engine, self.settings)
        if clock_problem:
            report(clock_problem)
        self.serve(self.settings.api_port)

    def restore(self) -> str:
        """Bring back the session the previous kernel was playing (autosaved)."""
        saved = self.autosaver.restorable() if self.autosaver else None
        if saved is None:
            return "oiduna_nb: no saved session to restore"
        restore(self.engine, saved)
        return f"oiduna_nb: restored {saved.describe()}" + (" and playing" if saved.playing else "")

    def saved_notice(self) -> str | None:
        saved = self.autosaver.restorable() if self.autosaver else None
        if saved is None or not (saved.session.tracks or saved.session.tracks_midi):
            return None
        return f"oiduna_nb: a saved session exists ({saved.describe()}): %oiduna restore brings it back"

    def serve(self, port: int) -> bool:
        """(Re)start the HTTP/SSE API on ``port``; False, with a message, when it is taken."""
        from .server import ApiServer, PortInUse

        self.stop_server()
        settings = self.settings.model_copy(update={"api_port": port})
        server = ApiServer(self.engine, settings)
        try:
            server.start(on_error=report)
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
            self.server.stop()
            self.server = None
            self.server_error = "the HTTP API is stopped (%oiduna serve PORT starts it)"

    def _on_event(self, event: BusEvent) -> None:
        if event.type == "error":
            details = event.data.get("details")
            report(event.data.get("message", "error") + (f": {details}" if details else ""))

    def status_line(self) -> str:
        api = f"API at {self.server.url}" if self.server else f"no HTTP API ({self._no_api_reason()})"
        if self.server and self.server.policy.token:
            api += f" (token {self.server.policy.token})"
        return status_line(self.engine).replace("oiduna_nb: ", f"oiduna_nb: {api}; ", 1)

    def _no_api_reason(self) -> str:
        if self.server_error and "stopped" in self.server_error:
            return "stopped"
        return "port taken"

    def close(self) -> None:
        for widget in self.widgets:
            widget.close()
        self.widgets.clear()
        self._unsubscribe()
        self.stop_server()
        if self.autosaver is not None:
            self.autosaver.close()  # the session as it was, for the next kernel to restore
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
    if _current.settings.link:
        print(link_line(_current.engine))
    if _current.server_error:
        report(_current.server_error)
    return _current


def shutdown() -> None:
    """Stop everything ``start`` began: no thread, task, socket, widget or MIDI note is left."""
    global _current, _parked
    for instrument in (_current, _parked):
        if instrument is not None:
            instrument.close()
    _current = _parked = None


def load_ipython_extension(ipython: Any) -> None:
    global _current, _parked
    from .magics import OidunaMagics

    ipython.register_magics(OidunaMagics)
    if _current is not None:
        print(_current.status_line() + " (already loaded)")
        return
    if _parked is not None:  # %reload_ext: the same instrument, still playing
        _current, _parked = _parked, None
        print(_current.status_line() + " (reloaded; the session plays on)")
        return
    instrument = start()
    freeze_what_is_loaded()  # a full collection of the kernel's heap stalls every thread 60+ ms
    notice = instrument.saved_notice()
    if notice:
        print(notice)


def unload_ipython_extension(ipython: Any) -> None:
    """Stop everything, once the current cell is done. ``%reload_ext`` loads again within the
    same call, before that: it then keeps the instrument, and the music never stops."""
    global _current, _parked
    if _current is None:
        return
    _parked, _current = _current, None
    if _parked.loop.is_running():
        _parked.loop.call_soon(_close_parked)
    else:  # no loop will run it later (a script): now
        _close_parked()


def _close_parked() -> None:
    global _parked
    if _parked is not None:
        instrument, _parked = _parked, None
        instrument.close()
