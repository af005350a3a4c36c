"""The transport: turns the plan into steps, one at a time. Pure, no I/O.

The metronome asks the player for the next step when that step's send time comes (its
sound time minus the lookahead). Commands never touch the player's state in place: the
engine's writer computes a new ``Plan`` outside the lock and installs it here, and the
metronome only swaps in states that are already built. Both hold the engine's lock for
those few instructions, so the player needs no locking of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from .changes import PendingChange, Plan
from .cycles import CycleCache
from .sequencer import StepOutput, step_output
from .state import PlayState
from .timeline import Position, Timeline, step_length_ns

PlaybackState = Literal["stopped", "playing", "paused"]


@dataclass
class StepResult:
    """A step to play: what plays (an immutable state) and when (an immutable timeline), so
    its sounds are worked out and sent without holding the engine's lock."""

    tick: int
    step: int
    time_ns: int
    state: PlayState
    timeline: Timeline
    applied: list[PendingChange] = field(default_factory=list)
    failed: list[tuple[PendingChange, str]] = field(default_factory=list)
    resume: str | None = None  # "start" / "continue": the first step after the transport started

    def output(self, cycles: CycleCache | None = None, templates: Any = None) -> StepOutput:
        return step_output(self.state, self.timeline, self.tick, self.step, cycles, templates)


class Player:
    def __init__(self, lookahead_ns: int, state: PlayState | None = None, cycles: CycleCache | None = None) -> None:
        self.lookahead_ns = lookahead_ns
        self.cycles = cycles if cycles is not None else CycleCache()  # patterns' cycles, rendered ahead
        self.plan = Plan((state or PlayState()).warm())
        self.playback_state: PlaybackState = "stopped"
        self.timeline: Timeline | None = None
        self.next_tick = 0  # the next step to compute
        self.next_step = 0
        self.last_grid_ns: int | Fraction | None = None  # unswung time of the last step computed
        self.end_tick: int | None = None  # play no step from this one on (a run of N bars)
        self.position = Position.of(0)  # the step sounding now

    @property
    def state(self) -> PlayState:
        return self.plan.current

    @property
    def playing(self) -> bool:
        return self.playback_state == "playing"

    # ---- transport ----------------------------------------------------------------

    def start(self, now_ns: int, steps: int | None = None) -> bool:
        """Play from the kept position; the first step sounds one lookahead from now. With
        ``steps``, exactly that many steps are played, then nothing more."""
        if self.playing:
            return False
        self.end_tick = None if steps is None else self.next_tick + steps
        self.resume: str | None = "start" if self.next_tick == 0 else "continue"
        env = self.state.environment
        if self.next_step >= env.loop_steps:
            self.next_step = 0
        self.timeline = Timeline.start(self.next_tick, now_ns + self.lookahead_ns, env.bpm, env.swing)
        self.last_grid_ns = None
        self.playback_state = "playing"
        return True

    def pause(self) -> bool:
        if not self.playing:
            return False
        self.playback_state = "paused"
        self.timeline = None
        return True

    def stop(self) -> tuple[list[PendingChange], list[tuple[PendingChange, str]]]:
        """Back to step 0. Changes still waiting apply now: the user asked for them."""
        self.playback_state = "stopped"
        self.timeline = None
        self.next_tick = self.next_step = 0
        self.last_grid_ns = None
        self.position = Position.of(0)
        self.plan, applied, failed = self.plan.everything_now()
        return applied, failed

    def next_send_ns(self) -> int | None:
        if not self.playing or self.timeline is None:
            return None
        if self.end_tick is not None and self.next_tick >= self.end_tick:
            return None
        return self.timeline.time_ns(self.next_tick, self.next_step) - self.lookahead_ns

    def resync(self, now_ns: int) -> None:
        """After a stall (a suspended machine), continue from now instead of catching up."""
        if self.timeline is not None:
            self.timeline = Timeline(
                self.next_tick, now_ns + self.lookahead_ns, self.timeline.step_ns, self.timeline.swing
            )

    def advance(self) -> StepResult:
        """Take the next step: swap in the state its boundary built, and say what plays when."""
        assert self.timeline is not None, "advance() while not playing"
        plan, applied, failed = self.plan.due(self.next_tick)
        if plan is not self.plan:
            old = self.plan.current.environment
            self.plan = plan
            new = plan.current.environment
            if (old.bpm, old.swing) != (new.bpm, new.swing):
                # A boundary keeps the time the old tempo gave it; the new one counts from there.
                self.timeline = self.timeline.retimed(self.next_tick, new.bpm, new.swing)
        if self.next_step >= self.state.environment.loop_steps:
            self.next_step = 0  # the loop got shorter
        tick, step, timeline = self.next_tick, self.next_step, self.timeline
        result = StepResult(tick, step, timeline.time_ns(tick, step), self.state, timeline, applied, failed,
                            getattr(self, "resume", None))
        self.resume = None
        self.last_grid_ns = timeline.grid_ns(tick)
        self.next_tick += 1
        self.next_step = (step + 1) % self.state.environment.loop_steps
        return result

    # ---- what the writer installs -----------------------------------------------------

    def install(self, plan: Plan, now_ns: int) -> bool:
        """Play ``plan`` from the next step on. A tempo or swing that changed now re-times
        the very next step: it comes one new step after the last one computed (never in the
        past), instead of keeping the time the old tempo gave it. True when it re-timed."""
        old, new = self.plan.current.environment, plan.current.environment
        self.plan = plan
        if self.timeline is None or (old.bpm, old.swing) == (new.bpm, new.swing):
            return False
        if self.last_grid_ns is None:  # nothing computed yet: the start time holds
            self.timeline = self.timeline.retimed(self.next_tick, new.bpm, new.swing)
            return True
        step_ns = step_length_ns(new.bpm)
        at = max(self.last_grid_ns + step_ns, now_ns + self.lookahead_ns)
        self.timeline = Timeline(self.next_tick, at, step_ns, Fraction(new.swing))
        return True

    # ---- status -------------------------------------------------------------------

    def status(self) -> dict:
        state = self.state
        return {
            "playing": self.playing,
            "playback_state": self.playback_state,
            "bpm": state.environment.bpm,
            "position": self.position.as_dict(),
            "active_tracks": state.active_tracks(),
            "has_pending": len(self.plan) > 0,
            "scenes": list(state.scenes),
            "current_scene": state.current_scene,
        }

    def status_event(self) -> dict:
        """The seed's ``status`` event, with what else a view needs to redraw."""
        status = self.status()
        del status["position"], status["active_tracks"]
        status["swing"] = self.state.environment.swing
        return status
