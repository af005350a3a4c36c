"""The pattern functions of the contract that shape time and structure, as Pattern methods.

Each mirrors the Tidal 1.7.10 function named in its docstring; numeric arguments go through
``patterned`` (Tidal's ``tParam``), so ``p.fast("<1 2>")`` and ``p.every("<2 3>", f)`` work.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Callable

from .args import argument_pattern, patterned, patterned2, patterned3
from .constructors import fastcat, pure, slowcat, stack
from .core import Pattern, apply_function, method, silence
from .errors import DslError
from .event import Event
from .span import Span, sam, to_time

Transform = Callable[[Pattern], Pattern]


# ---- speed and shifts -------------------------------------------------------------------


@method
def fast(self: Pattern, factor) -> Pattern:
    """Speed up by ``factor`` (Tidal ``fast``)."""
    return patterned(factor, "time", self._fast, "fast")


@method
def slow(self: Pattern, factor) -> Pattern:
    """Slow down by ``factor`` (Tidal ``slow``)."""
    return patterned(factor, "time", self._slow, "slow")


@method
def early(self: Pattern, t) -> Pattern:
    """Shift earlier by ``t`` cycles (Tidal ``t <~ p``)."""
    return patterned(t, "time", self._early, "early")


@method
def late(self: Pattern, t) -> Pattern:
    """Shift later by ``t`` cycles (Tidal ``t ~> p``)."""
    return patterned(t, "time", self._late, "late")


@method
def palindrome(self: Pattern) -> Pattern:
    """Forwards, then backwards (Tidal ``palindrome``)."""
    return slowcat(self, self.rev())


@method
def iter(self: Pattern, k) -> Pattern:
    """Cycle c starts (c mod k)/k of the way in (Tidal ``iter``)."""
    return patterned(k, "int", lambda n: slowcat(*[self._early(Fraction(i, n)) for i in range(n)]), "iter")


@method
def ply(self: Pattern, k) -> Pattern:
    """Each event repeated k times inside its whole (Tidal ``ply``)."""
    return patterned(k, "time", lambda n: self.squeeze_bind(lambda v: pure(v)._fast(n)), "ply")


@method
def linger(self: Pattern, x) -> Pattern:
    """The first x of each cycle, repeated; negative x: the last (Tidal 1.7.10 ``linger``)."""

    def lingered(n: Fraction) -> Pattern:
        if n == 0:
            return silence
        zoomed = self.zoom(1 + n, 1) if n < 0 else self.zoom(0, n)
        return zoomed._fast(1 / n)  # a negative rate also reverses, as Tidal's _fast does

    return patterned(x, "time", lingered, "linger")


@method
def segment(self: Pattern, k) -> Pattern:
    """Sampled into k equal events per cycle (Tidal ``segment``)."""
    return patterned(k, "time", lambda n: pure(True)._fast(n).app_left(self, _second), "segment")


def range_(self: Pattern, low, high) -> Pattern:
    """Values v in [0, 1] scaled to [low, high]: v·(high−low)+low (Tidal ``range``)."""
    bounds = argument_pattern(low, "float", "range").app_right(argument_pattern(high, "float", "range"), _pair)
    return bounds.app_right(self, lambda lh, v: _number(v, "range") * (lh[1] - lh[0]) + lh[0])


Pattern.range = range_  # defined under another name: ``range`` is a builtin this module uses


@method
def brak(self: Pattern) -> Pattern:
    """Odd cycles squashed into the first half and shifted a quarter later (Tidal ``brak``)."""
    return self.when_cycle(lambda c: c % 2 == 1, lambda p: fastcat(p, silence)._late(Fraction(1, 4)))


# ---- functions applied to a part of the pattern ------------------------------------------


@method
def inside(self: Pattern, k, f: Transform) -> Pattern:
    """``f(p.slow(k)).fast(k)``: f as if each cycle were k cycles long (Tidal ``inside``)."""
    return patterned(k, "time", lambda n: apply_function(f, self._slow(n), "inside")._fast(n), "inside")


@method
def outside(self: Pattern, k, f: Transform) -> Pattern:
    """``inside(1/k, f)`` (Tidal ``outside``)."""
    return patterned(k, "time", lambda n: apply_function(f, self._fast(n), "outside")._slow(n), "outside")


@method
def within(self: Pattern, span: tuple, f: Transform) -> Pattern:
    """f applied to the events starting in [begin, end) of each cycle (Tidal ``within``)."""
    begin, end = to_time(span[0]), to_time(span[1])
    inside_span = lambda t: begin <= t - sam(t) < end  # noqa: E731
    changed = apply_function(f, self, "within")
    return stack(changed.filter_when(inside_span), self.filter_when(lambda t: not inside_span(t)))


@method
def swing_by(self: Pattern, x, k) -> Pattern:
    """Each k-th of a cycle: its second half delayed by x (Tidal ``swingBy``)."""
    return self.inside(k, lambda p: p.within((Fraction(1, 2), 1), lambda q: q.late(x)))


@method
def every(self: Pattern, k, f: Transform) -> Pattern:
    """f applied on cycles c with c mod k == 0 (Tidal ``every``; k = 0: never)."""
    _check_function(f, "every")

    def every_n(n: int) -> Pattern:
        return self if n == 0 else self.when_cycle(lambda c: c % n == 0, f, "every")

    return patterned(k, "int", every_n, "every")


@method
def whenmod(self: Pattern, a, b, f: Transform) -> Pattern:
    """f applied when (cycle mod a) >= b (Tidal ``whenmod``)."""
    _check_function(f, "whenmod")

    def when_mod(period: Fraction, start: Fraction) -> Pattern:
        if period == 0:
            raise DslError("whenmod: the period must not be 0")
        return self.when_time(lambda t: t - period * math.floor(t / period) >= start, f, "whenmod")

    return patterned2(a, "time", b, "time", when_mod)


@method
def chunk(self: Pattern, k, f: Transform) -> Pattern:
    """Cycle c: f applied to its ((c mod k)/k .. (c mod k + 1)/k) part only (Tidal ``chunk``)."""
    _check_function(f, "chunk")

    def chunked(n: int) -> Pattern:
        return slowcat(*[self.within((Fraction(i, n), Fraction(i + 1, n)), f) for i in range(n)])

    return patterned(k, "int", chunked, "chunk")


@method
def superimpose(self: Pattern, f: Transform) -> Pattern:
    """``stack(p, f(p))`` (Tidal ``superimpose``)."""
    return stack(self, apply_function(f, self, "superimpose"))


@method
def off(self: Pattern, t, f: Transform) -> Pattern:
    """``stack(p, f(p.late(t)))`` (Tidal ``off``)."""
    _check_function(f, "off")
    return patterned(t, "time", lambda shift: stack(self, apply_function(f, self._late(shift), "off")), "off")


# ---- structure from boolean patterns ---------------------------------------------------------


@method
def struct(self: Pattern, bools) -> Pattern:
    """Events at the true steps of ``bools``, valued by sampling p over each (Tidal ``struct``)."""
    picked = bool_pattern(bools).app_left(self, lambda keep, v: v if keep else _DROP)
    return picked.filter_values(lambda v: v is not _DROP)


@method
def mask(self: Pattern, bools) -> Pattern:
    """The parts of p's events that overlap true steps of ``bools`` (Tidal ``mask``)."""
    return self.app_left(bool_pattern(bools).filter_values(bool), _first)


