"""The music drives the visuals: beat state on every step, a prompt transition that lands
on the bar when a scene is activated, a prompt map per scene, and user hooks."""

from __future__ import annotations

from typing import Any, Callable

from ..engine import Engine
from ..engine.bus import BusEvent
from ..engine.timeline import STEPS_PER_BAR, STEPS_PER_BEAT
from .params import prompts as prompt_list

Hook = Callable[[BusEvent], "dict[str, Any] | None"]


class MusicLink:
    def __init__(self, engine: Engine, visuals: Any, scene_prompts: dict[str, Any] | None = None) -> None:
        self.engine = engine
        self.visuals = visuals
        self.scene_prompts: dict[str, list[dict[str, Any]]] = {}
        for scene, items in (scene_prompts or {}).items():
            self.prompts_for(scene, *items)
        self.hooks: dict[str, list[Hook]] = {}
        self._unsubscribe: Callable[[], None] | None = None

    def prompts_for(self, scene: str, *items: Any) -> None:
        """The prompts a scene brings: ``link.prompts_for("verse", "neon rain", ("fog", 0.4))``."""
        self.scene_prompts[scene] = prompt_list(*items)

    def on(self, event_type: str, hook: Hook) -> None:
        """Call ``hook(event)`` for each engine event of that type; a dict it returns is sent
        to the visuals (``link.on("position", lambda e: {"noise_scale": ...})``)."""
        self.hooks.setdefault(event_type, []).append(hook)

    def start(self, loop: Any = None) -> "MusicLink":
        self._unsubscribe = self.engine.bus.subscribe_callback(self._event, loop)
        return self

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _event(self, event: BusEvent) -> None:
        if event.type == "position":
            step = event.data["step"]
            status = self.engine.status()
            self.visuals.update(
                bpm=status["bpm"],
                beat_phase=(step % STEPS_PER_BEAT) / STEPS_PER_BEAT,
                bar_position=(step % STEPS_PER_BAR) / STEPS_PER_BAR,
                beat_count=step // STEPS_PER_BEAT,
                is_playing=status["playing"],
            )
        elif event.type == "status":
            self.visuals.update(bpm=event.data["bpm"], is_playing=event.data["playing"])
        elif event.type == "change_queued" and event.data.get("type") == "scene":
            self._transition(event.data["scene_name"], self._seconds_until(event.data["apply_at_step"]))
        elif event.type == "scene_activated":  # applied at once: a short transition
            self._transition(event.data["scene_name"], 0.0)
        for hook in self.hooks.get(event.type, ()):
            changes = hook(event)
            if changes:
                self.visuals.update(**changes)

    def _seconds_until(self, step: int) -> float:
        status = self.engine.status()
        now = status["position"]["step"]
        loop = self.engine.state.environment.loop_steps
        steps = (step - now) % loop or loop
        return steps * 60.0 / status["bpm"] / STEPS_PER_BEAT

    def _transition(self, scene: str, seconds: float) -> None:
        target = self.scene_prompts.get(scene)
        if not target:
            return
        chunk = self.chunk_interval()
        steps = max(1, round(seconds / chunk)) if seconds > 0 else 1
        self.visuals.update(transition={"target_prompts": target, "num_steps": steps, "temporal_interpolation_method": "slerp"})

    def chunk_interval(self) -> float:
        session = getattr(self.visuals, "session", None)
        return session.chunks.interval if session is not None else 0.25
