"""Tidal's pattern language as Python objects: pure, exact (``Fraction`` time), no I/O.

The contract is shared/patterns-api.md; docs/patterns.md shows every function with its
Tidal spelling and output. Where Tidal 1.7.10 and Strudel differ, this follows Tidal.

    span.py          exact time (Time: a lean Fraction), spans and cycle arithmetic
    event.py         Event: whole, part, value, context
    core.py          Pattern: queries, time transforms, Tidal's applicatives and joins
    constructors.py  pure, signal, stack, cat/slowcat, fastcat, timecat
    args.py          arguments as patterns (Tidal's tParam)
    signals.py       sine saw tri square, Tidal's random generator: rand irand perlin
    library.py       the methods on time and structure (fast ... rot)
    randomness.py    degrade_by, sometimes_by
    controls.py      params (s, n, note, gain, ...), arithmetic, jux, stut, echo, chop, striate
    mini_parse.py    mini-notation text → syntax tree (mini_tree.py), Tidal's grammar
    mini.py          syntax tree → Pattern, cached by text
    svg.py, text.py  a pattern's picture and its short text form
    errors.py        DslError
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
