"""Where the sound goes, chosen at start, and the one line that says so."""

from __future__ import annotations

from .engine import Engine
from .settings import Settings


def select_output(engine: Engine, settings: Settings) -> str:
    """SuperDirt when it answers, else the built-in instruments where they can sound."""
    from .sound.embedded import choose_output

    return choose_output(engine, settings.output, settings.assets_dir, settings.scsynth_host, settings.scsynth_port)


def apply_midi_clock(engine: Engine, settings: Settings) -> str | None:
    """The MIDI clock settings, applied; a message when one cannot be (the engine plays on)."""
    from .engine.errors import EngineError

    engine.set_midi_clock_out(settings.midi_clock_out)
    if settings.midi_clock_in:
        port = None if settings.midi_clock_in == "virtual" else settings.midi_clock_in
        try:
            engine.follow_midi_clock(port)
        except (EngineError, OSError, RuntimeError) as exc:
            return f"cannot follow the MIDI clock on {settings.midi_clock_in!r}: {exc}"
    return None


def status_line(engine: Engine) -> str:
    cfg = engine.config
    if engine.output_name == "superdirt":
        dirt = "answering" if engine.superdirt_answering else "not answering (sending anyway)"
        sound = f"SuperDirt at {cfg.osc_host}:{cfg.osc_port} {dirt}"
    else:
        sound = f"playing on {engine.output_name}"
    midi = engine.midi_status()
    midi_text = f"MIDI on {midi['port']} ({midi['path']})" if midi["available"] else "MIDI unavailable"
    return f"oiduna_nb: {sound}; {midi_text}"


def link_line(engine: Engine) -> str:
    """Ableton Link in one line: the session we follow, or why there is none."""
    link = engine.link.status()
    if not link["enabled"]:
        return f"oiduna_nb: Ableton Link is off{': ' + link['message'] if link['message'] else ''}"
    peers = link["peers"]
    sync = "; start/stop shared" if link["start_stop_sync"] else ""
    return (f"oiduna_nb: Ableton Link on: {peers} peer{'s' if peers != 1 else ''} at {link['tempo']:g} bpm, "
            f"bars of {link['quantum']} beats{sync}")
