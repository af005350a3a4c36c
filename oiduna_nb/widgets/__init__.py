"""Notebook views bound to the engine: ``perform()`` (the performance view), and its parts
``transport()`` (with the piano roll) and ``mixer()``.

All are two-way: a change made anywhere (HTTP, the DSL, another widget) shows within a
step, and a change made here reaches the engine, also while a cell awaits.
"""

from .lights import PianoRoll, TriggerLight
from .mixer import Mixer, mixer
from .perform import Perform, perform
from .transport import Transport, transport


def scope(url: str = "http://localhost:8000", pipeline: str = "passthrough", **kw):
    """The Daydream Scope panel (imports aiortc only when asked for)."""
    from .scope import ScopePanel

    return ScopePanel(url, pipeline, **kw)


__all__ = ["Mixer", "Perform", "PianoRoll", "Transport", "TriggerLight", "mixer", "perform", "scope", "transport"]
