"""The transport: turns the playing state into steps, one at a time. Pure, no I/O.

The metronome asks the player for the next step when that step's send time comes
(its sound time minus the lookahead); the control plane submits changes. Both hold
the engine's lock while they do, so the player needs no locking of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .changes import ChangeQueue, PendingChange, Transform
from .ir import AbsoluteTiming, BoundaryTiming, NowTiming
from .sequencer import StepOutput, step_output
from .state import PlayState
from .timeline import Position, Timeline

PlaybackState = Literal["stopped", "playing", "paused"]


@dataclass
class StepResult:
    output: StepOutput
    applied: list[PendingChange] = field(default_factory=list)
    failed: list[tuple[PendingChange, Exception]] = field(default_factory=list)


class Player:
    def __init__(self, lookahead_ns: int, state: PlayState | None = None) -> None:
        self.lookahead_ns = lookahead_ns
        self.state = state or PlayState()
        self.playback_state: PlaybackState = "stopped"
        self.timeline: Timeline | None = None
        self.next_tick = 0  # the next step to compute
        self.next_step = 0
        self.position = Position.of(0)  # the step sounding now
        self.changes = ChangeQueue()

    @property
    def playing(self) -> bool:
        return self.playback_state == "playing"

    # ---- transport ----------------------------------------------------------------

    def start(self, now_ns: int) -> bool:
        """Play from the kept position; the first step sounds one lookahead from now."""
        if self.playing:
            return False
        env = self.state.environment
        if self.next_step >= env.loop_steps:
            self.next_step = 0
        self.timeline = Timeline.start(self.next_tick, now_ns + self.lookahead_ns, env.bpm, env.swing)
        self.playback_state = "playing"
        return True

    def pause(self) -> bool:
        if not self.playing:
            return False
        self.playback_state = "paused"
        self.timeline = None
        return True

    def stop(self) -> list[PendingChange]:
        """Back to step 0. Changes still waiting apply now: the user asked for them."""
        self.playback_state = "stopped"
        self.timeline = None
        self.next_tick = self.next_step = 0
        self.position = Position.of(0)
        applied = self.changes.take_all()
        for change in applied:
            self._set_state(change.transform(self.state))
        return applied

    def next_send_ns(self) -> int | None:
        if not self.playing or self.timeline is None:
            return None
        return self.timeline.time_ns(self.next_tick, self.next_step) - self.lookahead_ns

    def resync(self, now_ns: int) -> None:
        """After a stall (a suspended machine), continue from now instead of catching up."""
        if self.timeline is not None:
            self.timeline = Timeline(
                self.next_tick, now_ns + self.lookahead_ns, self.timeline.step_ns, self.timeline.swing
            )

    def advance(self) -> StepResult:
        """Compute the next step: apply the changes due on it, then play it."""
        assert self.timeline is not None, "advance() while not playing"
        result_applied, failed = [], []
        for change in self.changes.due(self.next_tick):
            try:
                self._set_state(change.transform(self.state))
                result_applied.append(change)
            except Exception as exc:  # the state it expected is gone: report, keep playing
                failed.append((change, exc))
        if self.next_step >= self.state.environment.loop_steps:
            self.next_step = 0  # the loop got shorter
        out = step_output(self.state, self.timeline, self.next_tick, self.next_step)
        self.next_tick += 1
        self.next_step = (self.next_step + 1) % self.state.environment.loop_steps
        return StepResult(out, result_applied, failed)

    def status(self) -> dict:
        state = self.state
        return {
            "playing": self.playing,
            "playback_state": self.playback_state,
            "bpm": state.environment.bpm,
            "position": self.position.as_dict(),
            "active_tracks": state.active_tracks(),
            "has_pending": len(self.changes) > 0,
            "scenes": list(state.scenes),
            "current_scene": state.current_scene,
        }

    def status_event(self) -> dict:
        """The seed's ``status`` event, with what else a view needs to redraw."""
        status = self.status()
        del status["position"], status["active_tracks"]
        status["swing"] = self.state.environment.swing
        return status

    # ---- changes ------------------------------------------------------------------

    def submit(
        self,
        type: str,
        transform: Transform,
        timing: NowTiming | BoundaryTiming | AbsoluteTiming,
        track_id: str | None = None,
        scene_name: str | None = None,
    ) -> PendingChange | None:
        """Apply now (timing now, or not playing) or queue for the boundary.

        The transform runs once at submit time either way, so a change that cannot
        apply is refused now instead of failing silently on its boundary.
        """
        new_state = transform(self.state)
        if isinstance(timing, NowTiming) or not self.playing:
            self._set_state(new_state)
            return None
        return self.changes.add(
            type,
            transform,
            timing,
            self.next_tick,
            self.next_step,
            self.state.environment.loop_steps,
            track_id=track_id,
            scene_name=scene_name,
        )

    def projected_state(self) -> PlayState:
        """What will play once every pending change has applied."""
        state = self.state
        for change in self.changes.pending():
            try:
                state = change.transform(state)
            except Exception:  # it will fail on its boundary too, and be reported there
                continue
        return state

    def apply_now(self, transform: Transform) -> None:
        self._set_state(transform(self.state))

    def _set_state(self, new: PlayState) -> None:
        old_env, new_env = self.state.environment, new.environment
        self.state = new
        if self.timeline is not None and (old_env.bpm != new_env.bpm or old_env.swing != new_env.swing):
            # Re-anchor on the next step: it keeps the time the old tempo gave it.
            self.timeline = self.timeline.retimed(self.next_tick, new_env.bpm, new_env.swing)
