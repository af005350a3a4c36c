"""Patterns as short text: what ``repr`` and ``Pattern.show()`` print (the docs' outputs).

One line per cycle, the events that start in it, ``begin→end value`` with exact fractions;
``bd:3`` for a sound with its n, ``n=4`` / ``s=bd gain=0.8`` for other params, ``~`` before the
span of a continuous value (no whole).
"""

from __future__ import annotations

from typing import Any


class Listing(str):
    """Text that shows as itself (no quotes) as a notebook's or the docs' last expression."""

    def __repr__(self) -> str:
        return str(self)


def value_text(v: Any) -> str:
    if isinstance(v, dict):
        if set(v) == {"s"}:
            return str(v["s"])
        if set(v) == {"s", "n"}:
            return f"{v['s']}:{number_text(v['n'])}"
        return " ".join(f"{k}={number_text(x)}" for k, x in v.items())
    return number_text(v)


def number_text(v: Any) -> str:
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return f"{v:.4g}"
    return str(v)


def events_text(events: list) -> str:
    shown = [e for e in events if e.whole is None or e.has_onset()]
    shown.sort(key=lambda e: (e.part.begin, value_text(e.value)))
    parts = []
    for e in shown:
        if e.whole is None:
            parts.append(f"~{e.part.begin}→{e.part.end} {value_text(e.value)}")
        else:
            parts.append(f"{e.whole.begin}→{e.whole.end} {value_text(e.value)}")
    return ", ".join(parts) if parts else "(nothing)"


def cycles_text(pattern, cycles: int = 1, first: int = 0) -> Listing:
    lines = [f"{c}: {events_text(pattern.query(c, c + 1))}" for c in range(first, first + cycles)]
    return Listing("\n".join(lines))
