"""The syntax tree of mini-notation (Tidal's ``TPat``), which mini_parse makes and mini builds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Atom:
    value: Any
    position: tuple | None = None  # ((column, line), (column, line)) where it was written, 1-based


@dataclass
class Silence:
    pass


@dataclass
class Seq:
    steps: list  # [(weight: Fraction, node)]


@dataclass
class Stack:
    items: list


@dataclass
class Polymeter:
    steps: Any  # node of kind 'time' or None (the first sequence's step count)
    seqs: list  # [Seq]


@dataclass
class Fast:
    rate: Any  # node of kind 'time'
    node: Any


@dataclass
class Slow:
    rate: Any
    node: Any


@dataclass
class DegradeBy:
    seed: int
    amount: float
    node: Any


@dataclass
class CycleChoose:
    seed: int
    options: list


@dataclass
class Euclid:
    hits: Any  # nodes of kind 'int'
    steps: Any
    rotation: Any
    node: Any


@dataclass
class EnumFromTo:
    first: Any
    last: Any


@dataclass
class Var:  # ^name: a control input; queried without controls it is silence, as in Tidal
    name: str
