"""The mixer: a strip per track with a level light, gain and pan sliders wide enough to play
(and keyboard-operable: Tab to a slider, arrows and Page Up/Down move it), and mute and solo
buttons that light up red and amber. Two-way with the engine."""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as W

from ..engine import Engine
from ..engine.bus import BusEvent
from ..engine.ir import NowTiming
from .bound import BoundBox, close_tree
from .lights import TriggerLight

NOW = NowTiming(type="now")
REFRESH_ON = {"tracks", "status", "change_applied", "scene_activated"}
GAIN_MAX = 2.0
SLIDER_STYLE = {"description_width": "2.6em"}


class TrackStrip(W.HBox):
    def __init__(self, mixer: "Mixer", track_id: str) -> None:
        self.mixer = mixer
        self.track_id = track_id
        self.name = W.HTML(layout=W.Layout(width="13em", overflow="hidden"))
        self.name.add_class("oiduna-name-box")
        self.gain = W.FloatSlider(1.0, min=0.0, max=GAIN_MAX, step=0.01, description="gain", readout_format=".2f",
                                  continuous_update=True, style=SLIDER_STYLE, layout=W.Layout(width="330px"))
        self.pan = W.FloatSlider(0.5, min=0.0, max=1.0, step=0.01, description="pan", readout_format=".2f",
                                 continuous_update=True, style=SLIDER_STYLE, layout=W.Layout(width="290px"))
        self.mute = W.ToggleButton(False, description="M", tooltip="mute", layout=W.Layout(width="3.4em"))
        self.solo = W.ToggleButton(False, description="S", tooltip="solo", layout=W.Layout(width="3.4em"))
        for button in (self.mute, self.solo):
            button.add_class("oiduna-flag")
        self.light = TriggerLight()
        super().__init__([self.light, self.name, self.gain, self.pan, self.mute, self.solo])
        self.add_class("oiduna-strip")
        self.gain.observe(lambda ch: self._param("gain", ch["new"]), "value")
        self.pan.observe(lambda ch: self._param("pan", ch["new"]), "value")
        self.mute.observe(lambda ch: self._flag(self.mixer.engine.set_mute, ch["new"]), "value")
        self.solo.observe(lambda ch: self._flag(self.mixer.engine.set_solo, ch["new"]), "value")

    def _param(self, key: str, value: float) -> None:
        if not self.mixer._syncing:
            self.mixer.engine.update_track_params(self.track_id, {key: value}, NOW)

    def _flag(self, setter: Any, value: bool) -> None:
        if not self.mixer._syncing:
            setter(self.track_id, value)

    def show(self, state) -> None:
        """Set the controls from the engine's state (the caller holds ``syncing``)."""
        if self.track_id in state.tracks:
            track = state.tracks[self.track_id]
            self.gain.disabled = self.pan.disabled = False  # the strip may have shown a MIDI track
            self.gain.value, self.pan.value = min(track.params.gain, GAIN_MAX), track.params.pan
            muted, solo, kind = track.meta.mute, track.meta.solo, "osc"
            level = min(track.params.gain, 1.0)
        else:  # a MIDI track: no gain or pan of its own (its velocity is the level)
            midi = state.tracks_midi[self.track_id]
            self.gain.disabled = self.pan.disabled = True
            muted, solo, kind = midi.mute, midi.solo, f"midi ch {midi.channel + 1}"
            level = midi.velocity / 127
        audible = self.track_id in state.audible
        self.mute.value, self.solo.value = muted, solo
        self.mute.button_style = "danger" if muted else ""
        self.solo.button_style = "warning" if solo else ""
        self.name.value = (f'<span class="oiduna-name">{escape(self.track_id)}</span> '
                           f'<span class="oiduna-kind">{kind}{"" if audible else " · silent"}</span>')
        self.light.level, self.light.audible = level, audible
        for cls, on in (("oiduna-muted", muted), ("oiduna-solo", solo), ("oiduna-silent", not audible)):
            if on and cls not in self._dom_classes:
                self.add_class(cls)
            elif not on and cls in self._dom_classes:
                self.remove_class(cls)


class Mixer(BoundBox):
    """``mixer()``: one strip per track; rebuilt when tracks come and go."""

    def __init__(self, engine: Engine | None = None) -> None:
        super().__init__(engine)
        self.add_class("oiduna-mixer")
        self.strips: dict[str, TrackStrip] = {}
        self.refresh()

    def __repr__(self) -> str:  # a notebook without the widget's state shows this
        return f"<oiduna_nb mixer: {len(self.strips)} tracks ({', '.join(self.strips) or 'none yet'})>"

    def refresh(self) -> None:
        state = self.engine.state
        ids = state.track_ids()
        if list(self.strips) != ids:
            for strip in self.strips.values():
                close_tree(strip)
            self.strips = {t: TrackStrip(self, t) for t in ids}
            self.children = list(self.strips.values()) or [W.Label("no tracks yet: run a track() cell")]
        with self.syncing():
            for strip in self.strips.values():
                strip.show(state)

    def on_engine_event(self, event: BusEvent) -> None:
        if event.type in REFRESH_ON:
            self.refresh()
        elif event.type == "position":
            for track_id in event.data.get("tracks", ()):  # the tracks that sound at this step
                strip = self.strips.get(track_id)
                if strip is not None:
                    strip.light.count += 1


def mixer(engine: Engine | None = None) -> Mixer:
    return Mixer(engine)
