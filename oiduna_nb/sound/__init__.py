"""Sound out of the box: our own instruments (SynthDefs built with nanosynth, the ``sound``
extra), played live on scsynth or rendered to WAV offline."""

from .mapping import sound_for
from .render import Rendered, render

__all__ = ["Rendered", "render", "sound_for"]
