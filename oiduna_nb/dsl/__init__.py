"""The live-coding DSL: ``from oiduna_nb.dsl import *`` in a notebook.

See docs/dsl.md for every word, with examples that the tests run.
"""

from .errors import DslError
from .live import (
    TrackRef,
    capture,
    defaults,
    drop,
    hush,
    midi,
    mixer_line,
    mute,
    pause,
    play,
    render,
    scene,
    solo,
    state,
    status,
    stop,
    swing,
    tempo,
    track,
    unmute,
    unsolo,
    use,
)
from .notes import Scale, chord_notes, note_number
from .patterns import euclid

__all__ = [
    "DslError",
    "Scale",
    "TrackRef",
    "capture",
    "chord_notes",
    "defaults",
    "drop",
    "euclid",
    "hush",
    "midi",
    "mixer_line",
    "mute",
    "note_number",
    "pause",
    "play",
    "render",
    "scene",
    "solo",
    "state",
    "status",
    "stop",
    "swing",
    "tempo",
    "track",
    "unmute",
    "unsolo",
    "use",
]
