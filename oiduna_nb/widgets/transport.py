"""The transport: play, pause, stop, bpm, swing, the position (bar.beat.step from 1), Link
peers when Link is on, and the piano roll of what plays with its playhead. Two-way."""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from ..engine import Engine
from ..engine.bus import BusEvent
from ..engine.errors import Unavailable
from ..engine.ir import NowTiming
from ..engine.timeline import STEPS_PER_BAR, position_label
from .bound import BoundBox
from .lights import PianoRoll
from .roll import roll_data

NOW = NowTiming(type="now")
REDRAW_ON = {"tracks", "status", "change_applied", "scene_activated"}  # what plays may have changed
STATE_STYLE = {"playing": ("success", "", ""), "paused": ("", "warning", ""), "stopped": ("", "", "")}


def link_text(link: dict[str, Any] | None) -> str:
    """Link peers and tempo while in a Link session, why not when it failed, else nothing."""
    if not link:
        return ""
    if link.get("enabled"):
        peers = link.get("peers", 0)
        tempo = link.get("tempo")
        return f"Link: {peers} peer{'s' if peers != 1 else ''}" + (f" · {tempo:g} bpm" if tempo else "")
    return f"Link: {link['message']}" if link.get("message") else ""


class Transport(BoundBox):
    def __init__(self, engine: Engine | None = None) -> None:
        super().__init__(engine)
        self.add_class("oiduna-transport")
        wide = W.Layout(width="7.5em")
        self.play = W.Button(description="play", icon="play", layout=wide, tooltip="play (from where it is)")
        self.pause = W.Button(description="pause", icon="pause", layout=wide, tooltip="pause: the position holds")
        self.stop = W.Button(description="stop", icon="stop", layout=wide, tooltip="stop: back to 1.1.1")
        self.state_label = W.Label()
        self.link = W.ToggleButton(description="Link", icon="link", layout=W.Layout(width="6.5em", margin="0 0 0 1em"),
                                   tooltip="Ableton Link: share tempo and bars with the session on the network")
        self.link_label = W.Label(layout=W.Layout(margin="0 0 0 0.5em"))
        self.link.observe(lambda ch: self._link(ch["new"]), "value")
        self.bpm = W.FloatSlider(120, min=20, max=300, step=0.5, description="bpm", continuous_update=False,
                                 style={"description_width": "3em"}, layout=W.Layout(width="340px"))
        self.swing = W.FloatSlider(0.0, min=0.0, max=0.9, step=0.01, description="swing", continuous_update=False,
                                   style={"description_width": "3em"}, layout=W.Layout(width="300px"))
        self.roll = PianoRoll()
        self._cycle, self._bar_start = 0, 0
        self.play.on_click(lambda _: self.engine.start())
        self.pause.on_click(lambda _: self.engine.pause())
        self.stop.on_click(lambda _: self.engine.stop())
        self.bpm.observe(lambda ch: self._environment("bpm", ch["new"]), "value")
        self.swing.observe(lambda ch: self._environment("swing", ch["new"]), "value")
        self.children = [
            W.HBox([self.play, self.pause, self.stop, self.state_label, self.link, self.link_label],
                   layout=W.Layout(align_items="center")),
            W.HBox([self.bpm, self.swing]),
            self.roll,
        ]
        with self.engine.lock:  # where the music is, until the first position event says
            player = self.engine.player
            self._cycle, step = player.next_tick // STEPS_PER_BAR, player.position.step
        self.roll.position = {"step": step, "cycle": self._cycle, "label": position_label(step), "tracks": []}
        self._bar_start = step - step % STEPS_PER_BAR
        self.refresh()

    def __repr__(self) -> str:  # a notebook without the widget's state shows this
        return "<oiduna_nb transport: play/pause/stop, bpm, swing, bar.beat.step and the piano roll>"

    def _environment(self, key: str, value: float) -> None:
        if not self._syncing:
            self.engine.update_environment({key: value}, NOW)

    def _link(self, on: bool) -> None:
        if self._syncing:
            return
        try:
            self.engine.link.enable() if on else self.engine.link.disable()
        except Unavailable:  # the label says why; the music plays on
            self.show_link(self.engine.link.status())

    def show_link(self, link: dict[str, Any] | None) -> None:
        with self.syncing():
            self.link.value = bool(link and link.get("enabled"))
            self.link_label.value = link_text(link)

    def refresh(self) -> None:
        status = self.engine.status()
        env = self.engine.state.environment
        with self.syncing():
            self.bpm.value, self.swing.value = env.bpm, env.swing
            state = status["playback_state"]
            self.state_label.value = f"{state} · {status['output']}"
            self.play.button_style, self.pause.button_style, self.stop.button_style = STATE_STYLE[state]
        self.show_link(status.get("link"))
        self.redraw()

    def redraw(self) -> None:
        """The roll of the cycle playing (sent only when it differs from what is shown)."""
        self.roll.roll = roll_data(self.engine.state, self.engine.cycles, self._cycle, self._bar_start)

    def on_engine_event(self, event: BusEvent) -> None:
        if event.type == "position":
            d = event.data
            cycle, bar_start = d.get("cycle", self._cycle), d["step"] - d["step"] % STEPS_PER_BAR
            if (cycle, bar_start) != (self._cycle, self._bar_start):  # a new cycle: its events
                self._cycle, self._bar_start = cycle, bar_start
                self.redraw()
            self.roll.position = {"step": d["step"], "cycle": cycle, "label": position_label(d["step"]),
                                  "tracks": d.get("tracks", [])}
        elif event.type == "link":
            self.show_link(event.data)
        elif event.type in REDRAW_ON:
            self.refresh()


def transport(engine: Engine | None = None) -> Transport:
    return Transport(engine)
