"""MIDI clock jitter: how evenly our 24-pulses-a-beat clock reaches a device.

The engine plays at 120 bpm with MIDI clock out on (a pulse every 20.833 ms), through the
JACK timestamped path and through the rtmidi fallback, each in its own process, idle and
with a busy pure-Python loop in the engine's own process (a notebook cell running). One JACK
receiver in another process stamps every pulse with its frame; the spacing error is the
distance of each gap between two pulses from 20.833 ms. (A drum machine following the clock
hears that jitter as swing it did not ask for.)

    python bench/midi_clock.py                  # 20 s per run, writes docs/benchmarks.md
    python bench/midi_clock.py --seconds 5 --no-write
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from benchdoc import percentile, write_section  # noqa: E402
from midi_timing import RX_PORT, receiver, spin_for, start_jackd, stop  # noqa: E402

PULSE_MS = 60_000 / 120 / 24
PATHS = {"JACK timestamped": "jack", "rtmidi fallback (sent at due time)": "rtmidi-jack"}


def sender(api: str, seconds: float, busy: bool) -> None:
    """The engine with clock out on, for ``seconds`` (run as its own process)."""
    from oiduna_nb.engine import Engine, EngineConfig, Session

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    engine = Engine(EngineConfig(osc_port=sink.getsockname()[1], midi_api=api, midi_port=RX_PORT))
    engine.load_session(Session.model_validate({"environment": {"bpm": 120}, "apply": {"timing": "now"}}))
    engine.set_midi_clock_out(True)
    engine.start()
    (spin_for if busy else time.sleep)(seconds)
    engine.stop()
    time.sleep(0.5)
    engine.close()


def run(api: str, server: str, seconds: float, busy: bool, rx) -> dict:
    rx.send("reset")
    rx.recv()
    env = {**os.environ, "JACK_DEFAULT_SERVER": server, "JACK_NO_START_SERVER": "1"}
    subprocess.run([sys.executable, __file__, "--sender", api, "--seconds", str(seconds)] + (["--busy"] if busy else []),
                   env=env, check=True, timeout=seconds + 60)
    rx.send("collect")
    arrivals, xruns = rx.recv()
    frames = [a[0] for a in arrivals if a[1] == b"\xf8"]
    rate = 48000
    gaps = [(b - a) * 1000 / rate for a, b in zip(frames, frames[1:])]
    errors = [abs(g - PULSE_MS) for g in gaps]
    return {"pulses": len(frames), "errors": errors, "xruns": xruns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--period", type=int, default=256)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--sender")
    parser.add_argument("--busy", action="store_true")
    args = parser.parse_args()
    if args.sender:
        sender(args.sender, args.seconds, args.busy)
        return
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    log = Path(tempfile.mkdtemp()) / "jackd.log"
    jackd, server = start_jackd(args.period, True, log)
    parent, child = mp.Pipe()
    rx = mp.Process(target=receiver, args=(child, server), daemon=True)
    rx.start()
    info = parent.recv()
    if info == "no server":
        stop(jackd)
        raise SystemExit("the dummy JACK server did not start")
    rows = []
    try:
        for name, api in PATHS.items():
            for busy in (False, True):
                r = run(api, server, args.seconds, busy, parent)
                e = r["errors"]
                rows.append(f"| {name} | {'busy cell in the engine' if busy else 'idle'} | {r['pulses']} | "
                            f"{percentile(e, 50):.3f} / {percentile(e, 99):.3f} / {max(e):.3f} | {r['xruns']} |")
    finally:
        parent.send("quit")
        stop(jackd)
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    table = "\n".join([
        "| path | load | pulses | spacing error p50 / p99 / max (ms) | xruns |",
        "|---|---|---|---|---|",
        *rows,
    ])
    print(table)
    if args.no_write:
        return
    body = (f"Command: `python bench/midi_clock.py`\n\nMIDI clock out at 120 bpm (a pulse every {PULSE_MS:.3f} ms), "
            f"{args.seconds:g} s per run, into a JACK receiver (another process) that stamps each pulse with its "
            f"frame; dummy JACK server at 48 kHz, {args.period} frames, realtime. Spacing error: each gap between two "
            f"pulses against {PULSE_MS:.3f} ms. Load average before {load_before}, after {load_after}.\n\n{table}\n")
    write_section("MIDI clock jitter", body)


if __name__ == "__main__":
    main()
