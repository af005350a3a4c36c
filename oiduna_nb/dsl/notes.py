"""Notes by name, number or scale degree, and chords. Pure.

Names are scientific pitch: ``c4`` is middle C (MIDI 60); ``eb3``, ``f#5``, ``bb``; without an
octave a name is in octave 4. Chords are ``root'quality`` as in Tidal (``c'maj7``,
``e3'min``) or ``Cmaj7``-style names given to ``chord()``.
"""

from __future__ import annotations

import re

from .errors import DslError

PITCH_CLASSES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
NOTE_NAME = re.compile(r"^([a-gA-G])(#|s|b|f)*(-?\d)?$")
DEFAULT_OCTAVE = 4

CHORDS: dict[str, tuple[int, ...]] = {
    "major": (0, 4, 7), "maj": (0, 4, 7), "M": (0, 4, 7), "": (0, 4, 7),
    "minor": (0, 3, 7), "min": (0, 3, 7), "m": (0, 3, 7),
    "dim": (0, 3, 6), "aug": (0, 4, 8), "sus2": (0, 2, 7), "sus4": (0, 5, 7),
    "maj7": (0, 4, 7, 11), "M7": (0, 4, 7, 11), "dom7": (0, 4, 7, 10), "7": (0, 4, 7, 10),
    "min7": (0, 3, 7, 10), "m7": (0, 3, 7, 10), "dim7": (0, 3, 6, 9), "m7b5": (0, 3, 6, 10),
    "six": (0, 4, 7, 9), "6": (0, 4, 7, 9), "m6": (0, 3, 7, 9), "add9": (0, 4, 7, 14),
    "maj9": (0, 4, 7, 11, 14), "min9": (0, 3, 7, 10, 14), "m9": (0, 3, 7, 10, 14), "9": (0, 4, 7, 10, 14),
    "five": (0, 7), "5": (0, 7),
}

SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11), "ionian": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10), "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10), "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11), "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10), "harmonicMinor": (0, 2, 3, 5, 7, 8, 11),
    "melodicMinor": (0, 2, 3, 5, 7, 9, 11), "majPent": (0, 2, 4, 7, 9), "minPent": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10), "chromatic": tuple(range(12)),
}


def note_number(token: str | int | float) -> float:
    """A note name or a number, as a MIDI note number."""
    if isinstance(token, (int, float)):
        value = float(token)
    else:
        try:
            value = float(token)
        except ValueError:
            value = _named(token)
    if not 0 <= value <= 127:
        raise DslError(f"note {token!r} is outside MIDI's 0-127")
    return value


def _named(token: str) -> float:
    match = NOTE_NAME.match(token)
    if not match:
        raise DslError(f"{token!r} is not a note: use a name such as c4, eb3, f#5 or a MIDI number")
    letter, octave = match.group(1).lower(), match.group(3)
    accidentals = token[1 : match.start(3)] if octave is not None else token[1:]
    shift = sum(1 if a in "#s" else -1 for a in accidentals)
    octave_n = int(octave) if octave is not None else DEFAULT_OCTAVE
    return float(12 * (octave_n + 1) + PITCH_CLASSES[letter] + shift)


def chord_notes(token: str) -> list[float]:
    """``c'maj7`` / ``e3'min`` (Tidal style) or ``Cmaj7`` / ``F#m7`` / ``Bb`` (chord symbols)."""
    if "'" in token:
        root, _, quality = token.partition("'")
    else:
        match = re.match(r"^([A-Ga-g](?:#|b)?)(.*)$", token)  # octave 4; c3'maj7 for others
        if not match:
            raise DslError(f"{token!r} is not a chord: try Cmaj7, F#m7 or c'maj7")
        root, quality = match.groups()
    if quality not in CHORDS:
        raise DslError(f"unknown chord quality {quality!r} in {token!r}; known: {', '.join(k for k in CHORDS if k)}")
    base = note_number(root)
    notes = [base + i for i in CHORDS[quality]]
    if notes[-1] > 127:
        raise DslError(f"chord {token!r} reaches above MIDI note 127")
    return notes


def is_chord(token: str) -> bool:
    return "'" in token


class Scale:
    """A scale from a root: ``Scale("c4:minor")`` maps degree 0 to c4, 2 to eb4, -1 to bb3."""

    def __init__(self, spec: str) -> None:
        root, _, name = spec.partition(":")
        name = name or "major"
        if name not in SCALES:
            raise DslError(f"unknown scale {name!r}; known: {', '.join(SCALES)}")
        self.spec = spec
        self.root = note_number(root)
        self.steps = SCALES[name]

    def degree(self, token: str | int | float) -> float:
        try:
            n = int(token)
        except (TypeError, ValueError):
            raise DslError(f"scale degree {token!r} is not a whole number") from None
        octave, index = divmod(n, len(self.steps))
        return note_number(self.root + 12 * octave + self.steps[index])

    def __repr__(self) -> str:
        return f"Scale({self.spec!r})"
