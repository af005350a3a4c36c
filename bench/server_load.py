"""Server load benchmark: the API under load while the engine plays 16 tracks at 140 bpm.

Four processes: ``oiduna-nb serve`` (engine + API), a UDP receiver standing in for
SuperDirt, 100 SSE subscribers, and 50 concurrent HTTP clients.

- request latency (median, p99, max) of a mix of reads and writes,
- SSE fan-out: whether every subscriber received every position event, and the lag of
  position events behind their step's time (median, p99, max),
- whether the OSC timing of the engine benchmark holds under that load.

    python bench/server_load.py                  # 20 s, writes docs/benchmarks.md
    python bench/server_load.py --seconds 5 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from benchdoc import percentile, write_section  # noqa: E402
from engine_timing import BPM, analyse, receiver, session_body, unix_step_map  # noqa: E402


CLIENTS = 50
SUBSCRIBERS = 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- SSE subscribers (their own process) -----------------------------------------------


def sse_process(url: str, count: int, seconds: float, conn) -> None:
    async def one(session: aiohttp.ClientSession, received: list) -> None:
        async with session.get(url) as r:
            event = None
            async for raw in r.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "position":
                    received.append((time.time_ns(), json.loads(line[6:])["step"]))

    async def main() -> list:
        results = [[] for _ in range(count)]
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
            tasks = [asyncio.ensure_future(one(session, results[i])) for i in range(count)]
            conn.send("ready")
            await asyncio.sleep(seconds)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return results

    conn.send(asyncio.run(main()))


# ---- HTTP load -------------------------------------------------------------------------


async def http_load(base: str, seconds: float) -> tuple[list[float], int, dict[int, int]]:
    latencies: list[float] = []
    errors = 0
    codes: dict[int, int] = {}
    requests = [
        ("GET", "/playback/status", None),
        ("GET", "/tracks", None),
        ("PATCH", "/playback/tracks/t03/params", {"data": {"gain": 0.7}, "timing": {"type": "boundary", "unit": "beat"}}),
        ("GET", "/playback/changes/pending", None),
        ("POST", "/session/clients/bench/metadata", {"n": 1}),
        ("PATCH", "/playback/tracks/t05/params", {"pan": 0.4}),
    ]
    end = time.perf_counter() + seconds

    async def worker(i: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors
        k = i
        while time.perf_counter() < end:
            method, path, body = requests[k % len(requests)]
            k += 1
            t0 = time.perf_counter()
            try:
                async with session.request(method, base + path, json=body) as r:
                    await r.read()
                    codes[r.status] = codes.get(r.status, 0) + 1
            except aiohttp.ClientError:
                errors += 1
                continue
            latencies.append((time.perf_counter() - t0) * 1000)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CLIENTS)) as session:
        await asyncio.gather(*(worker(i, session) for i in range(CLIENTS)))
    return latencies, errors, codes


def run(seconds: float) -> dict:
    parent, child = mp.Pipe()
    udp = mp.Process(target=receiver, args=(child, None), daemon=True)
    udp.start()
    osc_port = parent.recv()
    api_port = free_port()
    tmp = Path(tempfile.mkdtemp())
    session = tmp / "session.json"
    body = session_body()
    body.pop("tracks_midi")
    body["sequences"].pop("keys")
    session.write_text(json.dumps(body))
    env = {**os.environ, "OIDUNA_ASSETS_DIR": str(tmp / "assets"), "OIDUNA_MIDI_API": "alsa"}
    server = subprocess.Popen(
        [sys.executable, "-m", "oiduna_nb.cli", "serve", "--port", str(api_port), "--osc-port", str(osc_port),
         "--session", str(session)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{api_port}"
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", api_port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        sse_parent, sse_child = mp.Pipe()
        sse = mp.Process(target=sse_process, args=(base + "/stream?types=position", SUBSCRIBERS, seconds + 2, sse_child), daemon=True)
        sse.start()
        assert sse_parent.recv() == "ready"
        time.sleep(1.0)  # all subscribers connected
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(base + "/playback/start", method="POST")).read()
        latencies, errors, codes = asyncio.run(http_load(base, seconds))
        sse_results = sse_parent.recv()
        urllib.request.urlopen(urllib.request.Request(base + "/playback/stop", method="POST")).read()
        sse.join(timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=20)
    time.sleep(0.3)
    parent.send("stop")
    packets, _ = parent.recv()
    udp.join(timeout=5)
    osc = analyse(packets, [], {"cpu_ns": 0, "steps": 1}, 0)

    # the time each step sounds, from the bundles (tick == loop step: the run is shorter than a loop)
    step_time = unix_step_map(packets)
    sounded = sorted(step_time)
    lags, complete = [], 0
    for received in sse_results:
        steps = [s for _, s in received]
        if steps[: len(sounded) - 2] == sounded[: len(sounded) - 2]:
            complete += 1  # every position event that sounded while it listened, in order
        lags += [(t - step_time[s]) / 1e6 for t, s in received if s in step_time]
    return {
        "requests": len(latencies),
        "rps": len(latencies) / seconds,
        "lat_p50": percentile(latencies, 50),
        "lat_p99": percentile(latencies, 99),
        "lat_max": max(latencies),
        "errors": errors,
        "codes": codes,
        "subscribers": len(sse_results),
        "complete": complete,
        "positions": len(sounded),
        "lag_p50": percentile(lags, 50),
        "lag_p99": percentile(lags, 99),
        "lag_max": max(lags),
        "osc": osc,
    }


def report(r: dict, seconds: float, command: str) -> str:
    o = r["osc"]
    return "\n".join([
        f"Command: `{command}`",
        "",
        f"`oiduna-nb serve` playing 16 OSC tracks with an event on every step at {BPM} bpm for {seconds:g} s; "
        f"{CLIENTS} concurrent HTTP clients (aiohttp, one process) cycling through GET /playback/status, GET /tracks, "
        f"GET /playback/changes/pending, PATCH track params (queued and immediate), POST client metadata; "
        f"{SUBSCRIBERS} SSE subscribers in another process; UDP receiver in a third. 2 cores for all of it.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| requests served | {r['requests']} ({r['rps']:.0f}/s), transport errors {r['errors']}, statuses {r['codes']} |",
        f"| request latency median / p99 / max | {r['lat_p50']:.1f} / {r['lat_p99']:.1f} / {r['lat_max']:.1f} ms |",
        f"| SSE subscribers that got every position event, in order | {r['complete']} of {r['subscribers']} ({r['positions']} steps) |",
        f"| position event lag behind the step's time, median / p99 / max | {r['lag_p50']:.1f} / {r['lag_p99']:.1f} / {r['lag_max']:.1f} ms |",
        f"| OSC bundles | {o['bundles']} |",
        f"| OSC timetag error median / p99 / max | {o['err_median_us']:.3f} / {o['err_p99_us']:.3f} / {o['err_max_us']:.3f} µs |",
        f"| OSC drift at end | {o['drift_us']:.3f} µs |",
        f"| OSC lead min / median | {o['lead_min_ms']:.1f} / {o['lead_median_ms']:.1f} ms |",
        f"| late bundles | {o['late']} |",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    command = "python bench/server_load.py" + (f" --seconds {args.seconds:g}" if args.seconds != 20 else "")
    result = run(args.seconds)
    text = report(result, args.seconds, command)
    print(text)
    if not args.no_write:
        write_section("Server under load", text)


if __name__ == "__main__":
    main()
