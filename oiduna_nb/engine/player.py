"""The transport: turns the plan into steps, one at a time. Pure, no I/O.

The metronome asks the player for the next step when that step's send time comes (its
sound time minus the lookahead). Commands never touch the player's state in place: the
engine's writer computes a new ``Plan`` outside the lock and installs it here, and the
metronome only swaps in states that are already built. Both hold the engine's lock for
those few instructions, so the player needs no locking of its own.

In a Link session (``follow``) the player's ticks sit on the session's beats: tick ``t`` is
beat ``link_beat0 + t / 4``, chosen so that a bar's first step falls on a multiple of 4
beats. Whenever the session's mapping moves (a peer's tempo, a join, clock drift) the next
step is re-anchored to it; our own tempo changes are handed to ``tempo_out`` with the time
of the step they start on, so the session turns there too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Literal

from .changes import PendingChange, Plan
from .commands import LoadSession, UpdateEnvironment
from .cycles import CycleCache
from .sequencer import StepOutput, step_output
from .state import PlayState
from .timeline import (
    BEATS_PER_BAR,
    STEPS_PER_BEAT,
    BeatClock,
    Position,
    Timeline,
    bar_place,
    beat_at_or_after,
    nearest_beat,
    same_tempo,
    step_length_ns,
)

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


def loads_a_session(applied: list[PendingChange]) -> bool:
    """Whether a tempo that changed with these changes came with a loaded session (and none
    of them set the tempo explicitly): such a tempo yields to a Link session's."""
    commands = [change.command for change in applied]
    return any(isinstance(c, LoadSession) for c in commands) and not any(
        isinstance(c, UpdateEnvironment) for c in commands
    )


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
        # Link (see the module's docstring): the session's latest mapping, the beat of tick 0,
        # and who takes our tempo changes to the session: tempo_out(bpm, at_ns or None for now,
        # whether the tempo came with a loaded session and so yields to peers Link finds).
        self.link_clock: BeatClock | None = None
        self.link_beat0: Fraction | None = None
        self.tempo_out: Callable[[float, int | None, bool], None] | None = None

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
        self.last_grid_ns = None
        self.playback_state = "playing"
        if self.link_clock is not None:  # the first step waits for its place in the session's bar
            self.timeline, self.link_beat0 = None, None
            self._anchor_to_link(now_ns)
        else:
            self.timeline = Timeline.start(self.next_tick, now_ns + self.lookahead_ns, env.bpm, env.swing)
        return True

    def pause(self) -> bool:
        if not self.playing:
            return False
        self.playback_state = "paused"
        self.timeline = None
        self.link_beat0 = None
        return True

    def stop(self) -> tuple[list[PendingChange], list[tuple[PendingChange, str]]]:
        """Back to step 0. Changes still waiting apply now: the user asked for them."""
        self.playback_state = "stopped"
        self.timeline = None
        self.link_beat0 = None
        self.next_tick = self.next_step = 0
        self.last_grid_ns = None
        self.position = Position.of(0)
        old = self.state.environment.bpm
        self.plan, applied, failed = self.plan.everything_now()
        if self.state.environment.bpm != old:
            self._send_tempo(None, loads_a_session(applied))
        return applied, failed

    def next_send_ns(self) -> int | None:
        if not self.playing or self.timeline is None:
            return None
        if self.end_tick is not None and self.next_tick >= self.end_tick:
            return None
        return self.timeline.time_ns(self.next_tick, self.next_step) - self.lookahead_ns

    def resync(self, now_ns: int) -> None:
        """After a stall (a suspended machine), continue from now instead of catching up."""
        if self.timeline is not None and self.link_clock is not None:
            self._anchor_to_link(now_ns, earliest=now_ns + self.lookahead_ns)  # in the session's phase
        elif self.timeline is not None:
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
                bpm = new.bpm if new.bpm != old.bpm else None
                self.timeline = self.timeline.retimed(self.next_tick, bpm, new.swing)
                if bpm is not None:
                    self._send_tempo(self.timeline.grid_ns(self.next_tick), loads_a_session(applied))
        if self.next_step >= self.state.environment.loop_steps:
            self.next_step = self._restart_step()  # the loop got shorter
        tick, step, timeline = self.next_tick, self.next_step, self.timeline
        result = StepResult(tick, step, timeline.time_ns(tick, step), self.state, timeline, applied, failed,
                            getattr(self, "resume", None))
        self.resume = None
        self.last_grid_ns = timeline.grid_ns(tick)
        self.next_tick += 1
        self.next_step = (step + 1) % self.state.environment.loop_steps
        return result

    # ---- what the writer installs -----------------------------------------------------

    def install(self, plan: Plan, now_ns: int, from_link: bool = False, yields: bool = False) -> bool:
        """Play ``plan`` from the next step on. A tempo or swing that changed now re-times
        the very next step: it comes one new step after the last one computed (never in the
        past), instead of keeping the time the old tempo gave it. True when it re-timed.

        In a Link session the next step keeps its place on the session's beats: a tempo that
        came from the session (``from_link``) re-anchors to the session's mapping; our own
        counts from the next step, and goes out to the session when that step sounds (unless
        it ``yields``, a loaded session's, and Link has found peers by then)."""
        old, new = self.plan.current.environment, plan.current.environment
        self.plan = plan
        tempo_changed = old.bpm != new.bpm
        if tempo_changed and not from_link:
            self._send_tempo(None if self.timeline is None else self.timeline.grid_ns(self.next_tick), yields)
        if self.timeline is None or (old.bpm, old.swing) == (new.bpm, new.swing):
            return False
        if self.link_clock is not None:
            if same_tempo(self.link_clock.bpm, new.bpm):
                self._anchor_to_link(now_ns)
            else:
                self.timeline = self.timeline.retimed(self.next_tick, new.bpm if tempo_changed else None, new.swing)
            return True
        if self.last_grid_ns is None:  # nothing computed yet: the start time holds
            self.timeline = self.timeline.retimed(self.next_tick, new.bpm, new.swing)
            return True
        step_ns = step_length_ns(new.bpm)
        at = max(self.last_grid_ns + step_ns, now_ns + self.lookahead_ns)
        self.timeline = Timeline(self.next_tick, at, step_ns, Fraction(new.swing))
        return True

    # ---- a Link session -------------------------------------------------------------

    def follow(self, clock: BeatClock | None, now_ns: int) -> bool:
        """Follow a Link session's beat-to-time mapping (None: play on freely from here).
        True when the next step was re-timed. A mapping at another tempo than ours waits:
        its tempo is on its way to us (a ``LinkTempo``), or ours to the session."""
        self.link_clock = clock
        if clock is None:
            self.link_beat0 = None
            return False
        if self.timeline is None or not same_tempo(clock.bpm, self.state.environment.bpm):
            return False
        self._anchor_to_link(now_ns)
        return True

    def _anchor_to_link(self, now_ns: int, earliest: int | None = None) -> None:
        """Put the next step on its beat of the session: the same beat as before if we already
        follow it (moved by whole bars if the session jumped), else the one that gives its
        loop position the same place in the session's bar. A step that would now come
        before the last one sent, or in the past, is skipped: the music stays in phase."""
        clock, n = self.link_clock, self.next_tick
        assert clock is not None
        if self.link_beat0 is not None:
            place = self.link_beat0 + Fraction(n, STEPS_PER_BEAT)
        else:
            place = bar_place(self.next_step)
        if self.timeline is None:
            beat = beat_at_or_after(clock.beat_at(now_ns + self.lookahead_ns), place)
        else:
            beat = nearest_beat(clock.beat_at(self.timeline.grid_ns(n)), place)
        swing = self.state.environment.swing
        timeline = Timeline.on_beat(clock, n, beat, swing)
        if self.last_grid_ns is None and earliest is None:  # nothing sent yet: wait for the place
            while timeline.grid_ns(n) < now_ns + self.lookahead_ns:
                beat += BEATS_PER_BAR
                timeline = Timeline.on_beat(clock, n, beat, swing)
        else:
            if earliest is None:
                earliest = max(self.last_grid_ns + timeline.step_ns / 2, now_ns)
            late = earliest - timeline.grid_ns(n)
            if late > 0:
                skip = math.ceil(late / timeline.step_ns)
                self.next_tick += skip
                self.next_step = (self.next_step + skip) % self.state.environment.loop_steps
        self.timeline = timeline
        self.link_beat0 = beat - Fraction(n, STEPS_PER_BEAT)

    def _restart_step(self) -> int:
        """Where a loop that got shorter than the position goes on: its start, or in a Link
        session the step at the same place in the bar (bars stay with the session's)."""
        if self.link_beat0 is None:
            return 0
        beat = self.link_beat0 + Fraction(self.next_tick, STEPS_PER_BEAT)
        return int(beat % BEATS_PER_BAR * STEPS_PER_BEAT) % self.state.environment.loop_steps

    def _send_tempo(self, at_ns: int | Fraction | None, yields: bool) -> None:
        if self.tempo_out is not None:
            self.tempo_out(self.state.environment.bpm, None if at_ns is None else round(at_ns), yields)

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
