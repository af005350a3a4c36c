"""The engine into a real SuperDirt: lateness as SuperDirt reports it, onset error as recorded,
and the dynamics SuperDirt plays, per lookahead.

SuperDirt runs with its event log (``tests/superdirt_real.py`` describes it); the environment
names it as for the opt-in tests: ``SUPERDIRT_PORT``, ``SUPERDIRT_LOG``, ``SUPERDIRT_POST``
(scsynth's ``late`` lines) and ``SUPERDIRT_JACK`` (recordings with jack_capture).

- lateness: 5 tracks on every 16th for ``--bars`` bars at 120 bpm (80 events a bar): events
  SuperDirt received late (``~latency`` < 0), scsynth's ``late`` reports, the smallest latency;
- onset error: hi-hats on every 16th, recorded; each onset against the grid through the first;
- dynamics: the level SuperDirt plays velocity 0.5 at, against velocity 1 (its amp x gain^4).

    python bench/superdirt_real.py            # writes docs/benchmarks.md
    python bench/superdirt_real.py --bars 2 --busy 0 --no-write
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchdoc import percentile, write_section  # noqa: E402

from oiduna_nb.engine import Engine, EngineConfig, Session  # noqa: E402
from tests.audio_analysis import onsets  # noqa: E402
from tests.conftest import no_midi  # noqa: E402
from tests.superdirt_real import Recording, db, from_env, level  # noqa: E402

BPM = 120.0
STEP = 60.0 / BPM / 4
SOUNDS = [("kick", "bd"), ("snare", "sn"), ("hats", "hh"), ("clap", "cp"), ("keys", "superpiano")]


def session(sounds: list[tuple[str, str]], events: list[dict] | dict[str, list[dict]]) -> Session:
    """Each sound a track on an orbit of its own, with these events (or each its own)."""
    body = {"environment": {"bpm": BPM, "default_gate": 1.0, "swing": 0.0, "loop_steps": 16},
            "tracks": {}, "sequences": {}}
    for orbit, (name, s) in enumerate(sounds):
        body["tracks"][name] = {"meta": {"track_id": name}, "params": {"s": s, "gain": 1.0, "pan": 0.5, "orbit": orbit}}
        own = events[name] if isinstance(events, dict) else events
        body["sequences"][name] = {"track_id": name, "events": own}
    return Session.model_validate(body)


def play(lookahead: float, body: Session, seconds: float) -> None:
    engine = Engine(EngineConfig(osc_port=int(os.environ["SUPERDIRT_PORT"]), lookahead=lookahead), midi=no_midi())
    try:
        engine.load_session(body)
        engine.start()
        time.sleep(seconds)
        engine.stop()
        time.sleep(lookahead + 0.3)
    finally:
        engine.close()


class Busy:
    """``count`` processes spinning on the CPU while it runs (a loaded machine), ended after."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Busy":
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.count)]
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            proc.terminate()
            proc.wait(timeout=10)


def lateness(lookahead: float, bars: int, busy: int) -> str:
    dirt = from_env()
    events = [{"step": s, "velocity": 0.9, "note": 60 + s % 12} for s in range(16)]
    mark = dirt.mark()
    with Busy(busy):
        play(lookahead, session(SOUNDS, events), bars * 16 * STEP)
    logged = dirt.events_since(mark)
    late = [e for e in logged if e["latency"] < 0]
    reports = dirt.late_since(mark)
    smallest = min(e["latency"] for e in logged) * 1000 if logged else float("nan")
    return (f"| {lookahead * 1000:.0f} | {busy} | {len(logged)} | {len(late)} | {len(reports)} | "
            f"{max(reports) * 1000 if reports else 0:.1f} | {smallest:.1f} |")


