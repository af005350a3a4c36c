"""A subset of Tidal/Strudel mini-notation, with the same meaning. Pure.

    "bd sn"          a sequence: each term gets an equal share of the cycle
    "~"              a rest
    "[bd bd] sn"     a group: a sequence squeezed into one term's share
    "[c4, e4, g4]"   a stack: sequences played at once (chords)
    "bd*2"           repetition: the term played twice in its share
    "<bd sn cp>"     alternation: one term per cycle, in turn
    "bd@3 sn"        elongation: a term weighs 3 shares
    "bd!3"           replication: the term written three times
    "bd(3,8)"        euclid: 3 hits spread over 8 slots of its share (",2" rotates left by 2)

A cycle is one bar. ``query(cycle)`` gives the haps of a cycle as exact fractions, so a
position between two 16ths is kept, never rounded.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .errors import DslError

WORD = re.compile(r"[A-Za-z0-9#.:'_\-]+")


@dataclass(frozen=True)
class Hap:
    begin: Fraction  # within the cycle, 0 <= begin < 1
    end: Fraction
    value: Any


# ---- the tree ------------------------------------------------------------------------


class Node:
    period: int = 1  # cycles after which it repeats

    def haps(self, index: int, begin: Fraction, end: Fraction) -> list[Hap]:
        """Its haps when it occupies [begin, end) for the ``index``-th time."""
        raise NotImplementedError


@dataclass
class Atom(Node):
    value: str
    period: int = 1

    def haps(self, index, begin, end):
        return [Hap(begin, end, self.value)]


class Rest(Node):
    period = 1

    def haps(self, index, begin, end):
        return []


@dataclass
class Seq(Node):
    items: list[tuple[Node, Fraction]]  # node and weight

    def __post_init__(self) -> None:
        self.period = _lcm(n.period for n, _ in self.items)

    def haps(self, index, begin, end):
        total = sum(w for _, w in self.items)
        span = end - begin
        out, at = [], begin
        for node, weight in self.items:
            nxt = at + span * weight / total
            out += node.haps(index, at, nxt)
            at = nxt
        return out


@dataclass
class Stack(Node):
    layers: list[Node]

    def __post_init__(self) -> None:
        self.period = _lcm(n.period for n in self.layers)

    def haps(self, index, begin, end):
        return [h for layer in self.layers for h in layer.haps(index, begin, end)]


@dataclass
class Alt(Node):
    choices: list[Node]

    def __post_init__(self) -> None:
        self.period = len(self.choices) * _lcm(n.period for n in self.choices)

    def haps(self, index, begin, end):
        k = len(self.choices)
        return self.choices[index % k].haps(index // k, begin, end)


@dataclass
class Fast(Node):
    node: Node
    times: int

    def __post_init__(self) -> None:
        self.period = self.node.period // math.gcd(self.node.period, self.times)

    def haps(self, index, begin, end):
        step = (end - begin) / self.times
        return [
            h
            for k in range(self.times)
            for h in self.node.haps(index * self.times + k, begin + k * step, begin + (k + 1) * step)
        ]


@dataclass
class Euclid(Node):
    node: Node
    hits: int
    slots: int
    rotation: int = 0

    def __post_init__(self) -> None:
        self.period = self.node.period

    def haps(self, index, begin, end):
        step = (end - begin) / self.slots
        out = []
        for k, on in enumerate(euclid_bools(self.hits, self.slots, self.rotation)):
            if on:
                out += self.node.haps(index, begin + k * step, begin + (k + 1) * step)
        return out


def euclid_bools(hits: int, slots: int, rotation: int = 0) -> list[bool]:
    """Bjorklund's even spread of ``hits`` over ``slots`` (as Tidal places them), rotated left."""
    if slots <= 0:
        raise DslError(f"euclid needs at least one slot, not {slots}")
    if not 0 <= hits <= slots:
        raise DslError(f"euclid({hits},{slots}): hits must be between 0 and {slots}")
    # Pair the remainders with the groups until at most one remainder is left.
    groups: list[list[bool]] = [[True] for _ in range(hits)]
    rest: list[list[bool]] = [[False] for _ in range(slots - hits)]
    while min(len(groups), len(rest)) > 1:
        if len(groups) > len(rest):
            paired = [g + r for g, r in zip(groups, rest)]
            groups, rest = paired, groups[len(rest):]
        else:
            paired = [g + r for g, r in zip(groups, rest)]
            groups, rest = paired, rest[len(groups):]
    pattern = [b for g in groups + rest for b in g]
    rotation %= slots
    return pattern[rotation:] + pattern[:rotation]


