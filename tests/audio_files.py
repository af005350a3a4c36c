"""Small but real audio and SynthDef files for upload tests, made here."""

from __future__ import annotations

import io
import math
import struct
import wave


def wav_bytes(seconds: float = 0.05, rate: int = 44100, freq: float = 440.0) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(20000 * math.sin(2 * math.pi * freq * i / rate))) for i in range(int(seconds * rate))
        )
        w.writeframes(frames)
    return buf.getvalue()


def aiff_bytes() -> bytes:
    """A minimal AIFF: FORM header, COMM and an empty SSND chunk."""
    rate_ext = b"\x40\x0e\xac\x44\x00\x00\x00\x00\x00\x00"  # 44100 as an 80-bit float
    comm = b"COMM" + struct.pack(">IhIh", 18, 1, 0, 16) + rate_ext
    ssnd = b"SSND" + struct.pack(">III", 8, 0, 0)
    body = b"AIFF" + comm + ssnd
    return b"FORM" + struct.pack(">I", len(body)) + body


def flac_bytes() -> bytes:
    """The FLAC magic and a STREAMINFO block header (enough to be recognised as FLAC)."""
    return b"fLaC" + b"\x80\x00\x00\x22" + bytes(34)


def synthdef_bytes(name: str = "mysynth") -> bytes:
    """A SynthDef file header (version 2) naming one def; content checks read the magic."""
    encoded = name.encode()
    return b"SCgf" + struct.pack(">iH", 2, 1) + bytes([len(encoded)]) + encoded + bytes(16)
