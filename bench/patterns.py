"""Pattern query speed: a 16-track set queried cycle by cycle, ours against Strudel, same run.

    python bench/patterns.py                 # writes the "Pattern queries" section of docs/benchmarks.md
    python bench/patterns.py --no-write --seconds 2

Each run queries every track for cycle c (``query(c, c+1)``), c = 0, 1, 2, ... for
``--seconds``; a "cycle" below is one cycle of the whole 16-track set. Figures: cycles/s
(median of ``--runs`` runs) and the p99 of the per-cycle query time over all runs. Our runs
and Strudel's take turns, so that both see the same load on a shared machine.

Strudel: ``@strudel/core`` + ``@strudel/mini`` from the npm registry, installed (when missing)
into ~/.cache/oiduna-bench/strudel, outside the repository, and run by ``node``. Strudel has no
``whenmod`` and no ``rot``: its set uses ``when`` with the same cycles for the one ``whenmod``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from fractions import Fraction as F
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchdoc import percentile, write_section  # noqa: E402

from oiduna_nb.pattern import irand, n, note, perlin, rand, s, saw, sine  # noqa: E402

STRUDEL_DIR = Path(os.environ.get("OIDUNA_BENCH_STRUDEL", Path.home() / ".cache" / "oiduna-bench" / "strudel"))
STRUDEL_PACKAGES = ["@strudel/core@1.2.6", "@strudel/mini@1.2.6"]


def tracks() -> list:
    """A realistic jam: 16 tracks, among them a 5-cycle alternation, a 12-step and a 3-step rhythm."""
    return [
        s("bd(<3 5>,8)").every(4, lambda p: p.fast(2)).gain(0.9),
        s("~ sn").sometimes_by(0.3, lambda p: p.speed(2)).room(0.2),
        s("hh*16").degrade_by(0.3).gain(sine.range(0.6, 1)).pan(saw),
        s("~ oh").off(0.125, lambda p: p.speed(1.5)).jux(lambda p: p.rev()),
        n("<0 3> [7 5] . 0 ~ 12").add(n("<0 -5>")).s("bass").legato(0.8).cutoff("<500 2000>"),
        n("<0 2 4 5 7>*4").s("superpiano").orbit(1),
        s("rim*12").mask("1 0 1 1 0 1 1 0 1 1 0 1").pan(rand),
        s("[cp cp cp]").euclid_rot(3, 8, 2).stut(3, 0.5, 0.125),
        s("breaks125:3").chop(8).rev(),
        s("arpy*2").striate("<2 4>").legato(1),
        n("0 4 7").s("pluck").echo(3, 0.125, 0.6).iter(4),
        note("[0,4,7] [2,5,9]").s("pad").slow(2).palindrome(),
        n("0 .. 7").ply("<1 2>").s("arp").whenmod(8, 6, lambda p: p.rev()),
        s("perc*8").n(irand(8)).degrade().swing_by(F(1, 24), 4),
        s("{lt mt ht}%8").chunk(4, lambda p: p.hurry(2)),
        s("[~ noise]*2").linger("<0.25 0.5>").gain(perlin),
    ]


STRUDEL_SET = """
const { s, n, note, sine, saw, rand, irand, perlin, rev } = core;
const tracks = [
  s("bd(<3 5>,8)").every(4, (p) => p.fast(2)).gain(0.9),
  s("~ sn").sometimesBy(0.3, (p) => p.speed(2)).room(0.2),
  s("hh*16").degradeBy(0.3).gain(sine.range(0.6, 1)).pan(saw),
  s("~ oh").off(0.125, (p) => p.speed(1.5)).jux(rev),
  n("<0 3> [7 5] . 0 ~ 12").add(n("<0 -5>")).s("bass").legato(0.8).cutoff("<500 2000>"),
  n("<0 2 4 5 7>*4").s("superpiano").orbit(1),
  s("rim*12").mask("1 0 1 1 0 1 1 0 1 1 0 1").pan(rand),
  s("[cp cp cp]").euclidRot(3, 8, 2).stut(3, 0.5, 0.125),
  s("breaks125:3").chop(8).rev(),
  s("arpy*2").striate("<2 4>").legato(1),
  n("0 4 7").s("pluck").echo(3, 0.125, 0.6).iter(4),
  note("[0,4,7] [2,5,9]").s("pad").slow(2).palindrome(),
  n("0 .. 7").ply("<1 2>").s("arp").when("<0 0 0 0 0 0 1 1>", rev),
  s("perc*8").n(irand(8)).degrade().swingBy(1 / 24, 4),
  s("{lt mt ht}%8").chunk(4, (p) => p.hurry(2)),
  s("[~ noise]*2").linger("<0.25 0.5>").gain(perlin),
];
"""

STRUDEL_RUNNER = """
import * as core from '@strudel/core';
import { miniAllStrings } from '@strudel/mini';
import * as readline from 'node:readline';
miniAllStrings();
%s
let c = 0;
// One run per line read ("<seconds>"), so that Python can interleave its runs with these.
for await (const line of readline.createInterface({ input: process.stdin })) {
  const seconds = Number(line);
  const result = { rate: 0, perCycleMs: [], events: 0 };
  const start = performance.now();
  let cycles = 0;
  while (performance.now() - start < seconds * 1000) {
    const t0 = performance.now();
    for (const t of tracks) result.events += t.queryArc(c, c + 1).length;
    result.perCycleMs.push(performance.now() - t0);
    c++;
    cycles++;
  }
  result.rate = cycles / ((performance.now() - start) / 1000);
  console.log(JSON.stringify(result));
}
"""

# @strudel/core 1.2.6's bundle imports SalatRepl, which @kabelsalat/web 0.4.1 does not export; the
# benchmark never uses Strudel's REPL, so node is given a stand-in for that one module.
STRUDEL_HOOKS = """
export async function resolve(specifier, context, next) {
  if (specifier === '@kabelsalat/web') {
    return { url: 'data:text/javascript,export class SalatRepl {}', shortCircuit: true };
  }
  return next(specifier, context);
}
"""
STRUDEL_REGISTER = "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n"


class Ours:
    """Runs of our set, continuing from the cycle where the last run stopped."""

    def __init__(self) -> None:
        self.tracks = tracks()
        self.cycle = 0

    def run(self, seconds: float) -> dict:
        per_cycle, events, cycles = [], 0, 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            t0 = time.perf_counter()
            c = self.cycle
            for p in self.tracks:
                events += len(p.query(c, c + 1))
            per_cycle.append((time.perf_counter() - t0) * 1000)
            self.cycle += 1
            cycles += 1
        return {"rate": cycles / (time.perf_counter() - start), "perCycleMs": per_cycle, "events": events}


class Strudel:
    """The same set in a node process that does a run each time it is asked."""

    def __init__(self) -> None:
        ensure_strudel()
        self.node = subprocess.Popen(
            ["node", "--import", "./register.mjs", "bench.mjs"], cwd=STRUDEL_DIR,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def run(self, seconds: float) -> dict:
        self.node.stdin.write(f"{seconds}\n")
        self.node.stdin.flush()
        while True:
            line = self.node.stdout.readline()
            if not line:
                raise RuntimeError("node stopped")
            if line.startswith("{"):
                return json.loads(line)

    def close(self) -> None:
        self.node.stdin.close()
        self.node.wait(timeout=10)


def ensure_strudel() -> None:
    STRUDEL_DIR.mkdir(parents=True, exist_ok=True)
    if not (STRUDEL_DIR / "node_modules" / "@strudel" / "mini").exists():
        print(f"installing {' '.join(STRUDEL_PACKAGES)} into {STRUDEL_DIR} (npm)", flush=True)
        (STRUDEL_DIR / "package.json").write_text('{"name": "oiduna-bench-strudel", "private": true, "type": "module"}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", *STRUDEL_PACKAGES], cwd=STRUDEL_DIR, check=True)
    (STRUDEL_DIR / "hooks.mjs").write_text(STRUDEL_HOOKS)
    (STRUDEL_DIR / "register.mjs").write_text(STRUDEL_REGISTER)
    (STRUDEL_DIR / "bench.mjs").write_text(STRUDEL_RUNNER % STRUDEL_SET)


def node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()


def cell_latency(repeats: int) -> list[float]:
    """ms from calling ``track()`` (what a cell does) to its change being queued, the engine
    playing the whole set (its metronome, its renderer and its API's command path running)."""
    from oiduna_nb import dsl
    from oiduna_nb.engine import Engine, EngineConfig
    from oiduna_nb.engine.outputs.midi import MidiOutput

    import socket

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))  # a UDP port that takes the bundles (nobody reads them)
    engine = Engine(EngineConfig(osc_port=sink.getsockname()[1], midi_api="jack"), midi=MidiOutput(api="jack"))
    dsl.use(engine)
    try:
        made = tracks()
        for i, pattern in enumerate(made):
            dsl.track(f"t{i}", pattern, at="now")
        engine.start()
        times = []
        for k in range(repeats):
            i = k % len(made)
            t0 = time.perf_counter()
            dsl.track(f"t{i}", tracks()[i])  # the cell builds its pattern and sends it
            times.append((time.perf_counter() - t0) * 1000)
        return times
    finally:
        dsl.use(None)
        engine.close()
        sink.close()


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="per run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cells", type=int, default=320, help="track() calls timed while the set plays")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    load_before = load()
    ours_runner, strudel_runner = Ours(), Strudel()
    ours_runner.run(1.0), strudel_runner.run(1.0)  # warm-up (caches, node's JIT): not counted
    ours = {"runs": [], "perCycleMs": [], "events": 0}
    theirs = {"runs": [], "perCycleMs": [], "events": 0}
    for _ in range(args.runs):  # interleaved, so that both see the same load
        for runner, result in ((ours_runner, ours), (strudel_runner, theirs)):
            run = runner.run(args.seconds)
            result["runs"].append(run["rate"])
            result["perCycleMs"] += run["perCycleMs"]
            result["events"] += run["events"]
    strudel_runner.close()
    latencies = cell_latency(args.cells)
    load_after = load()
    ours_rate, theirs_rate = statistics.median(ours["runs"]), statistics.median(theirs["runs"])
    ratio = theirs_rate / ours_rate
    rows = [
        ("", "oiduna_nb.pattern", "Strudel 1.2.6"),
        ("cycles/s (median of runs)", f"{ours_rate:.0f}", f"{theirs_rate:.0f}"),
        ("cycles/s per run", " ".join(f"{r:.0f}" for r in ours["runs"]), " ".join(f"{r:.0f}" for r in theirs["runs"])),
        ("per-cycle query time p50 / p99 (ms)",
         f"{percentile(ours['perCycleMs'], 50):.2f} / {percentile(ours['perCycleMs'], 99):.2f}",
         f"{percentile(theirs['perCycleMs'], 50):.2f} / {percentile(theirs['perCycleMs'], 99):.2f}"),
        ("events per cycle of the set", f"{ours['events'] / len(ours['perCycleMs']):.1f}",
         f"{theirs['events'] / len(theirs['perCycleMs']):.1f}"),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows[:1]) + "\n|---|---|---|\n"
    table += "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows[1:])
    verdict = f"Strudel is {ratio:.2f}× as fast as ours" if ratio >= 1 else f"ours is {1 / ratio:.2f}× as fast as Strudel"
    cells = (f"**Cell to queued:** `track(name, pattern)` of one of the 16 tracks, {len(latencies)} times while the "
             f"engine plays the whole set (its metronome, renderer and command path running): "
             f"p50 {percentile(latencies, 50):.2f} ms, p99 {percentile(latencies, 99):.2f} ms, "
             f"max {max(latencies):.2f} ms (building the pattern, trying its first 4 cycles, checking names, "
             f"and the command queued for the next bar).")
    print(table)
    print(verdict)
    print(cells)
    print(f"load average (1/5/15 min) before {load_before}, after {load_after}")
    if args.no_write:
        return
    body = (
        "Command: `python bench/patterns.py`\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work, Python "
        f"{platform.python_version()}, node {node_version()}; load average (1/5/15 min) {load_before} before, "
        f"{load_after} after. {args.runs} runs of {args.seconds:g} s each, ours and Strudel's taking turns "
        "(after a 1 s warm-up of each), Strudel in one node process.\n\n"
        "The 16-track set of `bench/patterns.py` (euclid/every/sometimes/off/jux drums, a bass with note patterns "
        "and add, hats with degrade and sine gain, a 5-cycle alternation, a 12-step and a 3-step rhythm, "
        "chop/striate, stut/echo, ...), each track queried one cycle at a time (`query(c, c+1)`); "
        "a cycle is one cycle of all 16 tracks.\n\n"
        f"{table}\n\n{cells}\n\n**{verdict}.** On a shared machine the absolute figures move with the other work "
        "(the load above); the runs take turns so that the ratio stays fair. Strudel's events differ from ours "
        "where Tidal and Strudel differ (shared/patterns-api.md), hence the event counts.\n"
    )
    write_section("Pattern queries", body)


if __name__ == "__main__":
    main()
