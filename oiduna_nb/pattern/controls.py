"""Control patterns: events whose values are dicts of params, as SuperDirt receives them.

``s("bd:3")`` → ``{"s": "bd", "n": 3.0}``; ``n("c e")`` → ``{"n": 0.0}``, ``{"n": 4.0}`` (Tidal's
note names, semitones from c5). Params as methods are Tidal's ``#`` (structure from the left,
values merged, the right wins); ``add``/``sub``/``mul`` are ``|+``/``|-``/``|*``.
"""

from __future__ import annotations

import operator
import re
from numbers import Real
from typing import Any, Callable

from .args import argument_pattern, patterned, patterned3
from .constructors import fastcat, pure, stack
from .core import Pattern, apply_function, method
from .errors import DslError
from .event import Event
from .span import Span

NUMERIC_PARAMS = {  # param name → how its mini-notation is read (Tidal's type for it)
    "n": "note", "note": "note", "speed": "float", "gain": "float", "pan": "float",
    "cutoff": "float", "room": "float", "orbit": "int", "legato": "float",
}
HASKELL_DOUBLE = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


# ---- making control patterns ------------------------------------------------------------


def control(name: str, x) -> Pattern:
    """The control pattern ``{name: value}`` of a number, a mini-notation string or a Pattern."""
    if name == "s":
        return _sound(x)
    kind = NUMERIC_PARAMS[name]
    if isinstance(x, Pattern):
        return x.fmap(lambda v: {name: _numeric_value(v, kind, name)})
    if isinstance(x, str):
        from .mini import parse

        return parse(x, kind).fmap(lambda v: {name: float(v)})
    return pure({name: _numeric_value(x, kind, name)})


def _sound(x) -> Pattern:
    if isinstance(x, Pattern):
        return x.fmap(lambda v: sound_value(_word(v)))
    if isinstance(x, str):
        from .mini import parse

        return parse(x, "word").fmap(sound_value)
    if _is_number(x):
        return pure(sound_value(_word(x)))
    raise DslError(f"s() takes sound names as a string, a number or a Pattern, not {x!r}")


def sound_value(word: str) -> dict:
    """Tidal ``sound = grp [mS "s", mF "n"]``: ``bd:3`` → s and n; a third part is dropped."""
    parts = [p for p in word.split(":") if p]
    value: dict[str, Any] = {"s": parts[0]} if parts else {}
    if len(parts) > 1 and HASKELL_DOUBLE.match(parts[1]):
        value["n"] = float(parts[1])
    return value