def onset_error(lookahead: float, bars: int) -> str:
    if not os.environ.get("SUPERDIRT_JACK"):
        return f"| {lookahead * 1000:.0f} | n/a (SUPERDIRT_JACK not set) | | |"
    seconds = bars * 16 * STEP
    with tempfile.TemporaryDirectory() as tmp:
        recording = Recording(Path(tmp) / "hats.wav", seconds + 1.5)
        play(lookahead, session([("hats", "hh")], [{"step": s} for s in range(16)]), seconds)
        samples, rate = recording.samples()
    found = onsets(samples, rate, threshold=0.01, quiet_before=0.03)
    # against the nearest line of the grid through the first onset (a missed onset shifts nothing)
    errors = [abs((t - found[0] + STEP / 2) % STEP - STEP / 2) * 1000 for t in found]
    return (f"| {lookahead * 1000:.0f} | {len(found)} | {percentile(errors, 50):.3f} | "
            f"{percentile(errors, 99):.3f} |")


def dynamics() -> str:
    dirt = from_env()
    mark = dirt.mark()
    body = session([("full", "bd"), ("half", "bd")],
                   {"full": [{"step": 0, "velocity": 1.0}], "half": [{"step": 0, "velocity": 0.5}]})
    play(0.2, body, 4 * STEP)
    by_orbit = {e["orbit"]: e for e in dirt.events_since(mark)}
    ratio = level(by_orbit[1]) / level(by_orbit[0])
    return (f"velocity 0.5 against 1.0, as SuperDirt plays it: gain {by_orbit[1]['gain']:g} and amp "
            f"{by_orbit[1]['amp']:g} against gain {by_orbit[0]['gain']:g} and amp {by_orbit[0]['amp']:g}: "
            f"{db(ratio):+.1f} dB (linear would be -6.0 dB).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument("--lookaheads", default="0.1,0.2")
    parser.add_argument("--busy", default="0,2", help="processes spinning on the CPU meanwhile, per run")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    lookaheads = [float(x) for x in args.lookaheads.split(",")]
    busy = [int(x) for x in args.busy.split(",")]
    late_rows = [lateness(la, args.bars, b) for b in busy for la in lookaheads]
    onset_rows = [onset_error(la, min(args.bars, 4)) for la in lookaheads]
    dyn = dynamics()
    for row in (*late_rows, *onset_rows, dyn):
        print(row, flush=True)
    command = "python bench/superdirt_real.py" + (f" --bars {args.bars}" if args.bars != 8 else "")
    text = "\n".join([
        f"Command: `SUPERDIRT_PORT=... SUPERDIRT_LOG=... SUPERDIRT_POST=... SUPERDIRT_JACK=... {command}`",
        "",
        "Real SuperDirt (0c14168, SuperCollider 3.13, dummy JACK at 48 kHz) on this 2-core machine, the engine "
        "in another process with its own defaults but the lookahead. Lateness as SuperDirt reports it: "
        f"5 tracks on every 16th for {args.bars} bars at {BPM:g} bpm; an event is late when its `~latency` "
        "is negative on arrival; scsynth prints `late` for a bundle that reached it after its time. The "
        "machine is shared with other work: lateness varies from run to run (sclang runs at normal priority, "
        "scsynth and jackd in realtime).",
        "",
        "| lookahead (ms) | processes spinning meanwhile | events | late on arrival | scsynth late reports | worst late report (ms) | smallest latency (ms) |",
        "|---|---|---|---|---|---|---|",
        *late_rows,
        "",
        "Onset error, recorded with jack_capture: hi-hats on every 16th for 4 bars, each onset against the "
        "nearest line of the grid through the first one (65: the step after the fourth bar had been sent, a lookahead ahead, when the bench stopped).",
        "",
        "| lookahead (ms) | onsets | abs error median (ms) | p99 (ms) |",
        "|---|---|---|---|",
        *onset_rows,
        "",
        f"Dynamics: {dyn}",
    ])
    print(text)
    if not args.no_write:
        write_section("SuperDirt (real)", text)


if __name__ == "__main__":
    main()
