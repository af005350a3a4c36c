"""The transport: play, pause, stop, bpm, swing, the live position and Ableton Link, two-way."""

from __future__ import annotations

import ipywidgets as W

from ..engine import Engine
from ..engine.bus import BusEvent
from ..engine.errors import Unavailable
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
        self.link = W.ToggleButton(description="Link", icon="link", layout=W.Layout(width="7em"),
                                   tooltip="Ableton Link: share tempo and bars with the session on the network")
        self.link_label = W.Label()
        self.link.observe(lambda ch: self._link(ch["new"]), "value")
        self.play.on_click(lambda _: self.engine.start())
        self.pause.on_click(lambda _: self.engine.pause())
        self.stop.on_click(lambda _: self.engine.stop())
        self.bpm.observe(lambda ch: self._environment("bpm", ch["new"]), "value")
        self.swing.observe(lambda ch: self._environment("swing", ch["new"]), "value")
        self.children = [
            W.HBox([self.play, self.pause, self.stop, self.state_label]),
            W.HBox([self.bpm, self.swing]),
            W.HBox([self.link, self.link_label]),
            self.position,
        ]
        self.refresh()
        self.refresh_link()

    def _environment(self, key: str, value: float) -> None:
        if not self._syncing:
            self.engine.update_environment({key: value}, NOW)

    def _link(self, on: bool) -> None:
        if self._syncing:
            return
        try:
            self.engine.link.enable() if on else self.engine.link.disable()
        except Unavailable:  # the label says why; the music plays on
            self.refresh_link()

    def refresh_link(self, link: dict | None = None) -> None:
        """Peers and tempo while in a Link session, else why not (if something went wrong)."""
        link = link or self.engine.link.status()
        with self.syncing():
            self.link.value = link["enabled"]
            if link["enabled"]:
                peers = link["peers"]
                self.link_label.value = f"{peers} peer{'s' if peers != 1 else ''} · {link['tempo']:g} bpm"
            else:
                self.link_label.value = link["message"] or ""

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
        elif event.type == "link":
            self.refresh_link(event.data)


def transport(engine: Engine | None = None) -> Transport:
    return Transport(engine)