@method
def euclid(self: Pattern, hits, steps) -> Pattern:
    """The whole pattern squeezed into each of the Bjorklund hits (Tidal ``euclid``)."""
    return patterned2(hits, "int", steps, "int", lambda k, n: _euclid(self, k, n))


@method
def euclid_rot(self: Pattern, hits, steps, rotation) -> Pattern:
    """``euclid(k, n)`` rotated left by r steps (Tidal ``euclidOff``)."""
    return patterned3(hits, "int", steps, "int", rotation, "int", lambda k, n, r: _euclid_off(self, k, n, r))


def euclid_off_bool(self: Pattern, hits, steps, rotation) -> Pattern:
    """Mini-notation euclid on booleans: the rests are the negated values (Tidal ``euclidOffBool``)."""

    def off(k: int, n: int, r: int) -> Pattern:
        if n == 0:
            return silence
        flags = fastcat(*[pure(b) for b in bjorklund(k, n)])
        return flags.app_both(self, lambda hit, v: v if hit else not v)._early(Fraction(r, n))

    return patterned3(hits, "int", steps, "int", rotation, "int", off)


def _euclid(pat: Pattern, k: int, n: int) -> Pattern:
    return fastcat(*[pat if hit else silence for hit in bjorklund(k, n)])


def _euclid_off(pat: Pattern, k: int, n: int, r: int) -> Pattern:
    return silence if n == 0 else _euclid(pat, k, n)._early(Fraction(r, n))


