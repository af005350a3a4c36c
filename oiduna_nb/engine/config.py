"""The engine's settings in one record, with their defaults (no magic numbers elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineConfig:
    osc_host: str = "127.0.0.1"
    osc_port: int = 57120
    # How far ahead of its time a step's bundle is sent; the peer holds it until its timetag.
    # None: the output's own (SuperDirt 0.2 s, as Tidal: sclang needs CPU time to pass an
    # event on; our scsynth 0.1 s). Measured against the real programs: docs/benchmarks.md.
    lookahead: float | None = None
    # MIDI sounds this long after its step's time, to line up with the audio. rtmidi sends
    # at time + this; the timestamped JACK path writes at the frame of time + max(this, one period).
    midi_latency: float = 0.0
    # auto (JACK timestamped if a JACK server runs, else rtmidi) | jack | rtmidi | rtmidi-jack | alsa | coremidi | winmm
    midi_api: str = "auto"
    midi_port: str | None = None  # None: open a virtual port others connect to
    # A thread that wakes this late (a suspended machine) resumes from now instead of catching up.
    stall_resync: float = 1.0
    handshake_timeout: float = 0.5
    # While the engine runs, a thread that wants the GIL waits at most this long for a busy
    # cell to hand it over (Python's default is 5 ms). Only a waiting thread pays for it:
    # the metronome sleeps between steps, so a running cell loses almost nothing.
    gil_switch_interval: float | None = 0.001
    # Ableton Link (the ``link`` extra): join the session on the network at start; share
    # start/stop too. Link is read every ``link_poll`` seconds; a mapping that moved more than
    # ``link_tolerance`` seconds (clock drift, a join, a peer's tempo) re-anchors the next step.
    link: bool = False
    link_start_stop: bool = False
    link_poll: float = 0.005
    link_tolerance: float = 0.0001

    @property
    def midi_latency_ns(self) -> int:
        return round(self.midi_latency * 1e9)

    @property
    def stall_resync_ns(self) -> int:
        return round(self.stall_resync * 1e9)
