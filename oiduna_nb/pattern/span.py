"""Time in cycles, exact: spans with ``Fraction`` begin/end, and the cycle arithmetic on them.

Numbers a user passes become ``Fraction``s by ``to_time``: ints and Fractions as they are,
floats through their shortest decimal form (``0.1`` is 1/10, as a Tidal number literal is;
``1/3`` typed as a float is 3333333333333333/10**16: pass ``Fraction(1, 3)`` or ``"1%3"``).
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Rational

from .errors import DslError

Time = Fraction

_INTS: dict[int, Fraction] = {}


def whole_number(n: int) -> Fraction:
    """``Fraction(n)``, cached: cycle numbers are made on every query."""
    f = _INTS.get(n)
    if f is None:
        f = Fraction(n)
        if len(_INTS) < 100_000:
            _INTS[n] = f
    return f


def to_time(x) -> Fraction:
    if isinstance(x, Fraction):
        return x
    if isinstance(x, bool):
        raise DslError(f"a time must be a number, not {x!r}")
    if isinstance(x, int):
        return whole_number(x)
    if isinstance(x, float):
        if x != x or x in (float("inf"), float("-inf")):
            raise DslError(f"a time must be a finite number, not {x!r}")
        return Fraction(repr(x))
    if isinstance(x, Rational):
        return Fraction(x.numerator, x.denominator)
    raise DslError(f"a time must be a number, not {x!r}")


def sam(t: Fraction) -> Fraction:
    """The start of the cycle that ``t`` is in."""
    return whole_number(t.numerator // t.denominator)


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
