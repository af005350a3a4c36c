"""Pending changes: what waits for its boundary, in order, with an id to cancel it by.

A change is a pure function from one ``PlayState`` to the next, plus the tick it
applies at. Changes due at the same tick apply in the order they were queued.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

from .errors import NotFound
from .ir import AbsoluteTiming, BoundaryTiming
from .state import PlayState
from .timeline import is_boundary

Transform = Callable[[PlayState], PlayState]
MAX_PENDING = 4096  # a client that queues without end runs out of room, not the machine of memory


@dataclass(frozen=True)
class PendingChange:
    id: str
    type: str  # session | environment | track_update | scene
    transform: Transform
    apply_timing: str  # beat | bar | seq | absolute
    apply_at_step: int  # loop position it applies at
    target_tick: int
    order: int
    track_id: str | None = None
    scene_name: str | None = None

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "type": self.type,
            "track_id": self.track_id,
            "scene_name": self.scene_name,
            "apply_timing": self.apply_timing,
            "apply_at_step": self.apply_at_step,
        }


def steps_until(next_step: int, loop_steps: int, timing: BoundaryTiming | AbsoluteTiming) -> int:
    """How many steps after ``next_step`` (0 = that very step) the timing falls."""
    if isinstance(timing, AbsoluteTiming):
        if timing.step >= loop_steps:
            raise ValueError(f"step {timing.step} is outside the loop (loop_steps={loop_steps})")
        return (timing.step - next_step) % loop_steps
    for k in range(loop_steps + 1):
        step = (next_step + k) % loop_steps
        if is_boundary(step, timing.unit):
            return k
    raise AssertionError("step 0 is a boundary of every unit")


class ChangeQueue:
    def __init__(self) -> None:
        self._changes: list[PendingChange] = []
        self._ids = itertools.count(1)

    def add(
        self,
        type: str,
        transform: Transform,
        timing: BoundaryTiming | AbsoluteTiming,
        next_tick: int,
        next_step: int,
        loop_steps: int,
        track_id: str | None = None,
        scene_name: str | None = None,
    ) -> PendingChange:
        if len(self._changes) >= MAX_PENDING:
            raise ValueError(f"Too many pending changes ({MAX_PENDING}); cancel some or wait for them to apply")
        k = steps_until(next_step, loop_steps, timing)
        n = next(self._ids)
        change = PendingChange(
            id=f"change_{n}",
            type=type,
            transform=transform,
            apply_timing=timing.unit if isinstance(timing, BoundaryTiming) else "absolute",
            apply_at_step=(next_step + k) % loop_steps,
            target_tick=next_tick + k,
            order=n,
            track_id=track_id,
            scene_name=scene_name,
        )
        self._changes.append(change)
        self._changes.sort(key=lambda c: (c.target_tick, c.order))
        return change

    def due(self, tick: int) -> list[PendingChange]:
        """Remove and return the changes due at or before ``tick``, in application order."""
        n = 0
        while n < len(self._changes) and self._changes[n].target_tick <= tick:
            n += 1
        due, self._changes = self._changes[:n], self._changes[n:]
        return due

    def take_all(self) -> list[PendingChange]:
        changes, self._changes = self._changes, []
        return changes

    def cancel(self, change_id: str) -> PendingChange:
        for i, change in enumerate(self._changes):
            if change.id == change_id:
                return self._changes.pop(i)
        raise NotFound(f"Change not found: {change_id}")

    def cancel_all(self) -> int:
        return len(self.take_all())

    def pending(self) -> list[PendingChange]:
        return list(self._changes)

    def __len__(self) -> int:
        return len(self._changes)
