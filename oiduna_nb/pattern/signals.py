"""Continuous patterns and Tidal's random numbers.

A signal has no structure of its own: a query [b, e) yields one event without a whole,
valued at the midpoint (b + e) / 2, as Tidal's ``sig`` does. Give it structure with
``segment`` or by using it on the right of a param (``s("hh*8").gain(sine)``).

Randomness is a pure function of time (Tidal's ``timeToRand``), so a pattern with ``rand``
or ``?`` plays the same in every run, and the same as in Tidal.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .constructors import fastcat, signal
from .core import Pattern

_2_29 = 1 << 29
_MASK64 = (1 << 64) - 1
_SIGN64 = 1 << 63


def _signed64(x: int) -> int:
    x &= _MASK64
    return x - (1 << 64) if x & _SIGN64 else x


def xorwise(x: int) -> int:
    """Tidal's xorshift step on signed 64-bit ints (Haskell ``Int``: shifts wrap, ``shiftR`` keeps the sign)."""
    a = _signed64((x << 13) ^ x)
    b = (a >> 17) ^ a
    return _signed64((b << 5) ^ b)


def time_to_int_seed(t) -> int:
    x = t / 300
    frac = x - int(x)  # properFraction: the integer part truncated toward zero
    return xorwise(int(frac * _2_29))


def time_to_rand(t) -> float:
    """Tidal ``timeToRand``: a number in [0, 1) from a time, exact for ``Fraction`` times."""
    return (time_to_int_seed(t) % _2_29) / _2_29


def _saw(t: Fraction) -> float:
    return float(t) % 1.0


def _sine(t: Fraction) -> float:
    return (math.sin(math.pi * 2 * float(t)) + 1) / 2


def _square(t: Fraction) -> float:
    return float(math.floor((float(t) % 1.0) * 2))


def _rand(t: Fraction) -> float:
    return time_to_rand(t)


def _smoother_step(x: float) -> float:
    return 6.0 * x**5 - 15.0 * x**4 + 10.0 * x**3


def _perlin(t: Fraction) -> float:
    # Tidal computes perlin in Doubles (perlinWith (sig fromRational)): so do we
    x = float(t)
    a = float(math.floor(x))
    return time_to_rand(a) + _smoother_step(x - a) * (time_to_rand(a + 1) - time_to_rand(a))


saw = signal(_saw)
sine = signal(_sine)
square = signal(_square)
tri = fastcat(saw, saw.fmap(lambda v: 1 - v))
rand = signal(_rand)
perlin = signal(_perlin)


def irand(k) -> Pattern:
    """Random whole numbers 0 .. k-1 (as floats); k may be patterned (Tidal ``irand``)."""
    from .args import argument_pattern

    def scaled(n):
        n = int(n)
        return rand.fmap(lambda r: float(math.floor(r * n)))

    arg = argument_pattern(k, "int")
    return arg.bind(scaled)
