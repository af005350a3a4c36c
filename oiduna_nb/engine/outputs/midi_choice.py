"""Which MIDI path the engine uses (``OIDUNA_MIDI_API``), and how it reports it.

- ``auto``: the timestamped JACK path when a JACK server runs, else rtmidi on whatever
  MIDI system answers (ALSA, CoreMIDI, WinMM).
- ``jack``: only the timestamped JACK path.
- ``rtmidi``: rtmidi on any system; ``alsa``, ``coremidi``, ``winmm``, ``rtmidi-jack``:
  rtmidi on that one (messages sent when due, not timestamped).
"""

from __future__ import annotations

from typing import Any, Union

from .jack_midi import JackMidiOutput
from .midi import MidiOutput

AnyMidiOutput = Union[MidiOutput, JackMidiOutput]
CHOICES = ("auto", "jack", "rtmidi", "rtmidi-jack", "alsa", "coremidi", "winmm")


def open_midi_output(api: str = "auto", latency: float = 0.0, client_name: str = "oiduna_nb") -> AnyMidiOutput:
    """The MIDI output for ``api``; unavailable (with the reason) when nothing answers."""
    if api not in CHOICES:
        raise ValueError(f"unknown MIDI API {api!r}; choose one of {', '.join(CHOICES)}")
    if api in ("auto", "jack"):
        jack_out = JackMidiOutput(latency, client_name)
        if jack_out.available or api == "jack":
            return jack_out
        out = MidiOutput("auto", client_name)
        out.jack_unavailable = jack_out.unavailable_reason  # say why the exact path is not used
        return out
    return MidiOutput({"rtmidi": "auto", "rtmidi-jack": "jack"}.get(api, api), client_name)


def path_status(midi: AnyMidiOutput, due_latency_ns: int) -> dict[str, Any]:
    """What ``midi_status()`` says of the path: timestamped or not, and its latency.
    ``due_latency_ns`` is what the metronome adds for an output that is not timestamped."""
    latency_ns = midi.latency_ns if midi.timestamped else due_latency_ns
    status: dict[str, Any] = {
        "path": midi.path,
        "timestamped": midi.timestamped,
        "latency_ms": round(latency_ns / 1e6, 3),
        **midi.stats(),
    }
    if getattr(midi, "jack_unavailable", None):
        status["jack"] = midi.jack_unavailable
    return status
