"""Random removal of events, by Tidal's time-seeded ``rand`` (so the same in every run)."""

from __future__ import annotations

from fractions import Fraction

from .args import patterned
from .constructors import stack
from .core import Pattern, apply_function, method
from .event import Event
from .signals import time_to_rand

_ZERO = Fraction(0)


def degrade_by_with(pat: Pattern, shift: Fraction, amount: float, keep_below: bool = False) -> Pattern:
    """Tidal ``_degradeByUsing (rotL shift rand)``: an event stays iff rand at the midpoint of
    its whole (+ shift) is > amount; with ``keep_below`` iff it is <= amount (``_unDegradeBy``)."""
    query = pat._query

    def degraded(span):
        out = []
        for e in query(span):
            w = e.whole if e.whole is not None else e.part
            if w.begin > w.end:
                continue
            r = time_to_rand(w.begin + (w.end - w.begin) / 2 + shift)
            if (r <= amount) if keep_below else (r > amount):
                part = e.part.sub(w)
                if part is not None:
                    out.append(Event(e.whole, part, e.value, e.context) if part != e.part else e)
        return out

    return Pattern(degraded)


@method
def degrade_by(self: Pattern, amount) -> Pattern:
    """Drop events at random with probability ``amount`` (Tidal ``degradeBy``)."""
    return patterned(amount, "float", lambda x: degrade_by_with(self, _ZERO, x), "degrade_by")


@method
def undegrade_by(self: Pattern, amount) -> Pattern:
    """Exactly the events ``degrade_by(amount)`` drops (Tidal ``unDegradeBy``)."""
    return patterned(amount, "float", lambda x: degrade_by_with(self, _ZERO, x, keep_below=True), "undegrade_by")


@method
def degrade(self: Pattern) -> Pattern:
    """``degrade_by(0.5)`` (Tidal ``degrade``)."""
    return degrade_by_with(self, _ZERO, 0.5)


@method
def sometimes_by(self: Pattern, amount, f) -> Pattern:
    """f applied to the events that ``degrade_by(amount)`` drops (Tidal ``sometimesBy``)."""
    return stack(self.degrade_by(amount), apply_function(f, self.undegrade_by(amount), "sometimes_by"))


@method
def sometimes(self: Pattern, f) -> Pattern:
    """``sometimes_by(0.5, f)``."""
    return self.sometimes_by(0.5, f)
