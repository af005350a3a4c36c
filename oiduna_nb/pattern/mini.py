"""Mini-notation strings → Patterns, as Tidal 1.7.10 builds them (``toPat`` in ParseBP).

``parse(text, kind)`` is cached by (text, kind): patterns are immutable, and a live coder
re-runs the same strings all the time.
"""

from __future__ import annotations

import math
from fractions import Fraction

from . import mini_tree as t
from .mini_parse import parse_tree
from .constructors import fastcat, pure, stack, timecat
from .core import Pattern, silence
from .errors import DslError

_CACHE: dict[tuple[str, str], Pattern] = {}
_CACHE_LIMIT = 4096
_SEED_STEP = Fraction(1, 10000)  # Tidal shifts the random stream 0.0001 cycles per seed


def mini(text: str) -> Pattern:
    """The Pattern of a mini-notation string: numbers as floats, other words as strings."""
    return parse(text, "auto")


def parse(text: str, kind: str) -> Pattern:
    if not isinstance(text, str):
        raise DslError(f"mini-notation must be a string, not {text!r}")
    key = (text, kind)
    pat = _CACHE.get(key)
    if pat is None:
        pat = build(parse_tree(text, kind), kind)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = pat
    return pat


def build(node, kind: str) -> Pattern:
    """Tidal ``toPat``."""
    if isinstance(node, t.Atom):
        return pure(node.value, _context(node))
    if isinstance(node, t.Silence) or isinstance(node, t.Var):
        return silence
    if isinstance(node, t.Seq):
        return _sequence(node, kind)[1]
    if isinstance(node, t.Stack):
        return stack(*[build(n, kind) for n in node.items])
    if isinstance(node, t.Polymeter):
        return _polymeter(node, kind)
    if isinstance(node, t.Fast):
        return build(node.node, kind).fast(build(node.rate, "time"))
    if isinstance(node, t.Slow):
        return build(node.node, kind).slow(build(node.rate, "time"))
    if isinstance(node, t.DegradeBy):
        from .randomness import degrade_by_with

        return degrade_by_with(build(node.node, kind), node.seed * _SEED_STEP, node.amount)
    if isinstance(node, t.CycleChoose):
        return _cycle_choose(node, kind)
    if isinstance(node, t.Euclid):
        return _euclid(node, kind)
    if isinstance(node, t.EnumFromTo):
        return _enum_from_to(node, kind)
    raise DslError(f"mini-notation: cannot build {node!r}")


def _sequence(node: t.Seq, kind: str) -> tuple[Fraction, Pattern]:
    """Tidal ``resolve_seq``: (total weight, the steps laid out by weight)."""
    steps = node.steps
    total = sum((w for w, _ in steps), Fraction(0))
    if len(steps) == 1 and steps[0][0] == 1 and isinstance(steps[0][1], t.Atom):
        atom = steps[0][1]
        return total, pure(atom.value, _context(atom))  # a lone atom: the same events, without the timecat
    return total, timecat([(w, build(n, kind)) for w, n in steps])


def _context(atom: t.Atom) -> tuple:
    return (atom.position,) if atom.position is not None else ()


def _steps_of(node, kind: str) -> tuple[Fraction, Pattern]:
    """Tidal ``resolve_tpat``."""
    if isinstance(node, t.Seq):
        return _sequence(node, kind)
    return Fraction(1), build(node, kind)


def _polymeter(node: t.Polymeter, kind: str) -> Pattern:
    """``{a b c, d e}``: every sequence at the step rate (the first's step count unless ``%k``)."""
    sized = [_steps_of(s, kind) for s in node.seqs]
    if node.steps is None:
        steprate = pure(sized[0][0] if sized else Fraction(0))
    else:
        steprate = build(node.steps, "time")
    layers = []
    for size, pat in sized:
        if size == 0:
            continue  # an empty {} or <> (Tidal divides by zero here)
        layers.append(pat.fast(steprate.fmap(lambda rate, size=size: rate / size)))
    return stack(*layers)


def _cycle_choose(node: t.CycleChoose, kind: str) -> Pattern:
    """``[a | b | c]``: one option per cycle, by Tidal's ``rand`` shifted by the seed."""
    from .signals import rand

    options = [build(n, kind) for n in node.options]
    count = len(options)
    chooser = rand._early(node.seed * _SEED_STEP).fmap(lambda r: options[math.floor(r * count) % count])
    return pure(None).app_left(chooser, lambda _, chosen: chosen).bind(lambda p: p)


def _euclid(node: t.Euclid, kind: str) -> Pattern:
    from .library import euclid_off_bool

    pat = build(node.node, kind)
    hits, steps, rotation = (build(n, "int") for n in (node.hits, node.steps, node.rotation))
    if kind == "bool":
        return euclid_off_bool(pat, hits, steps, rotation)
    return pat.euclid_rot(hits, steps, rotation)


def _enum_from_to(node: t.EnumFromTo, kind: str) -> Pattern:
    """``a .. b``: numbers enumerate (Haskell's ``enumFromTo``, reversed when a > b); words do not."""
    first, last = build(node.first, kind), build(node.last, kind)

    def between(a, b):
        if kind == "word" or isinstance(a, str) or isinstance(b, str):
            return fastcat(pure(a), pure(b))
        if isinstance(a, bool) or isinstance(b, bool):
            return fastcat(pure(a), pure(b))
        return fastcat(*[pure(v) for v in enum_from_to(a, b, kind)])

    return first.app_both(last, lambda a, b: (a, b)).bind(lambda ab: between(*ab))


def enum_from_to(a, b, kind: str) -> list:
    if a > b:
        return list(reversed(enum_from_to(b, a, kind)))
    if kind == "int":
        return list(range(int(a), int(b) + 1))
    limit = b + Fraction(1, 2) if isinstance(b, Fraction) else b + 0.5  # Haskell's numericEnumFromTo
    out, x = [], a
    while x <= limit:
        out.append(x)
        x += 1
    return out
