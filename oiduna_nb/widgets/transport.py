"""The transport: play, pause, stop, bpm, swing and the live position, two-way."""

from __future__ import annotations

import ipywidgets as W

from ..engine import Engine
from ..engine.bus import BusEvent
from ..engine.ir import NowTiming
from .bound import BoundBox
from .lights import StepDisplay

NOW = NowTiming(type="now")


class Transport(BoundBox):
    def __init__(self, engine: Engine | None = None) -> None:
        super().__init__(engine)
        self.add_class("oiduna-transport")
        self.play = W.Button(description="play", icon="play", layout=W.Layout(width="7em"))
        self.pause = W.Button(description="pause", icon="pause", layout=W.Layout(width="7em"))
        self.stop = W.Button(description="stop", icon="stop", layout=W.Layout(width="7em"))
        self.state_label = W.Label()
        self.bpm = W.FloatSlider(120, min=20, max=300, step=0.5, description="bpm", continuous_update=False)
        self.swing = W.FloatSlider(0.0, min=0.0, max=0.9, step=0.01, description="swing", continuous_update=False)
        self.position = StepDisplay()
        self.play.on_click(lambda _: self.engine.start())
        self.pause.on_click(lambda _: self.engine.pause())
        self.stop.on_click(lambda _: self.engine.stop())
        self.bpm.observe(lambda ch: self._environment("bpm", ch["new"]), "value")
        self.swing.observe(lambda ch: self._environment("swing", ch["new"]), "value")
        self.children = [
            W.HBox([self.play, self.pause, self.stop, self.state_label]),
            W.HBox([self.bpm, self.swing]),
            self.position,
        ]
        self.refresh()

    def _environment(self, key: str, value: float) -> None:
        if not self._syncing:
            self.engine.update_environment({key: value}, NOW)

    def refresh(self) -> None:
        status = self.engine.status()
        env = self.engine.state.environment
        with self.syncing():
            self.bpm.value, self.swing.value = env.bpm, env.swing
            self.state_label.value = f"{status['playback_state']} · {status['output']}"
            pos = status["position"]
            self.position.step, self.position.beat, self.position.bar = pos["step"], pos["beat"], pos["bar"]

    def on_engine_event(self, event: BusEvent) -> None:
        if event.type == "position":
            d = event.data
            self.position.step, self.position.beat, self.position.bar = d["step"], d["beat"], d["bar"]
        elif event.type in ("status", "change_applied"):
            self.refresh()


def transport(engine: Engine | None = None) -> Transport:
    return Transport(engine)
