"""Making patterns: pure values, signals, and patterns put together (stack, cat, fastcat, timecat).

Each mirrors Tidal 1.7.10's function of the same name. ``slot`` and ``pure_fast`` are the same
events as the general definitions for plain values, made without the general arithmetic:
the steps of a sequence are mostly plain values, and every query asks for them.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, Iterable

from .core import Pattern, Query, _shift, silence
from .event import Event
from .span import Span, to_time, whole_number


def pure(value: Any, context: tuple = ()) -> Pattern:
    """The value once per cycle, whole cycles (Tidal ``pure``); ``context``: where it was written."""

    def cycles(span):
        b, e = span.begin, span.end
        if b < e:
            c = b._numerator // b._denominator
            if e <= c + 1:  # within one cycle: the common case, kept flat
                return [Event(Span(whole_number(c), whole_number(c + 1)), span, value, context)]
        elif b > e:
            return []
        out = []
        for c in span.cycle_numbers():
            whole = Span(whole_number(c), whole_number(c + 1))
            out.append(Event(whole, span.sect(whole), value, context))
        return out

    return Pattern(cycles, value, context)


def signal(f: Callable[[Fraction], Any]) -> Pattern:
    """A continuous pattern: one event per query, no whole, valued at the query's midpoint (Tidal ``sig``)."""

    def sample(span):
        b, e = span.begin, span.end
        if b > e:
            return []
        return [Event(None, span, f(b + (e - b) / 2))]

    return Pattern(sample)


def stack(*pats) -> Pattern:
    """All at once."""
    pats = [as_pattern(p) for p in _flatten(pats)]
    if not pats:
        return silence
    if len(pats) == 1:
        return pats[0]
    queries = [p._query for p in pats]

    def stacked(span):
        out = []
        for q in queries:
            out.extend(q(span))
        return out

    return Pattern(stacked)


def slowcat(*pats) -> Pattern:
    """One pattern per cycle, in turn; each keeps its own cycle count (Tidal ``cat``)."""
    pats = [as_pattern(p) for p in _flatten(pats)]
    n = len(pats)
    if n == 0:
        return silence
    queries = [p._query for p in pats]

    def one(span, out):
        b = span.begin
        cyc = b.numerator // b.denominator
        i = cyc % n
        offset = cyc - (cyc - i) // n
        if offset == 0:
            out.extend(queries[i](span))
            return
        for e in queries[i](Span(b - offset, span.end - offset)):
            out.append(_shift(e, offset))  # an int: Time + int is the cheap addition

    def cat_query(span):
        out = []
        b, e = span.begin, span.end
        if b < e and e <= b.numerator // b.denominator + 1:
            one(span, out)
        else:
            for piece in span.cycles():
                one(piece, out)
        return out

    return Pattern(cat_query)


cat = slowcat


def fastcat(*pats) -> Pattern:
    """All squeezed into one cycle, in turn."""
    pats = [as_pattern(p) for p in _flatten(pats)]
    if not pats:
        return silence
    general = slowcat(*pats)._fast(whole_number(len(pats)))
    if all(p.is_pure or p is silence for p in pats):
        # plain values: each in its step, the events timecat gives too
        count = len(pats)
        slots = [
            (whole_number(i) / count, whole_number(i + 1) / count, p.pure_value, p.pure_context)
            for i, p in enumerate(pats)
            if p.is_pure
        ]
        return steps(slots, general._query)
    return general


def timecat(pairs: Iterable[tuple[Any, Any]]) -> Pattern:
    """Like fastcat, each pattern taking ``weight`` shares of the cycle (Tidal ``timeCat``)."""
    pairs = [(to_time(w), as_pattern(p)) for w, p in pairs]
    total = sum((w for w, _ in pairs), whole_number(0))
    if total == 0:
        return silence
    placed, at = [], whole_number(0)
    for weight, pat in pairs:
        placed.append((at / total, (at + weight) / total, pat))
        at += weight
    plain = [(b, e, pat.pure_value, pat.pure_context) for b, e, pat in placed if pat.is_pure and b < e]
    others = [pat.compress(b, e) for b, e, pat in placed if not pat.is_pure and pat is not silence]
    if not plain:
        return stack(*others)

    def general(span):  # the steps of plain values as compress makes them, for zero-width queries
        out = []
        for b, e, value, context in plain:
            out.extend(pure(value, context)._fast_gap(1 / (e - b))._late(b)._query(span))
        return out

    return stack(steps(plain, general), *others)


def pure_fast(value: Any, rate: Fraction, context: tuple = ()) -> Pattern:
    """``pure(value)._fast(rate)`` for rate > 0: the value in every [k/rate, (k+1)/rate)."""
    plain = Pattern(pure(value, context)._query)
    general = plain.with_query_time(lambda t: t * rate).with_result_time(lambda t: t / rate)

    def fast_pure(span):
        b, e = span.begin, span.end
        if not b < e:
            return general._query(span)
        sb, se = b * rate, e * rate
        out = []
        for k in range(sb._numerator // sb._denominator, -((-se._numerator) // se._denominator)):
            wb, we = whole_number(k) / rate, whole_number(k + 1) / rate
            out.append(Event(Span(wb, we), Span(wb if wb > b else b, we if we < e else e), value, context))
        return out

    return Pattern(fast_pure)


def steps(slots: list[tuple[Fraction, Fraction, Any, tuple]], general: Query) -> Pattern:
    """Plain values in fixed steps [begin, end) of every cycle: what ``pure(v).compress(b, e)``
    gives, for a whole sequence at once. Zero-width queries take the general path."""
    slots = [(to_time(b), to_time(e), v, context) for b, e, v, context in slots]

    def stepped(span):
        b, e = span.begin, span.end
        if not b < e:
            return general(span)
        out = []
        first = b._numerator // b._denominator
        last = -((-e._numerator) // e._denominator)
        if b._denominator == 1 and e._denominator == 1 and last == first + 1:  # exactly cycle c: all of it
            for sb, se, value, context in slots:
                whole = Span(sb + first, se + first)
                out.append(Event(whole, whole, value, context))
            return out
        for c in range(first, last):
            lo_c, hi_c = b - c, e - c  # the query within cycle c (Time - int: no gcd)
            for sb, se, value, context in slots:
                if sb < hi_c and se > lo_c:
                    wb, we = sb + c, se + c
                    part = Span(wb if sb > lo_c else b, we if se < hi_c else e)
                    out.append(Event(Span(wb, we), part, value, context))
        return out

    return Pattern(stepped)


def slot(value: Any, begin: Fraction, end: Fraction, general: Query, context: tuple = ()) -> Pattern:
    """``pure(value).compress(begin, end)`` without the general machinery."""
    return steps([(begin, end, value, context)], general)


def as_pattern(x) -> Pattern:
    """A Pattern as it is; a string as mini-notation (bare values); anything else as pure."""
    if isinstance(x, Pattern):
        return x
    if isinstance(x, str):
        from .mini import mini

        return mini(x)
    return pure(float(x) if isinstance(x, int) and not isinstance(x, bool) else x)


def _flatten(pats):
    for p in pats:
        if isinstance(p, (list, tuple)):
            yield from p
        else:
            yield p
