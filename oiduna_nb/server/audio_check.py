"""What an uploaded audio file really is, and whether its structure agrees with its size. Pure.

A file is accepted only when its header names a known format and the chunks that hold its
sound lie inside the bytes that arrived: a header claiming 4 GB in a 64-byte file, or a
truncated upload, is refused before anything tries to load it.
"""

from __future__ import annotations

import struct


def sniff_audio(data: bytes) -> str | None:
    """The audio format the bytes really are, by their header."""
    if len(data) >= 12 and data[:4] in (b"RIFF", b"RF64") and data[8:12] == b"WAVE":
        return "wav"
    if len(data) >= 12 and data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if data[:4] == b"fLaC":
        return "flac"
    return None


def structure_error(data: bytes, fmt: str) -> str | None:
    """Why the file's structure does not agree with its size, or None when it does."""
    if fmt == "wav":
        return _wav(data)
    if fmt == "aiff":
        return _aiff(data)
    if fmt == "flac":
        return _flac(data)
    return f"unknown format {fmt!r}"


def _chunks(
    data: bytes, start: int, endian: str, big_sizes: dict[bytes, int] | None = None
) -> tuple[dict[bytes, tuple[int, int]], str | None]:
    """RIFF/IFF chunks from ``start``: id -> (offset of its data, its size). ``big_sizes``
    gives the real size of RF64 chunks whose 32-bit size field reads 0xFFFFFFFF."""
    found: dict[bytes, tuple[int, int]] = {}
    at = start
    while at + 8 <= len(data):
        cid = data[at : at + 4]
        (size,) = struct.unpack(endian + "I", data[at + 4 : at + 8])
        if size == 0xFFFFFFFF and big_sizes and cid in big_sizes:
            size = big_sizes[cid]
        if at + 8 + size > len(data):
            return found, f"its {cid.decode('latin-1').strip()!r} chunk claims {size} bytes but the file ends before"
        found.setdefault(cid, (at + 8, size))
        at += 8 + size + (size & 1)  # chunks are padded to an even length
    return found, None


def _wav(data: bytes) -> str | None:
    big_sizes = None
    (riff_size,) = struct.unpack("<I", data[4:8])
    if data[:4] == b"RF64":
        if data[12:16] != b"ds64" or len(data) < 36:
            return "an RF64 file without its ds64 chunk"
        riff_size, data_size = struct.unpack("<QQ", data[20:36])
        big_sizes = {b"data": data_size}
    if riff_size + 8 > len(data):
        return f"its header claims {riff_size + 8} bytes but the file has {len(data)}"
    chunks, problem = _chunks(data, 12, "<", big_sizes)
    if problem:
        return problem
    fmt = chunks.get(b"fmt ")
    if fmt is None or fmt[1] < 16:
        return "it has no format chunk"
    if b"data" not in chunks:
        return "it has no data chunk"
    return None


def _aiff(data: bytes) -> str | None:
    (form_size,) = struct.unpack(">I", data[4:8])
    if form_size + 8 > len(data):
        return f"its header claims {form_size + 8} bytes but the file has {len(data)}"
    chunks, problem = _chunks(data, 12, ">")
    if problem:
        return problem
    if b"COMM" not in chunks:
        return "it has no COMM chunk"
    if b"SSND" not in chunks:
        return "it has no sound data chunk"
    return None


def _flac(data: bytes) -> str | None:
    at, first = 4, True
    while True:
        if at + 4 > len(data):
            return "its metadata blocks run past the end of the file"
        header = data[at]
        size = int.from_bytes(data[at + 1 : at + 4], "big")
        if first and (header & 0x7F != 0 or size != 34):
            return "it does not start with a STREAMINFO block"
        first = False
        at += 4 + size
        if at > len(data):
            return "a metadata block runs past the end of the file"
        if header & 0x80:  # the last metadata block
            return None
