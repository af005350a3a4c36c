"""Notebook views bound to the engine: ``mixer()`` and ``transport()``.

Both are two-way: a change made anywhere (HTTP, the DSL, another widget) shows within a
step, and a change made here reaches the engine, also while a cell awaits.
"""

from .lights import StepDisplay, TriggerLight
from .mixer import Mixer, mixer
from .transport import Transport, transport


def scope(url: str = "http://localhost:8000", pipeline: str = "passthrough", **kw):
    """The Daydream Scope panel (imports aiortc only when asked for)."""
    from .scope import ScopePanel

    return ScopePanel(url, pipeline, **kw)


__all__ = ["Mixer", "StepDisplay", "Transport", "TriggerLight", "mixer", "scope", "transport"]
