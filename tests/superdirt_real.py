"""What a real SuperDirt reports, for the opt-in tests (``tests/test_superdirt_real.py``).

SuperDirt is told to log every event it plays, as it computed it, with a module added after
``~dirt.start`` (``/work/peers/superdirt/startup.scd`` on a developer's machine):

    ~dirt.addModule('log', { |de|
        var keys = [\\s, \\n, \\note, \\freq, \\sustain, \\delta, \\gain, \\amp, \\pan, \\orbit, \\latency,
                    \\cps, \\cycle, \\speed, \\legato, \\room, \\size];
        var fields = keys.collect { |k| k.asString ++ "=" ++ currentEnvironment[k].value.asString };
        logFile.write("event at=" ++ (thisThread.seconds + ~latency.value).asString ++ " "
                      ++ fields.join(" ") ++ "\\n");
        logFile.flush;
    }, { true });

``SUPERDIRT_LOG`` names that file; ``SUPERDIRT_POST`` names sclang's output, where scsynth's
``late 0.0xx`` lines and SuperDirt's "no synth or sample named ..." appear; ``SUPERDIRT_JACK``
names the JACK server SuperDirt plays on, for recordings with jack_capture.
``~latency`` < 0 means an event reached SuperDirt after its time.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from .audio_analysis import read_wav

EVENT = re.compile(r"^event (.*)$")
LATE = re.compile(r"^late (-?\d+(?:\.\d+)?)")


def value(text: str) -> Any:
    if text in ("nil", "none"):
        return None
    try:
        return float(text)
    except ValueError:
        return text


class TextLog:
    """A file another process appends to; ``mark()`` then ``since(mark)`` reads what came after."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def mark(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def since(self, mark: int) -> list[str]:
        with open(self.path, "rb") as f:
            f.seek(mark)
            return f.read().decode("utf-8", "replace").splitlines()


class DirtLog:
    """SuperDirt's event log and (when given) sclang's output."""

    def __init__(self, events: str | Path, post: str | Path | None = None) -> None:
        self.events = TextLog(events)
        self.post = TextLog(post) if post else None

    def mark(self) -> tuple[int, int]:
        return self.events.mark(), self.post.mark() if self.post else 0

    def events_since(self, mark: tuple[int, int]) -> list[dict[str, Any]]:
        out = []
        for line in self.events.since(mark[0]):
            m = EVENT.match(line)
            if m:
                out.append({k: value(v) for k, v in (f.split("=", 1) for f in m.group(1).split(" ") if "=" in f)})
        return out

    def post_since(self, mark: tuple[int, int]) -> list[str]:
        return self.post.since(mark[1]) if self.post else []

    def late_since(self, mark: tuple[int, int]) -> list[float]:
        """scsynth's ``late`` reports (seconds late) since the mark."""
        return [float(m.group(1)) for line in self.post_since(mark) if (m := LATE.match(line.strip()))]

    def wait_events(self, mark: tuple[int, int], count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until ``count`` events were logged (delivery, not timing: the bound is generous)."""
        deadline = time.monotonic() + timeout
        events = self.events_since(mark)
        while len(events) < count and time.monotonic() < deadline:
            time.sleep(0.05)
            events = self.events_since(mark)
        return events


def from_env() -> DirtLog:
    return DirtLog(os.environ["SUPERDIRT_LOG"], os.environ.get("SUPERDIRT_POST"))


def level(event: dict[str, Any]) -> float:
    """The linear level SuperDirt plays an event at: dirt_gate scales ``amp`` by ``gain`` to the 4th."""
    return event["amp"] * min(event["gain"], 2.0) ** 4


class Recording:
    """jack_capture of SuperDirt's two outputs on the JACK server ``SUPERDIRT_JACK``, as a
    process running while the music plays."""

    def __init__(self, path: Path, seconds: float) -> None:
        env = {**os.environ, "JACK_DEFAULT_SERVER": os.environ["SUPERDIRT_JACK"], "JACK_NO_START_SERVER": "1"}
        self.path = path
        self.proc = subprocess.Popen(
            ["jack_capture", "-d", str(seconds), "-b", "16", "-p", "SuperCollider:out_1", "-p", "SuperCollider:out_2",
             "--no-stdin", str(path)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:  # it creates the file once recording
            time.sleep(0.02)

    def samples(self) -> tuple[np.ndarray, int]:
        self.proc.wait(timeout=60)
        return read_wav(self.path)


def db(x: float) -> float:
    return 20 * np.log10(max(x, 1e-12))
