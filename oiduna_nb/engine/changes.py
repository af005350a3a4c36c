"""Pending changes and the plan of what will play. Pure.

A ``Plan`` is the state playing now plus, for each boundary that has changes waiting, the
state those changes produce, computed ahead by whoever submits a command. When the
metronome reaches a boundary it only swaps in a state that is already built: however many
changes wait there, crossing it costs the same. A change is a command applied to the state
as it is when the change lands, so a plan is always recomputed from the state before it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from .commands import Command
from .errors import EngineError, NotFound
from .ir import AbsoluteTiming, BoundaryTiming
from .state import PlayState
from .timeline import is_boundary

MAX_PENDING = 4096  # a client that queues without end runs out of room, not the machine of memory
_ids = itertools.count(1)


@dataclass(frozen=True)
class PendingChange:
    id: str
    command: Command
    apply_timing: str  # beat | bar | seq | absolute
    apply_at_step: int  # loop position it applies at
    target_tick: int

    @property
    def type(self) -> str:
        return self.command.type

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "type": self.command.type,
            "track_id": self.command.track_id,
            "scene_name": self.command.scene_name,
            "apply_timing": self.apply_timing,
            "apply_at_step": self.apply_at_step,
        }


def new_change(command: Command, timing: BoundaryTiming | AbsoluteTiming, next_tick: int, next_step: int,
               loop_steps: int) -> PendingChange:
    k = steps_until(next_step, loop_steps, timing)
    return PendingChange(
        id=f"change_{next(_ids)}",
        command=command,
        apply_timing=timing.unit if isinstance(timing, BoundaryTiming) else "absolute",
        apply_at_step=(next_step + k) % loop_steps,
        target_tick=next_tick + k,
    )


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


@dataclass(frozen=True)
class Boundary:
    """The changes due at one tick, and the state once they have applied."""

    tick: int
    changes: tuple[PendingChange, ...]
    state: PlayState
    failed: tuple[tuple[PendingChange, str], ...] = ()


@dataclass(frozen=True)
class Plan:
    current: PlayState = field(default_factory=PlayState)
    boundaries: tuple[Boundary, ...] = ()

    # ---- reading ----------------------------------------------------------------------

    def final(self) -> PlayState:
        """What will play once every pending change has applied."""
        return self.boundaries[-1].state if self.boundaries else self.current

    def pending(self) -> list[PendingChange]:
        return [c for b in self.boundaries for c in b.changes]

    def __len__(self) -> int:
        return sum(len(b.changes) for b in self.boundaries)

    def state_of(self, change_id: str) -> PlayState:
        """The state right after the boundary where ``change_id`` applies."""
        for b in self.boundaries:
            if any(c.id == change_id for c in b.changes):
                return b.state
        return self.current

    # ---- new plans --------------------------------------------------------------------

    def with_current(self, current: PlayState) -> "Plan":
        """The plan once ``current`` plays now: every boundary recomputed on top of it."""
        return Plan(current.warm(), ()).then(self.boundaries)

    def with_change(self, change: PendingChange) -> "Plan":
        """The plan with ``change`` waiting; raises if the change cannot apply where it lands."""
        if len(self) >= MAX_PENDING:
            raise EngineError(f"Too many pending changes ({MAX_PENDING}); cancel some or wait for them to apply")
        before = [b for b in self.boundaries if b.tick < change.target_tick]
        at = next((b for b in self.boundaries if b.tick == change.target_tick), None)
        after = [b for b in self.boundaries if b.tick > change.target_tick]
        base = before[-1].state if before else self.current
        if at is None:
            at = Boundary(change.target_tick, (change,), change.command.apply(base).warm())
        else:  # the newest change applies last on its boundary
            at = replace(at, changes=at.changes + (change,), state=change.command.apply(at.state).warm())
        return Plan(self.current, (*before, at)).then(after)

    def without(self, change_id: str) -> tuple["Plan", PendingChange]:
        for i, b in enumerate(self.boundaries):
            for change in b.changes:
                if change.id == change_id:
                    rest = tuple(c for c in b.changes if c.id != change_id)
                    later = ([replace(b, changes=rest)] if rest else []) + list(self.boundaries[i + 1 :])
                    return Plan(self.current, self.boundaries[:i]).then(later), change
        raise NotFound(f"Change not found: {change_id}")

    def then(self, boundaries: "list[Boundary] | tuple[Boundary, ...]") -> "Plan":
        """This plan followed by ``boundaries``, each recomputed from the state before it.

        A change that no longer applies (its track was dropped meanwhile, say) is kept as
        failed: it is reported when its boundary comes.
        """
        out = list(self.boundaries)
        state = self.final()
        for b in boundaries:
            failed = []
            for change in b.changes:
                try:
                    state = change.command.apply(state)
                except Exception as exc:  # reported on its boundary, never fatal
                    failed.append((change, str(exc)))
            out.append(Boundary(b.tick, b.changes, state.warm(), tuple(failed)))
        return Plan(self.current, tuple(out))

    def due(self, tick: int) -> tuple["Plan", list[PendingChange], list[tuple[PendingChange, str]]]:
        """The plan once every boundary at or before ``tick`` has applied (an O(1) swap per
        boundary), with the changes that applied and those that failed."""
        n = 0
        while n < len(self.boundaries) and self.boundaries[n].tick <= tick:
            n += 1
        if n == 0:
            return self, [], []
        crossed = self.boundaries[:n]
        failed = [f for b in crossed for f in b.failed]
        failed_ids = {c.id for c, _ in failed}
        applied = [c for b in crossed for c in b.changes if c.id not in failed_ids]
        return Plan(crossed[-1].state, self.boundaries[n:]), applied, failed

    def everything_now(self) -> tuple["Plan", list[PendingChange], list[tuple[PendingChange, str]]]:
        if not self.boundaries:
            return self, [], []
        return self.due(self.boundaries[-1].tick)
