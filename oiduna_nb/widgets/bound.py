"""A widget box kept in step with the engine: it listens to engine events on the kernel's
loop, and stops listening when it is closed (or when the extension unloads)."""

from __future__ import annotations

import contextlib
from typing import Any

import ipywidgets as W

from ..engine import Engine
from ..engine.bus import BusEvent


def instrument_engine(engine: Engine | None) -> tuple[Engine, Any]:
    """The engine to bind to: the given one, else the notebook's instrument's."""
    if engine is not None:
        return engine, None
    from ..extension import current

    instrument = current()
    return instrument.engine, instrument


def close_tree(widget: W.Widget) -> None:
    """Close a widget and every widget inside it."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widget.close()


class BoundBox(W.VBox):
    def __init__(self, engine: Engine | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.engine, instrument = instrument_engine(engine)
        self._syncing = False
        loop = instrument.loop if instrument is not None else None
        self._unsubscribe = self.engine.bus.subscribe_callback(self._event, loop)
        if instrument is not None:
            instrument.widgets.append(self)
        self.closed = False

    @contextlib.contextmanager
    def syncing(self):
        """Updates from the engine must not echo back to it as user changes."""
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    def _event(self, event: BusEvent) -> None:
        if not self.closed:
            self.on_engine_event(event)

    def on_engine_event(self, event: BusEvent) -> None:
        raise NotImplementedError

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._unsubscribe()
            for child in self.children:
                close_tree(child)
        super().close()
