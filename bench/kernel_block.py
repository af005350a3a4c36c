"""The API while a notebook cell blocks (issue 10): a real Jupyter kernel, music playing.

A kernel (ipykernel through jupyter_client, as tests/kernel_harness.py) runs ``%load_ext
oiduna_nb``; the engine plays 16 OSC tracks at 140 bpm into a UDP receiver (another process).
Another process polls ``GET /playback/status`` every 10 ms over a keep-alive connection and
reads the SSE stream (every event type) as 100 subscribers (``--subscribers``). Then cells
run, one after the other:

- ``time.sleep(4)``: the kernel's loop blocked (the issue's case);
- a pure-Python loop for 4 s: the kernel's loop busy, holding the GIL between switches.

For each cell (its start and end are taken inside the cell) and for an idle window before
them: the reply times of the polls (p50, p99, worst), the longest SSE silence, the position
events that arrived against the steps that sounded, and late bundles. Targets: worst reply
< 50 ms during the blocking cell, 0 late bundles.

    PYTHONPATH=/work/main python bench/kernel_block.py
    python bench/kernel_block.py --seconds 2 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The repository only as a fallback: PYTHONPATH (or the installed package) decides which
# oiduna_nb is measured, e.g. PYTHONPATH=/work/main.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from benchdoc import percentile, write_section  # noqa: E402
from measuring import hold_collections, run_client  # noqa: E402
from engine_timing import BPM, receiver  # noqa: E402
from loadkit import (  # noqa: E402
    HttpConn,
    code_root,
    free_port,
    http,
    load_average,
    open_subscribers,
    osc_session,
    request_bytes,
)
from server_load import commit_of_code, match_positions, sound_times  # noqa: E402

POLL_S = 0.010
SUBSCRIBERS = 100


def prober(port: int, subscribers: int, conn) -> None:
    hold_collections()
    async def main():
        client = await HttpConn.open("127.0.0.1", port)
        [sse] = await open_subscribers("127.0.0.1", port, 1, record_arrivals=True)
        others = await open_subscribers("127.0.0.1", port, subscribers - 1) if subscribers > 1 else []
        raw = request_bytes("GET", "/playback/status", f"127.0.0.1:{port}")
        conn.send("ready")
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        loop.add_reader(conn.fileno(), lambda: stop.done() or stop.set_result(None))
        replies = []
        while not stop.done():
            t0, p0 = time.time_ns(), time.perf_counter()
            status, _ = await client.request(raw)
            replies.append((t0, (time.perf_counter() - p0) * 1000, status))
            await asyncio.sleep(max(0.0, p0 + POLL_S - time.perf_counter()))
        loop.remove_reader(conn.fileno())
        os.set_blocking(conn.fileno(), True)  # uvloop left it non-blocking: a big reply would fail
        conn.recv()
        client.close()
        for s in (sse, *others):
            s.close()
        return replies, sse.result(), [s.result()["positions"] for s in others]

    conn.send(run_client(main()))


CELLS = {
    "time.sleep({s:g}) (the loop blocked)": "import time\n_t0 = time.time_ns()\ntime.sleep({s:g})\nprint(_t0, time.time_ns())",
    "pure-Python loop for {s:g} s (the loop busy, GIL held)": (
        "import time\n_t0 = time.time_ns()\n_end = time.perf_counter() + {s:g}\n_x = 0\n"
        "while time.perf_counter() < _end:\n    _x += 1\nprint(_t0, time.time_ns())"
    ),
}


def window_figures(lo: int, hi: int, replies, sse: dict, others: list, steps, by_step) -> dict:
    inside = [ms for t0, ms, _ in replies if t0 < hi and t0 + ms * 1e6 > lo]
    codes = sorted({st for t0, ms, st in replies if t0 < hi and t0 + ms * 1e6 > lo})
    arrivals = sse["arrivals"]
    # silences as seen inside the window (a gap that straddles its start or end counts its inner part)
    gaps = [(min(b, hi) - max(a, lo)) / 1e6 for a, b in zip(arrivals, arrivals[1:]) if a < hi and b > lo]
    if arrivals and arrivals[-1] < hi:
        gaps.append((hi - max(arrivals[-1], lo)) / 1e6)
    # every subscriber's positions: the fewest one got, and the lags of them all
    inside_each = [[(t, s) for t, s in got if lo <= t < hi] for got in (sse["positions"], *others)]
    positions = min(inside_each, key=len)
    lags = [lag for each in inside_each for _, lag in match_positions(each, by_step)]
    bundles = [(step, tag, arrival) for step, tag, arrival in steps if lo <= tag < hi]
    leads = [(tag - arrival) / 1e6 for _, tag, arrival in bundles]
    return {
        "polls": len(inside), "codes": codes,
        "reply_p50": percentile(inside, 50) if inside else None,
        "reply_p99": percentile(inside, 99) if inside else None,
        "reply_max": max(inside) if inside else None,
        "silence_max": max(gaps) if gaps else None,
        "positions": len(positions), "sounded": len(bundles),
        "lag_p99": percentile(lags, 99) if lags else None, "lag_max": max(lags) if lags else None,
        "late": sum(lead < 0 for lead in leads), "lead_min": min(leads) if leads else None,
    }


def run(seconds: float, subscribers: int) -> tuple[dict, str]:
    from tests.kernel_harness import Kernel

    parent, child = mp.Pipe()
    udp = mp.Process(target=receiver, args=(child, None), daemon=True)
    udp.start()
    osc_port = parent.recv()
    api_port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="bench-kernel-"))
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [code_root(), os.environ.get("PYTHONPATH")])),
        "OSC_PORT": str(osc_port), "API_PORT": str(api_port), "OIDUNA_OUTPUT": "superdirt",
        "OIDUNA_MIDI_API": "alsa", "OIDUNA_DATA_DIR": str(tmp / "data"), "OIDUNA_ASSETS_DIR": str(tmp / "assets"),
    }
    load_avg = load_average()
    kernel = Kernel(env=env, cwd=str(tmp))
    windows: dict[str, tuple[int, int]] = {}
    try:
        loaded = kernel.run("%load_ext oiduna_nb")
        base = f"http://127.0.0.1:{api_port}"
        status, reply = http(base, "POST", "/playback/session", osc_session())
        assert status == 200, (status, reply, loaded.text)
        assert http(base, "POST", "/playback/start")[0] == 200
        pparent, pchild = mp.Pipe()
        probe = mp.Process(target=prober, args=(api_port, subscribers, pchild), daemon=True)
        probe.start()
        assert pparent.recv() == "ready"
        time.sleep(1.0)  # the first step sounds a lookahead after the start: the idle window begins after it
        t0 = time.time_ns()
        time.sleep(seconds)
        windows["idle (no cell running)"] = (t0, time.time_ns())
        for label, code in CELLS.items():
            cell = kernel.run(code.format(s=seconds), timeout=seconds + 60)
            assert cell.error is None, cell.error
            start, end = map(int, cell.stdout.split())
            windows[label.format(s=seconds)] = (start, end)
            time.sleep(1.0)
        pparent.send("stop")
        replies, sse, others = pparent.recv()
        probe.join(timeout=10)
        http(base, "POST", "/playback/pause")
    finally:
        kernel.close()
    time.sleep(0.3)
    parent.send("stop")
    packets, _ = parent.recv()
    udp.join(timeout=5)
    steps = sound_times("ours", packets)
    by_step: dict[int, list[int]] = {}
    for step, tag, _ in steps:
        by_step.setdefault(step, []).append(tag)
    return {label: window_figures(lo, hi, replies, sse, others, steps, by_step) for label, (lo, hi) in windows.items()}, load_avg


def fmt(v, spec=".1f") -> str:
    return "–" if v is None else format(v, spec)


def report(results: dict, seconds: float, subscribers: int, command: str, commit: str, load_avg: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        f"Code measured: {commit}; load average at start {load_avg} on {os.cpu_count()} cores. A real Jupyter kernel "
        f"(ipykernel via jupyter_client) with `%load_ext oiduna_nb` playing 16 OSC tracks at {BPM} bpm (an event on "
        f"every step, a step every {15000 / BPM:.0f} ms) into a UDP receiver; another process polls GET "
        f"/playback/status every {POLL_S * 1000:.0f} ms on a keep-alive connection and reads /stream (every event "
        f"type) as {subscribers} subscriber{'s' if subscribers != 1 else ''}: the silence is the first one's, the "
        f"position events the fewest any of them got, the lag over all of them. Each window is the cell's own start and end (taken inside the cell).",
        "",
        "| window | polls | reply p50 / p99 / worst (ms) | longest SSE silence (ms) | position events / steps sounded "
        "| position lag p99 / max (ms) | late bundles | lead min (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, r in results.items():
        lines.append(
            f"| {label} | {r['polls']} | {fmt(r['reply_p50'])} / {fmt(r['reply_p99'])} / {fmt(r['reply_max'])} "
            f"| {fmt(r['silence_max'])} | {r['positions']} / {r['sounded']} | {fmt(r['lag_p99'])} / {fmt(r['lag_max'])} "
            f"| {r['late']} | {fmt(r['lead_min'])} |"
        )
    lines += ["", "Target: worst reply < 50 ms while a cell blocks; 0 late bundles. The SSE stream cannot be "
              f"silent for less than a step ({15000 / BPM:.0f} ms) here: a position event per step is its heartbeat."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="how long each cell blocks")
    parser.add_argument("--subscribers", type=int, default=SUBSCRIBERS, help="SSE subscribers reading every event")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    command = "python bench/kernel_block.py" + (f" --seconds {args.seconds:g}" if args.seconds != 4 else "") + (
        f" --subscribers {args.subscribers}" if args.subscribers != SUBSCRIBERS else "")
    commit = commit_of_code()
    print(f"measuring {commit} (load average {load_average()})", flush=True)
    results, load_avg = run(args.seconds, args.subscribers)
    text = report(results, args.seconds, args.subscribers, command, commit, load_avg)
    print(text)
    if not args.no_write:
        write_section("API while a cell blocks", text)


if __name__ == "__main__":
    main()
