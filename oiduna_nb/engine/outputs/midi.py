"""MIDI out through python-rtmidi, with the notes that sound kept track of.

Where no MIDI system exists (no ALSA sequencer, no JACK server), rtmidi raises at
construction: the output then reports itself unavailable with the reason, and every
send is a no-op, so the engine keeps playing OSC.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import Any

from ..errors import NotFound, Unavailable

NOTE_ON, NOTE_OFF, CONTROL_CHANGE = 0x90, 0x80, 0xB0
ALL_SOUND_OFF, ALL_NOTES_OFF = 120, 123
CHANNELS = range(16)
VIRTUAL_PORT_NAME = "oiduna_nb out"

API_NAMES = {"alsa": "LINUX_ALSA", "jack": "UNIX_JACK", "coremidi": "MACOSX_CORE", "winmm": "WINDOWS_MM"}


@dataclass(frozen=True)
class PortInfo:
    name: str
    is_input: bool
    is_output: bool

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "is_input": self.is_input, "is_output": self.is_output}


@contextlib.contextmanager
def quiet_fd(fd: int = 2):
    """Hush what C libraries print to a file descriptor (libasound and libjack report probe
    failures on fd 2, which we report ourselves; libscsynth greets on fd 1)."""
    stream = sys.stderr if fd == 2 else sys.stdout
    try:
        stream.flush()
        saved = os.dup(fd)
    except (OSError, ValueError):  # no real descriptor (some embedders): nothing to hush
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def _apis(api: str) -> list[int]:
    import rtmidi

    compiled = rtmidi.get_compiled_api()
    if api == "auto":
        return [a for a in compiled if a != rtmidi.API_RTMIDI_DUMMY]
    try:
        wanted = getattr(rtmidi, "API_" + API_NAMES[api])
    except KeyError:
        raise ValueError(f"unknown MIDI API {api!r}; choose auto, {', '.join(API_NAMES)}") from None
    return [wanted]


class MidiOutput:
    """One MIDI output port (or a virtual port others connect to).

    Not timestamped: the metronome sends each message when it is due (rtmidi has no
    timestamps), so its timing is the thread's wake-up plus the MIDI system's own delay.
    """

    timestamped = False

    def __init__(self, api: str = "auto", client_name: str = "oiduna_nb") -> None:
        # A JACK client would otherwise try to start a JACK server of its own.
        os.environ.setdefault("JACK_NO_START_SERVER", "1")
        self.client_name = client_name
        self.port_name: str | None = None
        self.unavailable_reason: str | None = None
        self._out: Any = None
        self._api: int | None = None
        self._virtual = False
        self._sounding: dict[tuple[int, int], int] = {}  # (channel, note) -> generation
        self._generation = 0
        errors = []
        try:
            import rtmidi
        except ImportError as exc:  # pragma: no cover - a declared dependency
            self.unavailable_reason = f"python-rtmidi is not installed ({exc})"
            return
        for candidate in _apis(api):
            try:
                with quiet_fd(2):
                    self._out = rtmidi.MidiOut(candidate, name=client_name)
                self._api = candidate
                break
            except Exception as exc:  # rtmidi.SystemError and friends: no such MIDI system
                errors.append(f"{rtmidi.get_api_display_name(candidate)}: {str(exc).splitlines()[0]}")
        if self._out is None:
            self.unavailable_reason = (
                "MIDI is unavailable: no MIDI system answered ("
                + "; ".join(errors or ["no MIDI API compiled in"])
                + "). Without an ALSA sequencer (/dev/snd/seq) or a running JACK server,"
                " MIDI tracks stay silent and OSC keeps playing."
            )

    @property
    def available(self) -> bool:
        return self._out is not None

    @property
    def api_name(self) -> str | None:
        if self._api is None:
            return None
        import rtmidi

        return rtmidi.get_api_name(self._api)

    @property
    def path(self) -> str:
        return f"rtmidi {self.api_name}, sent at due time" if self.available else "none"

    def stats(self) -> dict[str, Any]:
        return {}

    def _require(self) -> Any:
        if self._out is None:
            raise Unavailable(self.unavailable_reason or "MIDI is unavailable")
        return self._out

    # ---- ports --------------------------------------------------------------------

    def ports(self) -> list[PortInfo]:
        """Every input and output port the MIDI system shows."""
        out = self._require()
        import rtmidi

        ports = [PortInfo(name, False, True) for name in out.get_ports()]
        midi_in = rtmidi.MidiIn(self._api, name=self.client_name + " list")
        try:
            ports = [PortInfo(name, True, False) for name in midi_in.get_ports()] + ports
        finally:
            midi_in.delete()
        return ports

    def select(self, name: str) -> str:
        """Open the output port called ``name`` (exact, else the one whose name starts so)."""
        out = self._require()
        names = out.get_ports()
        index = _find_port(names, name)
        if index is None:
            raise NotFound(f"MIDI port not found: {name}")
        self.release_all()
        out = self._fresh_port()
        out.open_port(index)
        self.port_name = names[index]
        return self.port_name

    def _fresh_port(self) -> Any:
        """The output with no port open; rtmidi cannot reopen after a virtual port, so renew it."""
        import rtmidi

        if self._virtual:
            self._out.delete()
            self._out = rtmidi.MidiOut(self._api, name=self.client_name)
            self._virtual = False
        elif self._out.is_port_open():
            self._out.close_port()
        return self._out

    def open_virtual(self, name: str = VIRTUAL_PORT_NAME) -> str:
        """A port that synths and DAWs connect to, for when no output is chosen."""
        self._require()
        self.release_all()
        out = self._fresh_port()
        out.open_virtual_port(name)
        self._virtual = True
        self.port_name = name
        return name

    # ---- notes ----------------------------------------------------------------------

    def note_on(self, channel: int, note: int, velocity: int) -> int:
        """Play a note; a note that still sounds gets its note-off first. Returns its generation."""
        key = (channel, note)
        if key in self._sounding:
            self._send([NOTE_OFF | channel, note, 0])
        self._generation += 1
        self._sounding[key] = self._generation
        self._send([NOTE_ON | channel, note, velocity])
        return self._generation

    def note_off(self, channel: int, note: int, generation: int) -> None:
        """Release the note, unless it was retriggered since (a newer generation sounds)."""
        key = (channel, note)
        if self._sounding.get(key) == generation:
            del self._sounding[key]
            self._send([NOTE_OFF | channel, note, 0])

    def sounding(self) -> list[tuple[int, int]]:
        return sorted(self._sounding)

    def release_all(self) -> None:
        for channel, note in sorted(self._sounding):
            self._send([NOTE_OFF | channel, note, 0])
        self._sounding.clear()

    def panic(self) -> None:
        """Every sounding note off, then all-notes-off and all-sound-off on all 16 channels."""
        self.release_all()
        for channel in CHANNELS:
            self._send([CONTROL_CHANGE | channel, ALL_NOTES_OFF, 0])
            self._send([CONTROL_CHANGE | channel, ALL_SOUND_OFF, 0])

    def send_message(self, message: bytes | list[int]) -> None:
        """Any short MIDI message now (a clock pulse, start, stop, a CC)."""
        self._send(list(message))

    def _send(self, message: list[int]) -> None:
        if self._out is not None and (self._virtual or self._out.is_port_open()):
            self._out.send_message(message)

    def close(self) -> None:
        if self._out is not None:
            self.release_all()
            self._out.close_port()
            self._out.delete()
            self._out = None
            self.unavailable_reason = "MIDI output closed"


def _find_port(names: list[str], wanted: str) -> int | None:
    for matches in (
        lambda n: n == wanted,
        lambda n: n.startswith(wanted),
        lambda n: wanted.lower() in n.lower(),
    ):
        for i, name in enumerate(names):
            if matches(name):
                return i
    return None
