"""The anywidget views that animate in the browser: a track's level light and the piano roll.
Python only bumps a counter or sends small data; the browser draws (static/*.js, *.css)."""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

from ..engine.timeline import position_label

STATIC = Path(__file__).parent / "static"


def _module(name: str) -> str:
    """A view's ES module, after the helper both views share (keepkeys.js)."""
    return (STATIC / "keepkeys.js").read_text() + "\n" + (STATIC / name).read_text()


class TriggerLight(anywidget.AnyWidget):
    """A bar as high as ``level`` (0..1) that flashes each time ``count`` goes up; grey when
    the track is not ``audible``. Its stylesheet also styles the mixer's strips."""

    _esm = _module("light.js")
    _css = STATIC / "mixer.css"
    count = traitlets.Int(0).tag(sync=True)
    level = traitlets.Float(1.0).tag(sync=True)
    audible = traitlets.Bool(True).tag(sync=True)


class PianoRoll(anywidget.AnyWidget):
    """Every track's events in the cycle playing (``roll``, see widgets/roll.py) and where the
    music is (``position``: its loop step, cycle, ``bar.beat.step`` label and the tracks that
    sound there)."""

    _esm = _module("pianoroll.js")
    _css = STATIC / "roll.css"
    roll = traitlets.Dict().tag(sync=True)
    position = traitlets.Dict({"step": 0, "cycle": 0, "label": position_label(0), "tracks": []}).tag(sync=True)
