"""A rendered take's picture: its waveform as SVG, drawn from the WAV file with numpy, with a
line at each bar, so a notebook shows what was rendered beside the player.

Each of the ``width`` columns is the lowest and highest sample (of the channels mixed) in its
stretch of time; the outline through them is the waveform's envelope.
"""

from __future__ import annotations

import wave
from pathlib import Path

WIDTH = 640
HEIGHT = 90


def read_mono(path: str | Path):
    """The file's samples as floats in -1..1, channels averaged, and its sample rate."""
    import numpy as np

    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: {8 * w.getsampwidth()}-bit WAV; renders are 16-bit")
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        audio = frames.reshape(-1, w.getnchannels()).astype(np.float32) / 32768.0
        return audio.mean(axis=1), w.getframerate()


def envelope(samples, columns: int):
    """(lowest, highest) sample of each of ``columns`` equal stretches."""
    import numpy as np

    if len(samples) == 0:
        return np.zeros(columns), np.zeros(columns)
    edges = np.linspace(0, len(samples), columns + 1).astype(int)
    edges[1:] = np.maximum(edges[1:], edges[:-1] + 1)  # at least one sample a column
    padded = np.concatenate([samples, np.zeros(max(0, edges[-1] - len(samples)), samples.dtype)])
    low = np.minimum.reduceat(padded, edges[:-1])
    high = np.maximum.reduceat(padded, edges[:-1])
    return low, high


def waveform_svg(path: str | Path, bar_times: list[float] = (), width: int = WIDTH, height: int = HEIGHT) -> str:
    """The waveform of the WAV at ``path`` as an SVG, a line at each of ``bar_times`` (seconds)."""
    samples, rate = read_mono(path)
    low, high = envelope(samples, width)
    seconds = len(samples) / rate if rate else 0.0
    middle = height / 2
    scale = middle - 2
    top = " ".join(f"{x},{middle - scale * min(1.0, float(v)):.1f}" for x, v in enumerate(high))
    bottom = " ".join(f"{x},{middle - scale * max(-1.0, float(v)):.1f}" for x, v in reversed(list(enumerate(low))))
    lines = "".join(
        f'<line class="bar" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height}" stroke="#5a606b" stroke-width="1"/>'
        for x in (width * t / seconds for t in bar_times if seconds and 0 < t < seconds)
    )
    return (
        f'<svg class="oiduna-waveform" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>waveform, {seconds:.2f} s</title>'
        f'<rect width="{width}" height="{height}" rx="4" fill="#1d2027"/>{lines}'
        f'<line x1="0" x2="{width}" y1="{middle}" y2="{middle}" stroke="#333843"/>'
        f'<polygon class="envelope" points="{top} {bottom}" fill="#4fd16b" fill-opacity="0.85"/></svg>'
    )
