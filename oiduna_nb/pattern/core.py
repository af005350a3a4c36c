"""The pattern: a pure function from a time span to the events in it (Tidal's model).

Every transformation is a new query wrapped around the old one; nothing is computed until a
span is asked for, so cycle 10,000 costs what cycle 0 costs and nothing grows with time.
The semantics follow Tidal 1.7.10 (``Sound.Tidal.Pattern`` / ``Core``) exactly, including
which events come back as fragments; the comments name the Tidal function each one mirrors.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable

from .event import Event
from .span import Span, sam, to_time, whole_number

Query = Callable[[Span], list]

_NO_VALUE = object()


class Pattern:
    """Query it with ``query(begin, end)``; transform it with its methods (see docs/patterns.md)."""

    __slots__ = ("_query", "pure_value", "pure_context")

    def __init__(self, query: Query, pure_value: Any = _NO_VALUE, pure_context: tuple = ()) -> None:
        self._query = query
        self.pure_value = pure_value  # the value, when the pattern is known to be pure(value)
        self.pure_context = pure_context  # and then its events' context

    # ---- asking ---------------------------------------------------------------------

    def query(self, begin, end) -> list[Event]:
        """Every event whose part lies in [begin, end); times are exact ``Fraction``s."""
        return self._query(Span(to_time(begin), to_time(end)))

    def query_span(self, span: Span) -> list[Event]:
        return self._query(span)

    def first_cycle(self) -> list[Event]:
        return self._query(Span(whole_number(0), whole_number(1)))

    def __repr__(self) -> str:
        from .text import events_text

        return f"Pattern({events_text(self.first_cycle())})"

    def show(self, cycles: int = 1, first: int = 0):
        """The events starting in each cycle, one line per cycle (``0: 0→1/2 bd, 1/2→1 sn``)."""
        from .text import cycles_text

        return cycles_text(self, cycles, first)

    def _repr_svg_(self) -> str:
        from .svg import pattern_svg

        return pattern_svg(self)

    @property
    def is_pure(self) -> bool:
        return self.pure_value is not _NO_VALUE

    # ---- mapping values and events -----------------------------------------------------

    def fmap(self, f: Callable[[Any], Any]) -> Pattern:
        query = self._query

        def mapped(span):
            return [Event(e.whole, e.part, f(e.value), e.context) for e in query(span)]

        if self.is_pure:
            return Pattern(mapped, f(self.pure_value), self.pure_context)
        return Pattern(mapped)

    def with_events(self, f: Callable[[list], list]) -> Pattern:
        query = self._query
        return Pattern(lambda span: f(query(span)))

    def filter_values(self, keep: Callable[[Any], bool]) -> Pattern:
        query = self._query
        return Pattern(lambda span: [e for e in query(span) if keep(e.value)])

    def filter_events(self, keep: Callable[[Event], bool]) -> Pattern:
        query = self._query
        return Pattern(lambda span: [e for e in query(span) if keep(e)])

    def filter_when(self, keep: Callable[[Fraction], bool]) -> Pattern:
        """Events whose whole (or part) starts at a time ``keep`` accepts (Tidal ``filterWhen``)."""
        query = self._query
        return Pattern(lambda span: [e for e in query(span) if keep((e.whole or e.part).begin)])

    def filter_onsets(self) -> Pattern:
        query = self._query
        return Pattern(lambda span: [e for e in query(span) if e.whole is not None and e.whole.begin == e.part.begin])

    # ---- time -------------------------------------------------------------------------

    def split_queries(self) -> Pattern:
        """Queries that cross a cycle boundary are asked cycle by cycle (Tidal ``splitQueries``)."""
        query = self._query

        def split(span):
            b, e = span.begin, span.end
            if b < e:
                if e <= b._numerator // b._denominator + 1:
                    return query(span)
                out = []
                for piece in span.cycles():
                    out.extend(query(piece))
                return out
            return query(span) if b == e else []

        return Pattern(split, self.pure_value, self.pure_context)

    def with_context_after(self, context: tuple) -> Pattern:
        """Each event's context followed by ``context`` (what Tidal's joins record of the outer event)."""
        if not context:
            return self
        query = self._query
        return Pattern(lambda span: [Event(e.whole, e.part, e.value, e.context + context) for e in query(span)])

    def with_query_time(self, f) -> Pattern:
        query = self._query
        return Pattern(lambda span: query(Span(f(span.begin), f(span.end))))

    def with_result_time(self, f) -> Pattern:
        query = self._query

        def mapped(span):
            out = []
            for e in query(span):
                w, p = e.whole, e.part
                whole = None if w is None else Span(f(w.begin), f(w.end))
                out.append(Event(whole, Span(f(p.begin), f(p.end)), e.value, e.context))
            return out

        return Pattern(mapped)

    def _fast(self, rate: Fraction) -> Pattern:
        """Tidal ``_fast``: 0 is silence, a negative rate also reverses."""
        if rate == 0:
            return silence
        if rate < 0:
            return self._fast(-rate).rev()
        if rate == 1:
            return self
        if self.is_pure:
            from .constructors import pure_fast

            return pure_fast(self.pure_value, to_time(rate), self.pure_context)
        query = self._query

        def fast_query(span):
            out = []
            for e in query(Span(span.begin * rate, span.end * rate)):
                w, p = e.whole, e.part
                part = Span(p.begin / rate, p.end / rate)
                if w is None:
                    whole = None
                elif w is p or (w.begin == p.begin and w.end == p.end):
                    whole = part  # the common case: the whole event is inside the query
                else:
                    whole = Span(w.begin / rate, w.end / rate)
                out.append(Event(whole, part, e.value, e.context))
            return out

        return Pattern(fast_query)

    def _slow(self, rate: Fraction) -> Pattern:
        return silence if rate == 0 else self._fast(1 / rate)

    def _early(self, t: Fraction) -> Pattern:
        """Tidal ``rotL``: everything shifted t cycles earlier."""
        if t == 0:
            return self
        query = self._query

        def shifted(span):
            return [_shift(e, -t) for e in query(Span(span.begin + t, span.end + t))]

        return Pattern(shifted)

    def _late(self, t: Fraction) -> Pattern:
        return self._early(-t)

    def rev(self) -> Pattern:
        """Each cycle reversed (Tidal ``rev``): wholes mirrored around the cycle's middle."""
        query = self._query

        def reversed_query(span):
            mid2 = 2 * sam(span.begin) + 1  # twice the middle of the cycle
            out = []
            for e in query(Span(mid2 - span.end, mid2 - span.begin)):
                p = e.part
                part = Span(mid2 - p.end, mid2 - p.begin)
                w = e.whole
                whole = None if w is None else Span(part.begin - (w.end - p.end), part.end + (p.begin - w.begin))
                out.append(Event(whole, part, e.value, e.context))
            return out

        return Pattern(reversed_query).split_queries()

    def compress(self, begin: Fraction, end: Fraction) -> Pattern:
        """Squeezed into [begin, end) of each cycle, silence elsewhere (Tidal ``compressArc``)."""
        if begin > end or begin > 1 or end > 1 or begin < 0 or end < 0 or begin == end:
            return silence
        if begin == 0 and end == 1:
            return self.split_queries()  # what the general path amounts to here, without its arithmetic
        general = self._fast_gap(1 / (end - begin))._late(begin)
        if self.is_pure:
            from .constructors import slot

            return slot(self.pure_value, to_time(begin), to_time(end), general._query, self.pure_context)
        return general

    def _fast_gap(self, rate: Fraction) -> Pattern:
        """Tidal ``_fastGap``: sped up but starting each cycle where it did, a gap after."""
        if rate <= 0:
            return silence
        factor = rate if rate > 1 else whole_number(1)
        query = self._query

        def munge(t):
            s = sam(t)
            pos = factor * (t - s)
            return s + (pos if pos < 1 else 1)

        def unmunge(span):
            s = sam(span.begin)
            return Span(s + (span.begin - s) / factor, s + (span.end - s) / factor)

        def gapped(span):
            begin = munge(span.begin)
            if begin == sam(span.begin) + 1:
                return []
            out = []
            for e in query(Span(begin, munge(span.end))):
                w, p = e.whole, e.part
                part = unmunge(p)
                whole = None if w is None else part if w is p or w == p else unmunge(w)
                out.append(Event(whole, part, e.value, e.context))
            return out

        return Pattern(gapped).split_queries()

    def zoom(self, begin, end) -> Pattern:
        """The part [begin, end) of each cycle stretched to the whole cycle (Tidal ``zoomArc``)."""
        begin, end = to_time(begin), to_time(end)
        width = end - begin
        query = self._query

        def zoomed(span):
            out = []
            for e in query(span.with_cycle(lambda t: t * width + begin)):
                w = e.whole
                back = lambda t: (t - begin) / width  # noqa: E731
                whole = None if w is None else w.with_cycle(back)
                out.append(Event(whole, e.part.with_cycle(back), e.value, e.context))
            return out

        return Pattern(zoomed).split_queries()

    def when_cycle(self, test: Callable[[int], bool], f: Callable[[Pattern], Pattern], name: str = "when") -> Pattern:
        """f applied in the cycles whose number passes ``test`` (Tidal ``when``)."""
        changed = apply_function(f, self, name)
        plain, other = self._query, changed._query

        def chosen(span):
            b = span.begin
            return (other if test(b.numerator // b.denominator) else plain)(span)

        return Pattern(chosen).split_queries()

    def when_time(self, test: Callable[[Fraction], bool], f: Callable[[Pattern], Pattern],
                  name: str = "whenT") -> Pattern:
        """Tidal ``whenT``: the test sees the start of each (cycle-split) query."""
        changed = apply_function(f, self, name)
        plain, other = self._query, changed._query
        return Pattern(lambda span: (other if test(span.begin) else plain)(span)).split_queries()

    # ---- combining structure (Tidal's applicatives) -------------------------------------

    def app_left(self, other: Pattern, op: Callable[[Any, Any], Any]) -> Pattern:
        """Structure from self; other sampled over each event's whole (Tidal ``<*``)."""
        if self.is_pure and other.is_pure:
            return _pure_of(op(self.pure_value, other.pure_value), self.pure_context + other.pure_context)
        lq, rq = self._query, other._query
        constant, constant_context = other.pure_value, other.pure_context

        def left(span):
            b, e = span.begin, span.end
            within_cycle = constant is not _NO_VALUE and b < e <= b._numerator // b._denominator + 1
            out = []
            for ef in lq(span):
                wf, pf = ef.whole, ef.part
                vf, cf = ef.value, ef.context
                if within_cycle and _inside(pf, wf):
                    # a pure right side, a part inside its whole and one cycle: it meets one of its events
                    out.append(Event(wf, pf, op(vf, constant), cf + constant_context))
                    continue
                for ex in rq(wf if wf is not None else pf):
                    part = pf.sub(ex.part)
                    if part is not None:
                        out.append(Event(wf, part, op(vf, ex.value), cf + ex.context))
            return out

        return Pattern(left)

    def app_right(self, other: Pattern, op: Callable[[Any, Any], Any]) -> Pattern:
        """Structure from other (Tidal ``*>``)."""
        if self.is_pure and other.is_pure:
            return _pure_of(op(self.pure_value, other.pure_value), self.pure_context + other.pure_context)
        lq, rq = self._query, other._query
        constant, constant_context = self.pure_value, self.pure_context

        def right(span):
            b, e = span.begin, span.end
            within_cycle = constant is not _NO_VALUE and b < e <= b._numerator // b._denominator + 1
            out = []
            for ex in rq(span):
                wx, px = ex.whole, ex.part
                vx, cx = ex.value, ex.context
                if within_cycle and _inside(px, wx):
                    out.append(Event(wx, px, op(constant, vx), constant_context + cx))
                    continue
                for ef in lq(wx if wx is not None else px):
                    part = ef.part.sub(px)
                    if part is not None:
                        out.append(Event(wx, part, op(ef.value, vx), ef.context + cx))
            return out

        return Pattern(right)

    def app_both(self, other: Pattern, op: Callable[[Any, Any], Any]) -> Pattern:
        """Structure from both: wholes intersected (Tidal ``<*>``)."""
        if self.is_pure and other.is_pure:  # one whole cycle each: the same events as pure(op(a, b))
            return _pure_of(op(self.pure_value, other.pure_value), self.pure_context + other.pure_context)
        lq, rq = self._query, other._query

        def combine(ef, ex, out):
            wf, wx = ef.whole, ex.whole
            if wf is not None and wx is not None:
                whole = wf.sub(wx)
                if whole is None:
                    return
            else:
                whole = None
            part = ef.part.sub(ex.part)
            if part is not None:
                out.append(Event(whole, part, op(ef.value, ex.value), ef.context + ex.context))

        def both(span):
            out = []
            for ef in lq(span):
                if ef.whole is None:
                    for ex in rq(ef.part):
                        combine(ef, ex, out)
                else:
                    for ex in rq(ef.whole):
                        if ex.whole is not None:
                            combine(ef, ex, out)
            for ex in rq(span):
                if ex.whole is None:
                    for ef in lq(ex.part):
                        if ef.whole is not None:
                            combine(ef, ex, out)
            return out

        return Pattern(both)

    # ---- joins: a pattern of patterns flattened -----------------------------------------

    def bind(self, f: Callable[[Any], Pattern]) -> Pattern:
        """Tidal ``unwrap``/``>>=``: wholes are the intersection of outer and inner wholes."""
        outer = self._query

        def bound(span):
            out = []
            for oe in outer(span):
                ow, op = oe.whole, oe.part
                for ie in f(oe.value)._query(op):
                    iw = ie.whole
                    if ow is not None and iw is not None:
                        whole = ow.sub(iw)
                        if whole is None:
                            continue
                    else:
                        whole = None
                    part = op.sub(ie.part)
                    if part is not None:
                        out.append(Event(whole, part, ie.value, ie.context + oe.context))
            return out

        return Pattern(bound)

    def inner_bind(self, f: Callable[[Any], Pattern]) -> Pattern:
        """Tidal ``innerJoin``: structure from the inner patterns (how ``tParam`` patterns arguments)."""
        outer = self._query

        def bound(span):
            out = []
            for oe in outer(span):
                for ie in f(oe.value)._query(oe.part):
                    part = span.sub(ie.part)
                    if part is not None:
                        part = part.sub(span)
                        if part is not None:
                            out.append(Event(ie.whole, part, ie.value, ie.context + oe.context))
            return out

        return Pattern(bound)

    def outer_bind(self, f: Callable[[Any], Pattern]) -> Pattern:
        """Tidal ``outerJoin``: structure from the outer pattern, inner sampled at its onsets."""
        outer = self._query

        def bound(span):
            out = []
            for oe in outer(span):
                start = (oe.whole or oe.part).begin
                for ie in f(oe.value)._query(Span(start, start)):
                    part = span.sub(oe.part)
                    if part is not None:
                        out.append(Event(oe.whole, part, ie.value, oe.context + ie.context))
            return out

        return Pattern(bound)

    def squeeze_bind(self, f: Callable[[Any], Pattern]) -> Pattern:
        """Tidal ``squeezeJoin``: each inner pattern's cycle squeezed into the outer event's whole."""
        outer = self._query

        def bound(span):
            out = []
            for oe in outer(span):
                ow, op = oe.whole, oe.part
                wp = ow if ow is not None else op
                begin = wp.begin - sam(wp.begin)
                inner = f(oe.value).compress(begin, begin + (wp.end - wp.begin))
                for ie in inner._query(op):
                    iw = ie.whole
                    if ow is not None and iw is not None:
                        whole = ow.sub(iw)
                        if whole is None:
                            continue
                    else:
                        whole = None
                    part = op.sub(ie.part)
                    if part is not None:
                        out.append(Event(whole, part, ie.value, ie.context + oe.context))
            return out

        return Pattern(bound)


def apply_function(f: Callable, pat: Pattern, name: str) -> Pattern:
    """f(pat) for the functions that take a function of a pattern (every, off, jux, ...), checked."""
    if not callable(f):
        from .errors import DslError

        raise DslError(f"{name}: give a function of a pattern, e.g. lambda p: p.fast(2), not {f!r}")
    result = f(pat)
    if not isinstance(result, Pattern):
        from .errors import DslError

        raise DslError(f"{name}: the function must return a Pattern, it returned {result!r}")
    return result


def method(f: Callable) -> Callable:
    """Make a library function a Pattern method too (``every(p, 3, f)`` is ``p.every(3, f)``)."""
    setattr(Pattern, f.__name__, f)
    return f


# ---- silence --------------------------------------------------------------------------


def _silent(span):
    return []


silence = Pattern(_silent)


# ---- helpers --------------------------------------------------------------------------


def _inside(part: Span, whole: Span | None) -> bool:
    """A part of positive width inside its whole (Tidal's fastGap can make parts outside theirs)."""
    if part.begin >= part.end:
        return False
    return whole is None or whole is part or (whole.begin <= part.begin and part.end <= whole.end)


def _pure_of(value: Any, context: tuple) -> Pattern:
    from .constructors import pure

    return pure(value, context)


def _shift(e: Event, t: Fraction) -> Event:
    w, p = e.whole, e.part
    part = Span(p.begin + t, p.end + t)
    if w is None:
        return Event(None, part, e.value, e.context)
    if w is p or (w.begin == p.begin and w.end == p.end):
        return Event(part, part, e.value, e.context)
    return Event(Span(w.begin + t, w.end + t), part, e.value, e.context)
