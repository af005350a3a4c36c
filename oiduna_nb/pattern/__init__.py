"""Tidal's pattern language as Python objects: pure, exact (``Fraction`` time), no I/O.

The contract is shared/patterns-api.md; docs/patterns.md shows every function with its
Tidal spelling and output. Where Tidal 1.7.10 and Strudel differ, this follows Tidal.
"""

from . import controls as _controls  # noqa: F401  (registers the param methods)
from . import library as _library  # noqa: F401  (registers the methods)
from . import randomness as _randomness  # noqa: F401
from .controls import cutoff, gain, legato, n, note, orbit, pan, room, s, speed
from .constructors import cat, fastcat, pure, signal, slowcat, stack, timecat
from .core import Pattern, silence
from .errors import DslError
from .event import Event
from .mini import mini
from .signals import irand, perlin, rand, saw, sine, square, time_to_rand, tri
from .span import Span

__all__ = [
    "DslError", "Event", "Pattern", "Span",
    "mini", "s", "n", "note", "speed", "gain", "pan", "cutoff", "room", "orbit", "legato",
    "sine", "saw", "tri", "square", "rand", "irand", "perlin",
    "stack", "cat", "fastcat", "slowcat", "timecat", "silence", "pure", "signal", "time_to_rand",
]
