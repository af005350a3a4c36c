"""One mapping from an engine event (SuperDirt's ``/dirt/play`` arguments) to a sound of our
own: which SynthDef and which controls. The realtime scsynth output and the offline render
both use it, so what plays live and what is rendered are the same."""

from __future__ import annotations

from typing import Any

from .samples import SampleBank

DRUM_SOUNDS = {
    "bd": "oid_bd", "kick": "oid_bd", "808bd": "oid_bd",
    "sn": "oid_sn", "sd": "oid_sn", "snare": "oid_sn",
    "hh": "oid_hh", "hc": "oid_hh", "hat": "oid_hh", "ch": "oid_hh",
    "oh": "oid_oh", "ho": "oid_oh",
    "cp": "oid_cp", "clap": "oid_cp",
    "rim": "oid_rim", "rs": "oid_rim",
    "lt": "oid_tom", "mt": "oid_tom", "ht": "oid_tom", "tom": "oid_tom",
}
TOM_FREQ = {"lt": 90.0, "tom": 120.0, "mt": 140.0, "ht": 210.0}
PITCHED_SOUNDS = {
    "bass": "oid_bass", "superbass": "oid_bass", "supersaw": "oid_pad",
    "pad": "oid_pad", "superpad": "oid_pad",
    "keys": "oid_keys", "superpiano": "oid_keys", "piano": "oid_keys", "superfm": "oid_keys",
}
DEFAULT_PITCHED = "oid_keys"
HEADROOM = 0.5  # gain 1 is half scale, so a dozen tracks at once do not clip
DIRT_AMP = 0.4  # SuperDirt's default amp: an event's amp is read relative to it


def amplitude(args: dict[str, Any]) -> float:
    """SuperDirt's level: amp (linear: velocity, line gain) × gain⁴ (the track's level, capped at
    2 as SuperDirt caps it), so a session has the same dynamics here as on SuperDirt."""
    gain = min(float(args.get("gain", 1.0)), 2.0)
    return HEADROOM * float(args.get("amp", DIRT_AMP)) / DIRT_AMP * gain**4


def midi_to_freq(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def sound_for(args: dict[str, Any], samples: SampleBank | None = None) -> tuple[str, dict[str, float]]:
    """(SynthDef name, controls) for one event."""
    name = str(args["s"])
    controls = {
        "amp": amplitude(args),
        "pan": float(args.get("pan", 0.5)) * 2 - 1,
        "sustain": float(args.get("sustain", args.get("delta", 0.25) * args.get("legato", 1.0))),
        "speed": float(args.get("speed", 1.0)),
        "cutoff": float(args.get("cutoff", 8000.0)),
    }
    sample = samples.find(name, args.get("n", 0)) if samples is not None else None
    if sample is not None:
        controls["buf"] = float(sample.buffer)
        return ("oid_sample2" if sample.channels >= 2 else "oid_sample1"), controls
    if name in DRUM_SOUNDS:
        if name in TOM_FREQ:
            controls["freq"] = TOM_FREQ[name] * 2 ** (float(args.get("n", 0)) / 12)
        elif args.get("n"):
            controls["speed"] *= 2 ** (float(args["n"]) / 12)  # sample variants: a little higher each
        return DRUM_SOUNDS[name], controls
    # SuperDirt's pitch: note 0 is middle C; n adds to the note for synths; octave 5 is the default
    midi = 60 + float(args.get("note", 0)) + float(args.get("n", 0)) + 12 * (float(args.get("octave", 5)) - 5)
    controls["freq"] = midi_to_freq(midi)
    return PITCHED_SOUNDS.get(name, DEFAULT_PITCHED), controls


def note_for(note: int, velocity: int, seconds: float) -> tuple[str, dict[str, float]]:
    """A MIDI note played on the keys instrument (for renders of MIDI tracks)."""
    return "oid_keys", {
        "amp": HEADROOM * velocity / 127,
        "pan": 0.0,
        "sustain": seconds,
        "freq": midi_to_freq(note),
        "speed": 1.0,
        "cutoff": 8000.0,
    }
