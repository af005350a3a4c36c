"""An event: a value over a time span, as Tidal has it.

``whole`` is the event's full span (None for continuous values such as signals); ``part`` is
the fragment of it inside the query. An event *has its onset* in a query when its part
starts where its whole starts: that is the fragment a player sounds.
"""

from __future__ import annotations

from typing import Any

from .span import Span


class Event:
    """``context``: where in the mini-notation the event's values were written, as Tidal keeps it
    (a tuple of ((column, line), (column, line)) spans); it orders events for ``rot`` and is
    left out of equality."""

    __slots__ = ("whole", "part", "value", "context")

    def __init__(self, whole: Span | None, part: Span, value: Any, context: tuple = ()) -> None:
        self.whole = whole
        self.part = part
        self.value = value
        self.context = context

    def has_onset(self) -> bool:
        return self.whole is not None and self.whole.begin == self.part.begin

    def whole_or_part(self) -> Span:
        return self.whole if self.whole is not None else self.part

    def with_value(self, value: Any) -> Event:
        return Event(self.whole, self.part, value, self.context)

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Event)
            and self.whole == other.whole
            and self.part == other.part
            and self.value == other.value
        )

    __hash__ = None  # values may be dicts

    def __repr__(self) -> str:
        part = f"{self.part.begin}–{self.part.end}"
        if self.whole is None:
            span = f"~{part}"
        elif self.whole == self.part:
            span = part
        else:
            span = f"{self.whole.begin}–{self.whole.end} (part {part})"
        return f"Event({span}: {self.value!r})"
