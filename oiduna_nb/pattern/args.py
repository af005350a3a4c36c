"""Arguments that may be patterns: a number, a mini-notation string or a Pattern.

Tidal's ``tParam``: ``fast "<1 2>" p`` is ``innerJoin ((\\x -> _fast x p) <$> "<1 2>")``,
structure from the inner patterns. A plain number skips the join (it is the same as
joining over ``pure x``: the query is split at cycle boundaries).

Kinds say how a value is read, as Tidal's types do: ``time`` (Rational: fast, late, ...),
``int`` (every, euclid, ...), ``float`` (Double: degradeBy, gain, ...).
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Real
from typing import Any, Callable

from .constructors import pure
from .core import Pattern
from .errors import DslError
from .span import to_time

_CACHE_LIMIT = 256


def convert(value: Any, kind: str, name: str = "argument", computed: bool = False):
    """A plain value read as ``kind``. A float typed by the user is read as its decimal form
    (``0.1`` is 1/10, like a Haskell literal); a ``computed`` one (a pattern's value, such as a
    signal's) as its exact binary value, as Tidal's ``toRational`` reads a Double."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise DslError(f"{name} must be a number, a mini-notation string or a Pattern, not {value!r}")
    if kind == "time":
        return to_time(Fraction(value)) if computed and isinstance(value, float) else to_time(value)
    if kind == "int":
        if value != int(value):
            raise DslError(f"{name} must be a whole number, not {value!r}")
        return int(value)
    return float(value)


def argument_pattern(arg: Any, kind: str, name: str = "argument") -> Pattern:
    """The argument as a Pattern of values of ``kind``."""
    if isinstance(arg, Pattern):
        return arg.fmap(lambda v: convert(v, kind, name, computed=True))
    if isinstance(arg, str):
        from .mini import parse

        return parse(arg, kind)
    return pure(convert(arg, kind, name))


def patterned(arg: Any, kind: str, f: Callable[[Any], Pattern], name: str = "argument") -> Pattern:
    """Tidal ``tParam``: f(value) for each value of the argument, inner-joined."""
    pat = argument_pattern(arg, kind, name)
    if pat.is_pure:  # = the join over pure(x): the query split at cycles, x's context recorded
        return f(pat.pure_value).split_queries().with_context_after(pat.pure_context)
    return pat.inner_bind(_cached(f))


def patterned2(a: Any, kind_a: str, b: Any, kind_b: str, f: Callable[[Any, Any], Pattern]) -> Pattern:
    """Tidal ``tParam2``: both arguments combined with their structures (``<*>``), then inner-joined."""
    pa, pb = argument_pattern(a, kind_a), argument_pattern(b, kind_b)
    if pa.is_pure and pb.is_pure:
        return f(pa.pure_value, pb.pure_value).split_queries().with_context_after(pa.pure_context + pb.pure_context)
    pair = pa.app_both(pb, lambda x, y: (x, y))
    return pair.inner_bind(_cached(lambda xy: f(*xy)))


def patterned3(a, kind_a, b, kind_b, c, kind_c, f) -> Pattern:
    """Tidal ``tParam3``."""
    pa, pb, pc = argument_pattern(a, kind_a), argument_pattern(b, kind_b), argument_pattern(c, kind_c)
    if pa.is_pure and pb.is_pure and pc.is_pure:
        context = pa.pure_context + pb.pure_context + pc.pure_context
        return f(pa.pure_value, pb.pure_value, pc.pure_value).split_queries().with_context_after(context)
    triple = pa.app_both(pb, lambda x, y: (x, y)).app_both(pc, lambda xy, z: (*xy, z))
    return triple.inner_bind(_cached(lambda xyz: f(*xyz)))


def _cached(f: Callable[[Any], Pattern]) -> Callable[[Any], Pattern]:
    """f is pure, so the pattern it builds for a value can be kept (values repeat every cycle)."""
    made: dict = {}

    def get(value):
        try:
            return made[value]
        except KeyError:
            pass
        except TypeError:  # unhashable
            return f(value)
        pat = f(value)
        if len(made) >= _CACHE_LIMIT:
            made.clear()
        made[value] = pat
        return pat

    return get
