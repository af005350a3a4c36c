"""Sardine 0.4 playing 16ths at 120 bpm to a JACK MIDI port, as its REPL would: run by
bench/midi_timing.py with the Python of Sardine's own venv (no oiduna_nb import here).

Sardine runs on its precision asyncio loop and sends through mido/python-rtmidi (JACK
API here: this machine has no ALSA sequencer). Like Sardine's own CLI, it first renices
the process to -20 where allowed. Prints one JSON line: for every note-on, its intended
time (Sardine's deadline on time.monotonic's clock, which is Sardine's perf_counter
here) and the moment it was handed to rtmidi.

    python bench/sardine_sender.py PORT SECONDS [--busy-cell]
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

port, seconds, busy = sys.argv[1], float(sys.argv[2]), "--busy-cell" in sys.argv

# Sardine reads its configuration from the user data dir: give it one of its own
data_home = Path(tempfile.mkdtemp(prefix="sardine-bench-"))
(data_home / "Sardine").mkdir()
(data_home / "Sardine" / "config.json").write_text(
    json.dumps(
        {
            "config": {
                "midi": port, "bpm": 120, "beats": 4, "debug": False, "parser": "sardine",
                "superdirt_handler": False, "sardine_boot_file": False, "boot_supercollider": False,
                "verbose_superdirt": False, "link_clock": False,
                "superdirt_config_path": str(data_home / "x.scd"),
                "user_config_path": str(data_home / "user.py"),
                "deferred_scheduling": True, "editor": False,
            },
            "extensions": [],
        }
    )
)
os.environ["XDG_DATA_HOME"] = str(data_home)
os.environ.setdefault("MIDO_BACKEND", "mido.backends.rtmidi/UNIX_JACK")
try:
    os.nice(-20)  # what `sardine` does at start (set_python_process_priority)
except OSError:
    pass

import sardine_core.event_loop  # noqa: E402

intended: list[int] = []
sent: list[int] = []


async def main() -> None:
    ns: dict = {}
    exec("from sardine_core.run import *", ns)  # what Sardine's REPL runs first
    midi, bowl = ns["midi"], ns["bowl"]
    clock = bowl.clock
    original_call_timed, original_send = midi.call_timed, midi._midi.send

    def call_timed(deadline, func, *args, **kwargs):
        if getattr(func, "__name__", "") == "send_midi_note":
            offset = time.perf_counter() - clock.time  # Sardine's time -> perf_counter (monotonic)
            intended.append(round((deadline + offset) * 1e9))
        return original_call_timed(deadline, func, *args, **kwargs)

    def send(message):
        if message.type == "note_on":
            sent.append(time.monotonic_ns())
        return original_send(message)

    midi.call_timed, midi._midi.send = call_timed, send
    swim, again, N = ns["swim"], ns["again"], ns["N"]

    def notes(p=0.25, i=0):  # a swimming function: a 16th note, then again a 16th later
        N(note=60 + i % 16, vel=100, dur=0.125)
        again(runner, p=0.25, i=i + 1)

    runner = swim(notes)
    await asyncio.sleep(seconds)
    ns["silence"](runner)
    await asyncio.sleep(0.5)


if busy:
    def spin() -> None:
        x = 0
        while True:  # a busy notebook cell in the same process
            x += 1

    threading.Thread(target=spin, daemon=True).start()

loop = sardine_core.event_loop.new_event_loop()
asyncio.set_event_loop(loop)
loop.run_until_complete(main())
print(json.dumps({"intended": intended, "sent": sent, "latency_ns": 0}), flush=True)
os._exit(0)  # Sardine leaves threads and an endless loop task behind