def bjorklund(k: int, n: int) -> list[bool]:
    """k onsets spread over n steps, as Tidal's Bjorklund (k > n gives k onsets; k < 0 none)."""
    groups_a = [[True] for _ in range(k)]
    groups_b = [[False] for _ in range(n - k)]
    a_count, b_count = k, n - k
    while min(a_count, b_count) > 1:
        if a_count > b_count:  # pair the first b_count of A with B; the rest of A becomes the remainder
            paired = [x + y for x, y in zip(groups_a[:b_count], groups_b)]
            groups_a, groups_b = paired, groups_a[b_count:]
            a_count, b_count = b_count, a_count - b_count
        else:
            paired = [x + y for x, y in zip(groups_a, groups_b[:a_count])]
            groups_a, groups_b = paired, groups_b[a_count:]
            b_count = b_count - a_count
    return [b for g in groups_a for b in g] + [b for g in groups_b for b in g]


@method
def rot(self: Pattern, k) -> Pattern:
    """Values shifted k events to the left within each cycle, structure kept (Tidal ``rot``)."""
    return patterned(k, "int", lambda i: _rot(self, i), "rot")


def _rot(pat: Pattern, shift: int) -> Pattern:
    query = pat._query

    def rotated(span):
        cycle = sam(span.begin)
        events = sorted(_defragment(query(Span(cycle, cycle + 1))), key=_event_order)
        count = len(events)
        if count == 0:
            return []
        start = shift % count if shift >= 0 else max(0, count - abs(shift))
        values = [e.value for e in events]
        out = []
        for i, e in enumerate(events):
            part = e.part.sub(span)
            if part is not None:
                out.append(Event(e.whole, part, values[(start + i) % count], e.context))
        return out

    return Pattern(rotated).split_queries()


def _defragment(events: list[Event]) -> list[Event]:
    """Tidal ``defragParts``: each event joined with the first fragment of it that touches it."""
    rest, out = list(events), []
    while rest:
        e = rest.pop(0)
        for j, other in enumerate(rest):
            if other.whole == e.whole and other.value == e.value and (
                e.part.end == other.part.begin or other.part.end == e.part.begin
            ):
                del rest[j]
                hull = Span(min(e.part.begin, other.part.begin), max(e.part.end, other.part.end))
                e = Event(e.whole, hull, e.value, e.context)
                break
        out.append(e)
    return out


def _event_order(e: Event):
    """Tidal's order of events: source context, whole (none first), part, value."""
    w = e.whole
    whole = (0, 0, 0) if w is None else (1, w.begin, w.end)
    return (e.context, whole, e.part.begin, e.part.end, _value_order(e.value))


def _value_order(v: Any):
    if isinstance(v, dict):
        return (2, tuple(sorted((k, _value_order(x)) for k, x in v.items())))
    if isinstance(v, str):
        return (0, v, 0.0)
    return (1, "", float(v))


# ---- helpers -------------------------------------------------------------------------------

_DROP = object()


def bool_pattern(bools) -> Pattern:
    if isinstance(bools, str):
        from .mini import parse

        return parse(bools, "bool")
    if isinstance(bools, Pattern):
        return bools.fmap(_truth)
    if isinstance(bools, (list, tuple)):
        return fastcat(*[pure(_truth(b)) for b in bools])
    return pure(_truth(bools))


def _truth(v) -> bool:
    if isinstance(v, str):
        if v in ("t", "true", "1"):
            return True
        if v in ("f", "false", "0"):
            return False
        raise DslError(f"{v!r} is not a boolean step: use t/f or 1/0")
    return bool(v)


def _number(v, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, Fraction)):
        raise DslError(f"{name}: values must be numbers, not {v!r}")
    return v


def _check_function(f, name: str) -> None:
    if not callable(f):
        raise DslError(f"{name}: the last argument must be a function of a pattern, e.g. lambda p: p.fast(2)")


def _pair(a, b):
    return (a, b)


def _first(a, _b):
    return a


def _second(_a, b):
    return b
