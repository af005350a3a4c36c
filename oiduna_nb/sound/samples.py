"""The uploaded samples as scsynth buffers: one number per file, by category and index."""

from __future__ import annotations

import struct
import wave
from dataclasses import dataclass
from pathlib import Path

FIRST_BUFFER = 100
SAMPLE_SUFFIXES = (".wav", ".aif", ".aiff", ".flac")


@dataclass(frozen=True)
class Sample:
    buffer: int
    path: Path
    channels: int


def channels_of(path: Path) -> int:
    """Channel count from the file's header (WAV, AIFF, FLAC)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".wav":
            with wave.open(str(path)) as w:
                return w.getnchannels()
        if suffix in (".aif", ".aiff"):
            data = path.read_bytes()
            at = 12  # after FORM, size, AIFF/AIFC: chunks of id, size, body
            while at + 8 <= len(data):
                chunk, size = data[at : at + 4], struct.unpack(">I", data[at + 4 : at + 8])[0]
                if chunk == b"COMM":
                    return struct.unpack(">h", data[at + 8 : at + 10])[0]
                at += 8 + size + (size & 1)
        if suffix == ".flac":
            head = path.read_bytes()[:64]
            # STREAMINFO: 3 bits of (channels - 1) start at bit 100 of the block body
            (packed,) = struct.unpack(">Q", head[8 + 10 : 8 + 18])
            return ((packed >> 41) & 0x7) + 1
    except Exception:  # an unreadable header: treat it as mono, scsynth decides the rest
        pass
    return 1


class SampleBank:
    """Categories of ``<assets>/<category>/*`` in name order, numbered from buffer 100."""

    def __init__(self, assets_dir: Path | None) -> None:
        self.categories: dict[str, list[Sample]] = {}
        if assets_dir is None or not Path(assets_dir).is_dir():
            return
        number = FIRST_BUFFER
        for category in sorted(p for p in Path(assets_dir).iterdir() if p.is_dir() and not p.is_symlink()):
            files = sorted(f for f in category.iterdir() if f.suffix.lower() in SAMPLE_SUFFIXES and f.is_file())
            if files:
                self.categories[category.name] = []
                for f in files:
                    self.categories[category.name].append(Sample(number, f.resolve(), channels_of(f)))
                    number += 1

    def find(self, name: str, n: float = 0) -> Sample | None:
        files = self.categories.get(name)
        if not files:
            return None
        return files[int(n) % len(files)]

    def all(self) -> list[Sample]:
        return [s for files in self.categories.values() for s in files]
