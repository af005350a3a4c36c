"""Where the sound goes, chosen at start, and the one line that says so."""

from __future__ import annotations

from .engine import Engine
from .settings import Settings


def select_output(engine: Engine, settings: Settings) -> str:
    """SuperDirt when it answers, else the built-in instruments where they can sound."""
    from .sound.embedded import choose_output

    return choose_output(engine, settings.output, settings.assets_dir, settings.scsynth_host, settings.scsynth_port)


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
