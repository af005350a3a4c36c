"""oiduna_nb: a Jupyter-native live-coding loop engine.

The engine (``oiduna_nb.engine``) plays a session of tracks as 16th-note steps, sending
timetagged OSC bundles to SuperDirt and MIDI notes.
"""

__version__ = "0.1.0"
