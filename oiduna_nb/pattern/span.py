"""Time in cycles, exact: spans with ``Fraction`` begin/end, and the cycle arithmetic on them.

Numbers a user passes become ``Fraction``s by ``to_time``: ints and Fractions as they are,
floats through their shortest decimal form (``0.1`` is 1/10, as a Tidal number literal is;
``1/3`` typed as a float is 3333333333333333/10**16: pass ``Fraction(1, 3)`` or ``"1%3"``).
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd
from numbers import Rational

from .errors import DslError


class Time(Fraction):
    """A ``Fraction`` whose arithmetic skips ``fractions``' generic dispatch (the query path's cost).

    Same values, same results, same hash as Fraction; only faster for Time/Fraction/int operands.
    Anything else (floats, other Rationals) goes to Fraction's own operators.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Fraction({self._numerator}, {self._denominator})"

    def __add__(a, b):
        tb = type(b)
        if tb is Time or tb is Fraction:
            na, da, nb, db = a._numerator, a._denominator, b._numerator, b._denominator
            if da == db:
                n = na + nb
                if da == 1:
                    return _make(n, 1)
                g = gcd(n, da)
                return _make(n // g, da // g)
            n, d = na * db + nb * da, da * db
            g = gcd(n, d)
            return _make(n // g, d // g)
        if tb is int:
            return _make(a._numerator + b * a._denominator, a._denominator)
        return Fraction.__add__(a, b)

    __radd__ = __add__

    def __sub__(a, b):
        tb = type(b)
        if tb is Time or tb is Fraction:
            na, da, nb, db = a._numerator, a._denominator, b._numerator, b._denominator
            if da == db:
                n = na - nb
                if da == 1:
                    return _make(n, 1)
                g = gcd(n, da)
                return _make(n // g, da // g)
            n, d = na * db - nb * da, da * db
            g = gcd(n, d)
            return _make(n // g, d // g)
        if tb is int:
            return _make(a._numerator - b * a._denominator, a._denominator)
        return Fraction.__sub__(a, b)

    def __rsub__(a, b):
        tb = type(b)
        if tb is int:
            return _make(b * a._denominator - a._numerator, a._denominator)
        if tb is Fraction:
            return Time.__sub__(_make(b._numerator, b._denominator), a)
        return Fraction.__rsub__(a, b)

    def __mul__(a, b):
        tb = type(b)
        if tb is Time or tb is Fraction:
            na, da, nb, db = a._numerator, a._denominator, b._numerator, b._denominator
            if db == 1:
                g = gcd(nb, da)
                return _make(na * (nb // g), da // g)
            g1, g2 = gcd(na, db), gcd(nb, da)
            return _make((na // g1) * (nb // g2), (da // g2) * (db // g1))
        if tb is int:
            g = gcd(b, a._denominator)
            return _make(a._numerator * (b // g), a._denominator // g)
        return Fraction.__mul__(a, b)

    __rmul__ = __mul__

    def __truediv__(a, b):
        tb = type(b)
        if tb is Time or tb is Fraction:
            nb, db = b._numerator, b._denominator
        elif tb is int:
            nb, db = b, 1
        else:
            return Fraction.__truediv__(a, b)
        if nb == 0:
            raise ZeroDivisionError(f"Fraction({a._numerator}, 0)")
        na, da = a._numerator, a._denominator
        if db == 1:  # by a whole number (fast 2, cycle counts): one gcd
            g = gcd(na, nb)
            n, d = na // g, da * (nb // g)
        else:
            g1, g2 = gcd(na, nb), gcd(db, da)
            n, d = (na // g1) * (db // g2), (da // g2) * (nb // g1)
        if d < 0:
            n, d = -n, -d
        return _make(n, d)

    def __rtruediv__(a, b):
        tb = type(b)
        if tb is int or tb is Fraction:
            return Time.__truediv__(_time_of(b), a)
        return Fraction.__rtruediv__(a, b)

    def __neg__(a):
        return _make(-a._numerator, a._denominator)

    def __floor__(a):
        return a._numerator // a._denominator

    def __eq__(a, b):
        tb = type(b)
        if tb is Time or tb is Fraction:
            return a._numerator == b._numerator and a._denominator == b._denominator
        if tb is int:
            return a._denominator == 1 and a._numerator == b
        return Fraction.__eq__(a, b)

    __hash__ = Fraction.__hash__

    def __lt__(a, b):
        tb = type(b)
        if tb is Time or tb is Fraction:
            return a._numerator * b._denominator < b._numerator * a._denominator
        if tb is int:
            return a._numerator < b * a._denominator
        return Fraction.__lt__(a, b)

    def __le__(a, b):
        tb = type(b)
        if tb is Time or tb is Fraction:
            return a._numerator * b._denominator <= b._numerator * a._denominator
        if tb is int:
            return a._numerator <= b * a._denominator
        return Fraction.__le__(a, b)

    def __gt__(a, b):
        tb = type(b)
        if tb is Time or tb is Fraction:
            return a._numerator * b._denominator > b._numerator * a._denominator
        if tb is int:
            return a._numerator > b * a._denominator
        return Fraction.__gt__(a, b)

    def __ge__(a, b):
        tb = type(b)
        if tb is Time or tb is Fraction:
            return a._numerator * b._denominator >= b._numerator * a._denominator
        if tb is int:
            return a._numerator >= b * a._denominator
        return Fraction.__ge__(a, b)

    def __reduce__(self):
        return (Fraction, (self._numerator, self._denominator))


_new_object = object.__new__


def _make(n: int, d: int) -> Time:
    """A Time from a numerator and a positive denominator already in lowest terms."""
    t = _new_object(Time)
    t._numerator = n
    t._denominator = d
    return t


def _time_of(x) -> Time:
    if type(x) is int:
        return _make(x, 1)
    return _make(x.numerator, x.denominator)


_INTS: dict[int, Fraction] = {}


def whole_number(n: int) -> Fraction:
    """``Fraction(n)``, cached: cycle numbers are made on every query."""
    f = _INTS.get(n)
    if f is None:
        f = _make(n, 1)
        if len(_INTS) >= 512:  # cycle numbers grow with time; the cache must not
            _INTS.clear()
        _INTS[n] = f
    return f


def to_time(x) -> Fraction:
    if type(x) is Time:
        return x
    if isinstance(x, Fraction):
        return _make(x.numerator, x.denominator)
    if isinstance(x, bool):
        raise DslError(f"a time must be a number, not {x!r}")
    if isinstance(x, int):
        return whole_number(x)
    if isinstance(x, float):
        if x != x or x in (float("inf"), float("-inf")):
            raise DslError(f"a time must be a finite number, not {x!r}")
        return _time_of(Fraction(repr(x)))
    if isinstance(x, Rational):
        return _time_of(Fraction(x.numerator, x.denominator))
    raise DslError(f"a time must be a number, not {x!r}")


def sam(t: Fraction) -> Fraction:
    """The start of the cycle that ``t`` is in."""
    return whole_number(t._numerator // t._denominator)


def cycle_pos(t: Fraction) -> Fraction:
    return t - sam(t)


class Span:
    """A time span [begin, end) in cycles."""

    __slots__ = ("begin", "end")

    def __init__(self, begin: Fraction, end: Fraction) -> None:
        self.begin = begin
        self.end = end

    def __eq__(self, other) -> bool:
        return isinstance(other, Span) and self.begin == other.begin and self.end == other.end

    def __hash__(self) -> int:
        return hash((self.begin, self.end))

    def __repr__(self) -> str:
        return f"Span({_show(self.begin)}, {_show(self.end)})"

    def sect(self, other: Span) -> Span:
        """The intersection, possibly empty or 'negative' (begin > end)."""
        b, e = self.begin, self.end
        ob, oe = other.begin, other.end
        return Span(b if b > ob else ob, e if e < oe else oe)

    def sub(self, other: Span) -> Span | None:
        """Tidal's ``subArc``: the intersection, or None when they do not meet.

        A zero-width intersection counts only when it is not the end of a span with width
        (a span touching the next one at its end does not meet it).
        """
        b, e = self.begin, self.end
        ob, oe = other.begin, other.end
        sb = b if b > ob else ob
        se = e if e < oe else oe
        if sb < se:
            return Span(sb, se)
        if sb == se:
            if (sb == e and b < e) or (sb == oe and ob < oe):
                return None
            return Span(sb, se)
        return None

    def cycles(self) -> list[Span]:
        """Split at cycle boundaries (Tidal ``arcCyclesZW``: a zero-width span is kept)."""
        b, e = self.begin, self.end
        if b >= e:
            return [self] if b == e else []
        next_sam = sam(b) + 1
        if e <= next_sam:
            return [self]
        out = []
        while b < e:
            stop = next_sam if next_sam < e else e
            out.append(Span(b, stop))
            b = stop
            next_sam = b + 1
        return out

    def cycle_numbers(self) -> list[int]:
        """The cycles a span touches (Tidal ``cyclesInArc``)."""
        b, e = self.begin, self.end
        if b > e:
            return []
        first = b.numerator // b.denominator
        if b == e:
            return [first]
        last = -((-e.numerator) // e.denominator)  # ceiling
        return list(range(first, last))

    def with_time(self, f) -> Span:
        return Span(f(self.begin), f(self.end))

    def with_cycle(self, f) -> Span:
        """Tidal ``mapCycle``: f applied to the positions within the begin's cycle."""
        s = sam(self.begin)
        return Span(s + f(self.begin - s), s + f(self.end - s))

    def midpoint(self) -> Fraction:
        return self.begin + (self.end - self.begin) / 2


def _show(t: Fraction) -> str:
    return str(t)