def _lcm(periods) -> int:
    out = 1
    for p in periods:
        out = out * p // math.gcd(out, p)
    return out


# ---- the parser ------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def fail(self, message: str) -> DslError:
        pointer = " " * (self.i + 1) + "^"
        return DslError(f"mini-notation: {message} at column {self.i + 1}\n  {self.text!r}\n {pointer}")

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.i] if self.i < len(self.text) else ""

    def skip_space(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            found = repr(self.peek()) if self.peek() else "the end"
            raise self.fail(f"expected {ch!r}, found {found}")
        self.i += 1

    def sequence(self, closers: str) -> Node:
        """Terms up to a closer; commas make a stack of sequences."""
        layers, items = [], []
        while True:
            ch = self.peek()
            if ch == "" or ch in closers:
                break
            if ch == ",":
                if "]" not in closers and ">" not in closers:
                    raise self.fail("',' (a stack) belongs inside [ ]")
                self.i += 1
                layers.append(self._seq(items))
                items = []
                continue
            items.extend(self.term())
        if not items:
            raise self.fail("empty sequence")
        layers.append(self._seq(items))
        return layers[0] if len(layers) == 1 else Stack(layers)

    def _seq(self, items):
        if not items:
            raise self.fail("empty layer")
        return items[0][0] if len(items) == 1 and items[0][1] == 1 else Seq(items)

    def term(self) -> list[tuple[Node, Fraction]]:
        node = self.atom()
        weight = Fraction(1)
        copies = 1
        while True:
            ch = self.text[self.i] if self.i < len(self.text) else ""
            if ch == "*":
                self.i += 1
                node = Fast(node, self.integer("*", minimum=1))
            elif ch == "@":
                self.i += 1
                weight = self.number("@")
            elif ch == "!":
                self.i += 1
                copies = self.integer("!", minimum=1)
            elif ch == "(":
                self.i += 1
                args = [self.integer("euclid", minimum=0)]
                while self.peek() == ",":
                    self.i += 1
                    args.append(self.integer("euclid", minimum=None))
                self.expect(")")
                if len(args) not in (2, 3):
                    raise self.fail("euclid takes (hits, slots) or (hits, slots, rotation)")
                node = Euclid(node, *args)
            else:
                break
        return [(node, weight)] * copies

    def atom(self) -> Node:
        ch = self.peek()
        if ch == "[":
            self.i += 1
            node = self.sequence("]")
            self.expect("]")
            return node
        if ch == "<":
            self.i += 1
            inner = self.sequence(">")
            self.expect(">")
            choices = [n for n, _ in inner.items] if isinstance(inner, Seq) else [inner]
            return Alt(choices)
        if ch == "~":
            self.i += 1
            return Rest()
        match = WORD.match(self.text, self.i)
        if not match:
            found = repr(ch) if ch else "the end"
            raise self.fail(f"unexpected {found}")
        self.i = match.end()
        return Atom(match.group())

    def _token(self) -> str:
        match = re.compile(r"-?\d+(\.\d+)?").match(self.text, self.i)
        if not match:
            raise self.fail("expected a number")
        self.i = match.end()
        return match.group()

    def integer(self, what: str, minimum: int | None) -> int:
        self.skip_space()
        token = self._token()
        if "." in token:
            raise self.fail(f"{what} needs a whole number, not {token}")
        value = int(token)
        if minimum is not None and value < minimum:
            raise self.fail(f"{what} needs a number of at least {minimum}, not {value}")
        return value

    def number(self, what: str) -> Fraction:
        value = Fraction(self._token())
        if value <= 0:
            raise self.fail(f"{what} needs a positive number")
        return value


def parse(text: str) -> Node:
    if not isinstance(text, str):
        raise DslError(f"mini-notation must be a string, not {type(text).__name__}")
    if not text.strip():
        raise DslError("mini-notation: the pattern is empty")
    parser = _Parser(text)
    node = parser.sequence("")
    if parser.i < len(text):
        raise parser.fail(f"unexpected {text[parser.i]!r}")
    return node


def query(node: Node, cycle: int) -> list[Hap]:
    return sorted(node.haps(cycle, Fraction(0), Fraction(1)), key=lambda h: h.begin)
