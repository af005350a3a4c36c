"""``perform()``: the performance view, one widget with the transport (and its piano roll of
every track with a playhead) above the mixer. Each part is bound to the engine on its own,
so the view is as two-way as they are: HTTP clients, the DSL and the view all see each change."""

from __future__ import annotations

import ipywidgets as W

from ..engine import Engine
from .bound import close_tree
from .mixer import Mixer
from .transport import Transport


class Perform(W.VBox):
    def __init__(self, engine: Engine | None = None) -> None:
        self.transport = Transport(engine)
        self.mixer = Mixer(engine)
        super().__init__([self.transport, self.mixer])
        self.add_class("oiduna-perform")

    @property
    def roll(self):
        return self.transport.roll

    def __repr__(self) -> str:  # a notebook without the widget's state shows this
        return f"<oiduna_nb performance view: transport, piano roll and mixer of {len(self.mixer.strips)} tracks>"

    def close(self) -> None:
        for child in self.children:
            close_tree(child)
        super().close()


def perform(engine: Engine | None = None) -> Perform:
    """The performance view: transport, piano roll with playhead, and mixer, in one widget."""
    return Perform(engine)