def _word(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    if isinstance(v, (int, float)):
        return str(v)
    raise DslError(f"s: {v!r} is not a sound name")


def _numeric_value(v, kind: str, name: str) -> float:
    if isinstance(v, str):
        from .mini_parse import parse_tree
        from .mini_tree import Atom, Seq

        tree = parse_tree(v, kind)
        if isinstance(tree, Seq) and len(tree.steps) == 1 and isinstance(tree.steps[0][1], Atom):
            return float(tree.steps[0][1].value)
        raise DslError(f"{name}: {v!r} is not one value")
    if isinstance(v, bool) or not isinstance(v, Real):
        raise DslError(f"{name}: {v!r} is not a number")
    if kind == "int" and v != int(v):
        raise DslError(f"{name} must be a whole number, not {v!r}")
    return float(v)


def _make_constructor(name: str) -> Callable[[Any], Pattern]:
    def constructor(x) -> Pattern:
        return control(name, x)

    constructor.__name__ = name
    constructor.__doc__ = f"The control pattern {{{name!r}: value}} (Tidal ``{name}``)."
    return constructor


s = _make_constructor("s")
n = _make_constructor("n")
note = _make_constructor("note")
speed = _make_constructor("speed")
gain = _make_constructor("gain")
pan = _make_constructor("pan")
cutoff = _make_constructor("cutoff")
room = _make_constructor("room")
orbit = _make_constructor("orbit")
legato = _make_constructor("legato")


# ---- combining values -----------------------------------------------------------------------


def union(a, b):
    """Tidal ``#``'s merge: the right's params win."""
    if not isinstance(a, dict):
        raise DslError(f"a param was set on a bare pattern (value {a!r}): start from s(...), n(...) or note(...)")
    return {**a, **b}


def _numeric_op(op: Callable, name: str) -> Callable[[Any, Any], Any]:
    """Tidal's Num on values: with dicts, op on the keys in both (numbers only, else the left
    is kept) and keys in one side kept; plain numbers combined; anything else keeps the left."""

    def combine(a, b):
        if isinstance(a, dict):
            if not isinstance(b, dict):
                raise DslError(f"{name}: to change params, give a control pattern, e.g. .{name}(n(12)), not {b!r}")
            out = dict(a)
            for key, value in b.items():
                if key in a:
                    left = a[key]
                    if _is_number(left) and _is_number(value):
                        out[key] = op(left, value)
                else:
                    out[key] = value
            return out
        if isinstance(b, dict):
            raise DslError(f"{name}: a bare pattern cannot take params {b!r}")
        if _is_number(a) and _is_number(b):
            return op(a, b)
        return a

    return combine


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _operand(x) -> Pattern:
    if isinstance(x, Pattern):
        return x
    if isinstance(x, str):
        from .mini import mini

        return mini(x)
    if _is_number(x):
        return pure(float(x))
    raise DslError(f"expected a number, a mini-notation string or a Pattern, not {x!r}")


@method
def add(self: Pattern, x) -> Pattern:
    """Tidal ``|+``: structure from the left."""
    return self.app_left(_operand(x), _ADD)


@method
def sub(self: Pattern, x) -> Pattern:
    """Tidal ``|-``: structure from the left."""
    return self.app_left(_operand(x), _SUB)


@method
def mul(self: Pattern, x) -> Pattern:
    """Tidal ``|*``: structure from the left."""
    return self.app_left(_operand(x), _MUL)


_ADD = _numeric_op(operator.add, "add")
_SUB = _numeric_op(operator.sub, "sub")
_MUL = _numeric_op(operator.mul, "mul")


def _param_method(name: str):
    def set_param(self: Pattern, x) -> Pattern:
        return self.app_left(control(name, x), union)

    set_param.__name__ = name
    set_param.__doc__ = f"Tidal ``# {name} x``: structure from the left, {name} from x."
    setattr(Pattern, name, set_param)


for _name in ("s", *NUMERIC_PARAMS):
    _param_method(_name)


# ---- functions made for control patterns -----------------------------------------------------


@method
def jux(self: Pattern, f) -> Pattern:
    """Left: p; right: f(p) (Tidal ``jux``: ``p |+ pan 0.5 |- pan 0.5`` and ``f (p |+ pan 0.5 |+ pan 0.5)``)."""
    half = pan(0.5)
    return stack(self.add(half).sub(half), apply_function(f, self.add(half).add(half), "jux"))


@method
def hurry(self: Pattern, x) -> Pattern:
    """``fast(x)`` with speed multiplied by x (Tidal ``hurry``)."""
    rate = argument_pattern(x, "time", "hurry")
    return self.fast(rate).mul(rate.fmap(lambda r: {"speed": float(r)}))


@method
def stut(self: Pattern, count, feedback, time) -> Pattern:
    """Copies i = 1..count−1, each i·time later, gain × (feedback + (1−feedback)·(count−i)/count)."""

    def stutter(c: int, fb: float, step) -> Pattern:
        def scale(i: int) -> float:
            return (c - i) / c * (1 - fb) + fb

        copies = [self.mul(gain(scale(i)))._late(i * step) for i in range(1, c)]
        return stack(self, *copies)

    return patterned3(count, "int", feedback, "float", time, "time", stutter)


@method
def echo_with(self: Pattern, count, time, f) -> Pattern:
    """Copy i: f applied i times, i·time later (Tidal ``stutWith``/``echoWith``)."""

    def echoes(c: int, step) -> Pattern:
        if c <= 1:
            return self
        return stack(apply_function(f, echoes(c - 1, step)._late(step), "echo_with"), self)

    counts, times = argument_pattern(count, "int", "echo_with"), argument_pattern(time, "time", "echo_with")
    if counts.is_pure and times.is_pure:
        context = counts.pure_context + times.pure_context
        return echoes(counts.pure_value, times.pure_value).split_queries().with_context_after(context)
    return counts.app_left(times, lambda c, t: (c, t)).inner_bind(lambda ct: echoes(*ct))


@method
def echo(self: Pattern, count, time, feedback) -> Pattern:
    """``echo_with(count, time, lambda p: p.mul(gain(feedback)))``."""
    return self.echo_with(count, time, lambda p: p.mul(gain(feedback)))


@method
def chop(self: Pattern, k) -> Pattern:
    """Each event cut into k events that play its sample's k parts (``begin``/``end``) (Tidal ``chop``)."""
    return patterned(k, "int", lambda parts: _chop(self, parts), "chop")


def _chop(pat: Pattern, parts: int) -> Pattern:
    query = pat._query

    def chopped(span):
        out = []
        for e in query(span):
            whole = e.whole
            if whole is None:
                continue
            begin, end = _play_range(e.value, "chop")
            width = whole.end - whole.begin
            for i in range(parts):
                piece = Span(whole.begin + width * i / parts, whole.begin + width * (i + 1) / parts)
                part = e.part.sub(piece)
                if part is not None:
                    value = dict(e.value)
                    value["begin"] = (i / parts) * (end - begin) + begin
                    value["end"] = ((i + 1) / parts) * (end - begin) + begin
                    out.append(Event(piece, part, value, e.context))
        return out

    return Pattern(chopped)


@method
def striate(self: Pattern, k) -> Pattern:
    """k copies squeezed into the cycle, copy i playing part i of each sample (Tidal ``striate``)."""

    def striated(parts: int) -> Pattern:
        return fastcat(*[self.fmap(_merge_play_range(i / parts, (i + 1) / parts)) for i in range(parts)])

    return patterned(k, "int", striated, "striate")


def _merge_play_range(b: float, e: float):
    def merge(value):
        begin, end = _play_range(value, "striate")
        width = end - begin
        return {**value, "begin": b * width + begin, "end": e * width + begin}

    return merge


def _play_range(value, name: str) -> tuple[float, float]:
    if not isinstance(value, dict):
        raise DslError(f"{name} works on sounds (control patterns such as s(...)), not on {value!r}")
    begin, end = value.get("begin", 0.0), value.get("end", 1.0)
    return (float(begin) if _is_number(begin) else 0.0, float(end) if _is_number(end) else 1.0)
