"""Onsets and pitch from WAV files, for checking what was rendered or recorded."""

from __future__ import annotations

import wave

import numpy as np


def read_wav(path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        width = w.getsampwidth()
        dtype = {2: np.int16, 4: np.int32}[width]
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=dtype).reshape(-1, w.getnchannels())
        return data.astype(np.float64) / float(np.iinfo(dtype).max), w.getframerate()


def onsets(samples: np.ndarray, rate: int, threshold: float = 0.001, quiet_before: float = 0.025) -> list[float]:
    """Times (s) where the level first rises above ``threshold`` after ``quiet_before`` s below it."""
    level = np.abs(samples).max(axis=1)
    loud = np.flatnonzero(level > threshold)
    found, last = [], -(10**12)
    gap = int(quiet_before * rate)
    for i in loud:
        if i - last > gap:
            found.append(i / rate)
        last = i
    return found


def frequency(samples: np.ndarray, rate: int, start: float, seconds: float) -> float:
    """The dominant frequency of a stretch, from its spectrum."""
    a, b = int(start * rate), int((start + seconds) * rate)
    mono = samples[a:b].mean(axis=1) * np.hanning(b - a)
    spectrum = np.abs(np.fft.rfft(mono, n=8 * (b - a)))
    return float(np.argmax(spectrum) * rate / (8 * (b - a)))
