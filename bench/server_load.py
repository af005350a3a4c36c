"""Server load benchmark (issue 10): our server and the original Oiduna, same script, same run.

Per target, five processes: the server (``oiduna-nb serve``, or the original's uvicorn)
playing 16 OSC tracks with an event on every step at 140 bpm into a UDP receiver (another
process, standing in for SuperDirt); 100 SSE subscribers reading every event type (no
``?types`` filter) in another process, each checking it got every position event in order
and measuring each position event's lag (arrival - the step's sound time: the bundle's
timetag for ours; for the original, which sends untimetagged messages at wake-up, the
arrival of the step's first message); and an HTTP load process cycling ``GET
/playback/status``, ``GET /tracks``, ``POST /tracks/{id}/mute`` (toggling) in three phases:

1. idle (SSE only, no HTTP load), a few seconds: the baseline;
2. open loop: a constant-rate schedule at ``--rate`` requests/s (default 200) over 50
   keep-alive connections; latency is measured from each request's *scheduled* send time,
   so queueing counts;
3. closed loop: 50 connections, each sending its next request when the last answered: req/s.

Late bundles and OSC timing come from the engine benchmark's ``analyse()`` (ours); the
original sends plain messages, so its figure is the arrival jitter against the step grid.
Every figure is reported per phase, with the CPU each process used. The clients run on
uvloop without cycle collections (``measuring.py``) and the subscribers keep what arrives,
reading it after the run: on a 2-core machine a client that parses as it goes takes the
server's CPU, and a late client counts as a slow server.

    PYTHONPATH=/work/main python bench/server_load.py                      # both, 20 s per mode
    python bench/server_load.py --target ours --seconds 5 --no-write
    python bench/server_load.py --runs 3                                   # ours, original, x3
    python bench/server_load.py --target ours --profile /tmp/prof --no-write   # py-spy, closed loop

The original is expected set up in ``$OIDUNA_ORIGINAL_DIR`` (default /work/peers/oiduna-original):
``src/`` a checkout of KengoTobita/oiduna at 6baf60a with the one-line ``GET /tracks`` fix
(routes/tracks.py: ``len(seq.events)`` -> ``len(seq)``), ``venv/`` a Python 3.13 venv with the
versions of its uv.lock (fastapi 0.128.0, uvicorn 0.40.0 without extras, starlette 0.50.0,
sse-starlette 3.2.0, pydantic 2.12.5, pydantic-settings 2.12.0, python-osc 1.9.3, ...). It runs
as ``python -m uvicorn oiduna_api.main:app`` (its ``__main__`` adds ``reload=True``, a file
watcher we leave out), access log on as shipped.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The repository only as a fallback: PYTHONPATH (or the installed package) decides which
# oiduna_nb is measured, e.g. PYTHONPATH=/work/main.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from benchdoc import percentile, write_section  # noqa: E402
from engine_timing import BPM, analyse, receiver  # noqa: E402
from measuring import hold_collections, run_client  # noqa: E402
from loadkit import (  # noqa: E402
    ORIGINAL_DIR,
    HttpConn,
    cpu_seconds,
    machine_cpu,
    machine_share,
    unread_bytes,
    http,
    load_average,
    open_subscribers,
    osc_session,
    request_bytes,
    start_target,
)

CLIENTS = 50
SUBSCRIBERS = 100
LOOP_STEPS = 256
STEP_NS = 15e9 / BPM
NTP_UNIX_OFFSET_S = 2208988800


# ---- SSE subscribers (their own process) -----------------------------------------------


def sse_process(port: int, count: int, conn) -> None:
    hold_collections()
    async def main() -> tuple[list[dict], list[tuple[int, int]]]:
        subs = await open_subscribers("127.0.0.1", port, count)
        conn.send(("ready", [s.status for s in subs]))
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        loop.add_reader(conn.fileno(), lambda: stop.done() or stop.set_result(None))
        socks = [s.transport.get_extra_info("socket") for s in subs]
        backlog = []  # (time, bytes unread in our own sockets): when large, the lag is ours
        while not stop.done():
            backlog.append((time.time_ns(), sum(unread_bytes(k) for k in socks)))
            await asyncio.wait([stop], timeout=0.1)
        loop.remove_reader(conn.fileno())
        os.set_blocking(conn.fileno(), True)  # uvloop left it non-blocking: a big reply would fail
        conn.recv()
        for s in subs:
            s.close()
        return [s.result() for s in subs], backlog

    conn.send(("done", run_client(main())))


# ---- HTTP load (its own process) ----------------------------------------------------------


def mix(port: int) -> list[tuple[str, bytes] | tuple[str, None]]:
    return [("status", request_bytes("GET", "/playback/status", f"127.0.0.1:{port}")),
            ("tracks", request_bytes("GET", "/tracks", f"127.0.0.1:{port}")),
            ("mute", None)]


def mute_request(port: int, track: str, muted: bool) -> bytes:
    body = b'{"muted": true}' if muted else b'{"muted": false}'
    return request_bytes("POST", f"/tracks/{track}/mute", f"127.0.0.1:{port}", body)


# Latency clock: uvloop's loop.time() counts whole milliseconds (libuv's), too coarse here.
now = time.perf_counter


class Tally:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {"status": [], "tracks": [], "mute": []}
        self.codes: dict[int, int] = {}
        self.errors = 0
        self.reconnects = 0
        self.send_late: list[float] = []

    async def send(self, conn: HttpConn, port: int, raw: bytes) -> tuple[HttpConn, int]:
        """As an HTTP client library does: a keep-alive connection the server has closed (uvicorn
        closes one idle for 5 s) is opened again and the request sent once more."""
        for attempt in (0, 1):
            if conn.closed:
                conn = await HttpConn.open("127.0.0.1", port)
                self.reconnects += 1
            try:
                status, _ = await conn.request(raw)
                return conn, status
            except ConnectionError:
                conn.closed = True
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def result(self, seconds: float) -> dict:
        every = [x for v in self.latencies.values() for x in v]
        return {"latencies": self.latencies, "all": every, "codes": self.codes, "errors": self.errors,
                "reconnects": self.reconnects,
                "completed": len(every), "rps": len(every) / seconds, "send_late": self.send_late}


async def closed_loop(port: int, conns: list[HttpConn], seconds: float) -> Tally:
    tally, kinds = Tally(), mix(port)
    end = now() + seconds

    async def client(i: int) -> None:
        conn = conns[i]
        track, muted, k = f"t{1 + i % 15:02d}", False, i
        while now() < end:
            kind, raw = kinds[k % 3]
            k += 1
            if raw is None:
                muted = not muted
                raw = mute_request(port, track, muted)
            t0 = now()
            try:
                conn, status = await tally.send(conn, port, raw)
            except ConnectionError:
                tally.errors += 1
                continue
            conns[i] = conn
            tally.latencies[kind].append((now() - t0) * 1000)
            tally.codes[status] = tally.codes.get(status, 0) + 1

    await asyncio.gather(*(client(i) for i in range(len(conns))))
    return tally


async def open_loop(port: int, conns: list[HttpConn], rate: float, seconds: float) -> Tally:
    """A constant-rate schedule; latency from each request's scheduled time (queueing counts)."""
    tally, kinds = Tally(), mix(port)
    loop = asyncio.get_running_loop()
    idle = list(conns)
    waiting: list[asyncio.Future] = []
    muted: dict[str, bool] = {}
    tasks = []

    async def one(k: int, scheduled: float) -> None:
        if idle:
            conn = idle.pop()
        else:
            w = loop.create_future()
            waiting.append(w)
            conn = await w
        kind, raw = kinds[k % 3]
        if raw is None:
            track = f"t{1 + (k // 3) % 15:02d}"
            muted[track] = not muted.get(track, False)
            raw = mute_request(port, track, muted[track])
        tally.send_late.append((now() - scheduled) * 1000)
        try:
            conn, status = await tally.send(conn, port, raw)
            tally.latencies[kind].append((now() - scheduled) * 1000)
            tally.codes[status] = tally.codes.get(status, 0) + 1
        except ConnectionError:
            tally.errors += 1
        if waiting:
            waiting.pop(0).set_result(conn)
        else:
            idle.append(conn)

    start = now() + 0.01
    total = int(rate * seconds)
    for k in range(total):
        scheduled = start + k / rate
        delay = scheduled - now()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(k, scheduled)))
    await asyncio.gather(*tasks)
    return tally


def load_process(port: int, phases: list[tuple[str, float]], rate: float, pids: dict[str, int], conn) -> None:
    hold_collections()
    async def main() -> dict:
        conns = list(await asyncio.gather(*(HttpConn.open("127.0.0.1", port) for _ in range(CLIENTS))))
        out = {}
        for name, seconds in phases:
            cpu0 = {k: cpu_seconds(p) for k, p in {**pids, "load": os.getpid()}.items()}
            machine0 = machine_cpu()
            t0, w0 = time.time_ns(), time.perf_counter()
            conn.send(("phase", name, seconds))
            if name == "idle":
                await asyncio.sleep(seconds)
                tally = Tally()
            elif name == "open":
                tally = await open_loop(port, conns, rate, seconds)
            else:
                tally = await closed_loop(port, conns, seconds)
            wall = time.perf_counter() - w0
            cpu1 = {k: cpu_seconds(p) for k, p in {**pids, "load": os.getpid()}.items()}
            out[name] = {**tally.result(wall), "start_ns": t0, "end_ns": time.time_ns(), "wall": wall,
                         "cpu": {k: (cpu1[k] - cpu0[k]) / wall for k in cpu0}, "load_avg": load_average(),
                         "machine": machine_share(machine0, machine_cpu())}
        for c in conns:
            c.close()
        return out

    conn.send(("done", run_client(main())))


# ---- OSC: what the UDP receiver got ---------------------------------------------------------


def osc_args(data: bytes) -> list:
    from pythonosc.osc_message import OscMessage

    return OscMessage(data).params


def sound_times(name: str, packets: list[tuple[int, bytes]]) -> list[tuple[int, int, int]]:
    """(loop step, sound time ns, arrival ns) of every step that went out, in order.

    Ours: one bundle per step, its timetag is the sound time. The original: plain
    ``/dirt/play`` messages sent at wake-up (SuperDirt plays them on arrival): a step's sound
    time is the arrival of its first message.
    """
    out: list[tuple[int, int, int]] = []
    if name == "ours":
        from pythonosc.osc_bundle import OscBundle

        for arrival, data in packets:
            if not data.startswith(b"#bundle"):
                continue
            (tag,) = struct.unpack(">Q", data[8:16])
            params = OscBundle(data).content(0).params
            tick = round(params[params.index("cycle") + 1] * 16)
            out.append((tick % LOOP_STEPS, round(tag * 1e9 / 2**32 - NTP_UNIX_OFFSET_S * 1e9), arrival))
        out.sort(key=lambda x: x[1])
        return out
    last_step, last_arrival = None, 0
    for arrival, data in packets:
        if not data.startswith(b"/dirt/play"):
            continue
        params = osc_args(data)
        step = round(params[params.index("cycle") + 1] * 16) % LOOP_STEPS
        if step == last_step and arrival - last_arrival < STEP_NS / 2:
            continue  # another track of the same step
        out.append((step, arrival, arrival))
        last_step, last_arrival = step, arrival
    return out


def original_jitter(steps: list[tuple[int, int, int]]) -> dict:
    """The original's timing: the error of each interval between two steps' first messages
    (what a listener hears as jitter; it sends at wake-up, without timetags)."""
    if len(steps) < 2:
        return {}
    errors, skipped = [], 0
    for (s0, _, a0), (s1, _, a1) in zip(steps, steps[1:]):
        gap = (s1 - s0) % LOOP_STEPS
        skipped += max(0, gap - 1)
        errors.append(abs(a1 - a0 - gap * STEP_NS) / 1e6)
    return {"steps": len(steps), "jitter_p50_ms": percentile(errors, 50), "jitter_p99_ms": percentile(errors, 99),
            "jitter_max_ms": max(errors), "skipped_steps": skipped}


def match_positions(positions: list[tuple[int, int]], by_step: dict[int, list[int]]) -> list[tuple[int, float]]:
    """Each position event (arrival, loop step) -> (its step's sound time, lag ms), by the
    nearest sound time of that loop step (loops are 27 s apart; a lag is well under that)."""
    out = []
    for arrival, step in positions:
        candidates = by_step.get(step)
        if not candidates:
            continue
        sound = min(candidates, key=lambda t: abs(arrival - t))
        out.append((sound, (arrival - sound) / 1e6))
    return out


# ---- one target ------------------------------------------------------------------------------


def run_target(name: str, seconds: float, idle: float, rate: float, subscribers: int,
               original_dir: Path, profile: Path | None) -> dict:
    parent, child = mp.Pipe()
    udp = mp.Process(target=receiver, args=(child, None), daemon=True)
    udp.start()
    osc_port = parent.recv()
    load_avg = load_average()
    target = start_target(name, osc_port, original_dir)
    spy = None
    try:
        status, reply = http(target.base, "POST", target.session_path, osc_session())
        assert status == 200, (status, reply)
        sse_parent, sse_child = mp.Pipe()
        sse = mp.Process(target=sse_process, args=(target.port, subscribers, sse_child), daemon=True)
        sse.start()
        kind, statuses = sse_parent.recv()
        time.sleep(0.5)
        status, reply = http(target.base, "POST", "/playback/start")
        assert status == 200, (status, reply)
        phases = [("idle", idle), ("open", seconds), ("closed", seconds)]
        pids = {"server": target.pid, "sse": sse.pid, "udp": udp.pid}
        load_parent, load_child = mp.Pipe()
        load = mp.Process(target=load_process, args=(target.port, phases, rate, pids, load_child), daemon=True)
        load.start()
        while True:
            msg = load_parent.recv()
            if msg[0] == "done":
                load_result = msg[1]
                break
            print(f"  {name}: {msg[1]} phase, {msg[2]:g} s", flush=True)
            if msg[1] == "closed" and profile is not None:
                profile.mkdir(parents=True, exist_ok=True)
                spy = subprocess.Popen(
                    ["py-spy", "record", "--pid", str(target.pid), "--duration", str(max(1, int(seconds) - 1)),
                     "--rate", "200", "--format", "raw", "--threads", "--gil", "-o", str(profile / f"{name}-closed.txt")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        load.join(timeout=10)
        # pause, not stop: a stop publishes the position it goes back to (step 0), which is no
        # step that sounded
        http(target.base, "POST", "/playback/pause")
        time.sleep(0.5)
        sse_parent.send("stop")
        kind, (sse_results, backlog) = sse_parent.recv()
        sse.join(timeout=10)
        if spy is not None:
            _, err = spy.communicate(timeout=60)
            if spy.returncode:
                print(f"  py-spy failed: {err.decode(errors='replace')[-500:]}", flush=True)
    finally:
        target.stop()
    drift_resets = target.log.read_text(errors="replace").count("Clock drift reset") if name == "original" else None
    time.sleep(0.3)
    parent.send("stop")
    packets, _ = parent.recv()
    udp.join(timeout=5)
    result = analyse_target(name, load_result, sse_results, statuses, packets, load_avg, backlog)
    result["drift_resets"] = drift_resets
    return result


def analyse_target(name: str, load: dict, sse: list[dict], statuses: list[int], packets, load_avg: str,
                   backlog: list[tuple[int, int]]) -> dict:
    steps = sound_times(name, packets)
    by_step: dict[int, list[int]] = {}
    for step, sound, _ in steps:
        by_step.setdefault(step, []).append(sound)
    publishes = (lambda s: True) if name == "ours" else (lambda s: s % 4 == 0)  # the original: every beat
    expected = [sound for step, sound, _ in steps if publishes(step)][:-2]  # the last may not sound before stop
    complete, lags, matched_all = 0, [], []
    for sub in sse:
        matched = match_positions(sub["positions"], by_step)
        matched_all.append(matched)
        lags += matched
        got = [s for s, _ in matched]
        complete += got[: len(expected)] == expected
    result = {"name": name, "load_avg": load_avg, "phases": {}, "subscribers": len(sse),
              "connected": sum(s == 200 for s in statuses), "complete": complete, "expected": len(expected),
              "published": len({s for m in matched_all for s, _ in m}),
              "events_per_sub": statistics.median(s["events"] for s in sse) if sse else 0,
              "events_total": sum(s["events"] for s in sse),
              "positions_total": sum(s["counts"]["position"] for s in sse),
              "id_gaps": sum(s["id_gaps"] > 0 for s in sse), "closed_early": sum(s["closed_early"] for s in sse),
              "steps": len(steps)}
    for phase, p in load.items():
        lo, hi = p["start_ns"], p["end_ns"]
        phase_lags = [lag for sound, lag in lags if lo <= sound < hi]
        r = {k: p[k] for k in ("completed", "rps", "codes", "errors", "reconnects", "wall", "cpu", "load_avg",
                                "machine")}
        unread = [b for t, b in backlog if lo <= t < hi]
        r["unread_max"] = max(unread) if unread else 0
        r["unread_mean"] = statistics.mean(unread) if unread else 0
        if p["all"]:
            r.update(lat_p50=percentile(p["all"], 50), lat_p99=percentile(p["all"], 99), lat_max=max(p["all"]))
            r["by_kind"] = {k: (percentile(v, 50), percentile(v, 99), max(v)) for k, v in p["latencies"].items() if v}
        if p["send_late"]:
            r["send_late_p99"] = percentile(p["send_late"], 99)
        if phase_lags:
            r.update(lag_p50=percentile(phase_lags, 50), lag_p99=percentile(phase_lags, 99), lag_max=max(phase_lags),
                     lag_n=len(phase_lags))
        in_phase = [(a, d) for a, d in packets if d.startswith(b"#bundle") and lo <= tag_unix(d) < hi]
        if name == "ours" and in_phase:
            r["osc"] = analyse(in_phase, [], {"cpu_ns": 0, "steps": 1}, 0)
        elif name == "original":
            r["osc"] = original_jitter([s for s in steps if lo <= s[1] < hi])
        result["phases"][phase] = r
    return result


def tag_unix(data: bytes) -> int:
    (tag,) = struct.unpack(">Q", data[8:16])
    return round(tag * 1e9 / 2**32 - NTP_UNIX_OFFSET_S * 1e9)


# ---- the report ------------------------------------------------------------------------------


def fmt(v, spec=".1f") -> str:
    return "–" if v is None else format(v, spec)


def triple(r: dict, key: str, spec=".1f") -> str:
    if f"{key}_p50" not in r:
        return "–"
    return f"{r[key + '_p50']:{spec}} / {r[key + '_p99']:{spec}} / {r[key + '_max']:{spec}}"


def osc_cell(name: str, r: dict) -> str:
    o = r.get("osc")
    if not o:
        return "–"
    if name == "ours":
        return f"{o['late']} late of {o['bundles']}; lead min {o['lead_min_ms']:.1f} ms; timetag error max {o['err_max_us']:.3f} µs"
    return (f"no timetags (plain messages at wake-up): step interval error p50 / p99 / max {o['jitter_p50_ms']:.1f} / "
            f"{o['jitter_p99_ms']:.1f} / {o['jitter_max_ms']:.1f} ms, {o['skipped_steps']} steps skipped")


def cpu_cell(r: dict) -> str:
    c, m = r["cpu"], r["machine"]
    return (" · ".join(f"{k} {100 * c[k]:.0f}%" for k in ("server", "sse", "load", "udp") if k in c)
            + f"; machine busy {m['busy']:.2f} of {os.cpu_count()} cores, stolen {m['steal']:.2f}")


def ratio(a, b, spec=".2f") -> str:
    return "–" if a is None or b in (None, 0) else f"{a / b:{spec}}×"


def run_table(runs: list[dict[str, dict]]) -> list[str]:
    lines = ["| run | load avg at start (ours; original) | closed-loop req/s ours | original | ratio "
             "| open-loop p99 ms ours | original | SSE position lag p99 ms ours (open; closed) "
             "| subscribers with every position event ours | original | late bundles ours |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, run in enumerate(runs, 1):
        o, g = run.get("ours"), run.get("original")

        def ph(r, phase, key):
            return r["phases"][phase].get(key) if r else None

        late = sum(p["osc"]["late"] for p in o["phases"].values() if p.get("osc")) if o else None
        lines.append(
            f"| {i} | {o['load_avg'] if o else '–'}; {g['load_avg'] if g else '–'} "
            f"| {fmt(ph(o, 'closed', 'rps'), '.0f')} | {fmt(ph(g, 'closed', 'rps'), '.0f')} "
            f"| {ratio(ph(o, 'closed', 'rps'), ph(g, 'closed', 'rps'))} "
            f"| {fmt(ph(o, 'open', 'lat_p99'))} | {fmt(ph(g, 'open', 'lat_p99'))} "
            f"| {fmt(ph(o, 'open', 'lag_p99'))}; {fmt(ph(o, 'closed', 'lag_p99'))} "
            f"| {o['complete'] if o else '–'} of {o['subscribers'] if o else '–'} "
            f"| {g['complete'] if g else '–'} of {g['subscribers'] if g else '–'} | {fmt(late, 'd')} |"
        )
    return lines


def detail_table(run: dict[str, dict]) -> list[str]:
    names = [n for n in ("ours", "original") if n in run]
    both = len(names) == 2
    head = "| figure | " + " | ".join(names) + (" | ours / original |" if both else " |")
    lines = [head, "|---" * (len(names) + 1 + both) + "|"]

    def row(label: str, cells: list[str], r: str = "") -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + (f" | {r} |" if both else " |"))

    def get(n, phase, key):
        return run[n]["phases"][phase].get(key)

    row("closed loop, 50 clients: req/s", [fmt(get(n, "closed", "rps"), ".0f") for n in names],
        ratio(*(get(n, "closed", "rps") for n in names)) if both else "")
    row("closed loop: latency p50 / p99 / max (ms)", [triple(run[n]["phases"]["closed"], "lat") for n in names])
    row("open loop at the offered rate: served req/s", [fmt(get(n, "open", "rps"), ".0f") for n in names])
    row("open loop: latency from the scheduled time p50 / p99 / max (ms)",
        [triple(run[n]["phases"]["open"], "lat") for n in names],
        ratio(*(get(n, "open", "lat_p99") for n in names)) + " (p99)" if both else "")
    for kind in ("status", "tracks", "mute"):
        row(f"open loop: {kind} p50 / p99 / max (ms)",
            ["{:.1f} / {:.1f} / {:.1f}".format(*run[n]["phases"]["open"]["by_kind"][kind])
             if kind in run[n]["phases"]["open"].get("by_kind", {}) else "–" for n in names])
    row("open loop: client send lateness p99 (ms)", [fmt(get(n, "open", "send_late_p99"), ".2f") for n in names])
    row("HTTP statuses (open; closed), transport errors, keep-alive connections reopened",
        [f"{run[n]['phases']['open']['codes']}; {run[n]['phases']['closed']['codes']}, "
         f"{run[n]['phases']['open']['errors'] + run[n]['phases']['closed']['errors']}, "
         f"{run[n]['phases']['open']['reconnects'] + run[n]['phases']['closed']['reconnects']}" for n in names])
    row("SSE subscribers connected (200)", [f"{run[n]['connected']} of {run[n]['subscribers']}" for n in names])
    row("SSE subscribers that got every position event, in order",
        [f"{run[n]['complete']} of {run[n]['subscribers']} ({run[n]['expected']} positions each)" for n in names])
    row("SSE: subscribers reached by each position event that sounded (mean)",
        [f"{run[n]['positions_total'] / max(1, run[n]['published']):.2f} of {run[n]['subscribers']}" for n in names])
    row("SSE events received per subscriber (median); all subscribers",
        [f"{run[n]['events_per_sub']:.0f}; {run[n]['events_total']}" for n in names])
    row("SSE subscribers with a gap in the event ids / closed by the server",
        [f"{run[n]['id_gaps']} / {run[n]['closed_early']}" if n == "ours" else f"no ids / {run[n]['closed_early']}"
         for n in names])
    for phase in ("idle", "open", "closed"):
        row(f"SSE position lag, {phase} phase, p50 / p99 / max (ms)",
            [triple(run[n]["phases"][phase], "lag") for n in names],
            ratio(*(get(n, phase, "lag_p99") for n in names)) + " (p99)" if both else "")
    for phase in ("idle", "open", "closed"):
        row(f"SSE bytes unread in the subscribers' own sockets, {phase} phase, mean / max (KB)",
            [f"{run[n]['phases'][phase]['unread_mean'] / 1000:.1f} / {run[n]['phases'][phase]['unread_max'] / 1000:.1f}"
             for n in names])
    for phase in ("idle", "open", "closed"):
        row(f"OSC, {phase} phase", [osc_cell(n, run[n]["phases"][phase]) for n in names])
    if "original" in run:
        row("the original's log: clock drift resets (it re-anchors its clock when 50 ms behind)",
            [str(run[n].get("drift_resets")) if n == "original" else "–" for n in names])
    for phase in ("idle", "open", "closed"):
        row(f"CPU (share of one core), {phase} phase", [cpu_cell(run[n]["phases"][phase]) for n in names])
    return lines


def report(runs: list[dict[str, dict]], args, command: str, commit: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        f"Code measured: {commit}. Machine: {os.cpu_count()} cores shared by every process below "
        f"(and by other work: the load average is given). Per target: the server playing 16 OSC tracks with an "
        f"event on every step at {BPM} bpm into a UDP receiver (another process); {args.subscribers} SSE subscribers "
        f"reading every event type (another process, raw asyncio on uvloop, keeping what arrives with its arrival "
        f"time and reading it after the run); HTTP load (another process, raw asyncio keep-alive connections on "
        f"uvloop, latencies by perf_counter) cycling GET /playback/status, GET /tracks, POST /tracks/{{id}}/mute (toggle): "
        f"{args.idle:g} s idle, then {args.seconds:g} s open loop at {args.rate:g} req/s offered over {CLIENTS} "
        f"connections (latency from the scheduled send time), then {args.seconds:g} s closed loop with {CLIENTS} "
        f"clients. The measuring processes run without cycle collections of their own (a full one would stamp "
        f"what arrives meanwhile late). Ours is `oiduna-nb serve`; the original is KengoTobita/oiduna 6baf60a under uvicorn "
        f"(one worker, no reload, its access log on), with the one-line GET /tracks fix. The original publishes a "
        f"position every beat (4 steps) into one shared queue, so each event reaches one subscriber; its sound "
        f"time is the arrival of a step's first message (it sends no timetags).",
        "",
    ]
    if len(runs) > 1:
        lines += run_table(runs) + [""]
        lines += [f"Details of run {len(runs)}:", ""]
    lines += detail_table(runs[-1])
    return "\n".join(lines)


def commit_of_code() -> str:
    import oiduna_nb

    root = Path(oiduna_nb.__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %s"], capture_output=True,
                              text=True, check=True).stdout.strip()
        diff = subprocess.run(["git", "-C", str(root), "diff", "HEAD", "--", "oiduna_nb"], capture_output=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return f"oiduna_nb from {root}"
    import hashlib

    dirty = f" + uncommitted changes in oiduna_nb/ (diff sha1 {hashlib.sha1(diff).hexdigest()[:10]})" if diff else ""
    return f"oiduna_nb from {root} at {head[:72]}{dirty}"


def profile_summary(path: Path, top: int = 12, threads: int = 4) -> str:
    """A py-spy raw (collapsed-stack, ``--threads --gil``) file: each thread's share of the
    samples, and its top self-time functions (leaf frames). Recorded with ``--gil``, a sample is
    the thread that holds the GIL: the Python work that competes with the metronome and with
    every request (a thread waiting on a lock, a queue or a socket holds no GIL and is left out)."""
    per_thread: dict[str, dict[str, int]] = {}
    counts: dict[str, int] = {}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        thread = frames[0].split(": ", 1)[-1] if frames[0].startswith("thread") else "?"
        leaf = frames[-1]
        if " (" in leaf:
            leaf = leaf.split(" (")[0] + " (" + leaf.split(" (", 1)[1].rsplit(":", 1)[0].rstrip(")") + ")"
        n = int(count)
        counts[thread] = counts.get(thread, 0) + n
        fns = per_thread.setdefault(thread, {})
        fns[leaf] = fns.get(leaf, 0) + n
    total = sum(counts.values()) or 1
    lines = []
    for thread, n in sorted(counts.items(), key=lambda kv: -kv[1])[:threads]:
        lines.append(f"thread {thread}: {100 * n / total:.1f}% of the samples; top self time:")
        for fn, k in sorted(per_thread[thread].items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"  {100 * k / total:5.1f}%  {fn}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each load phase (open, closed)")
    parser.add_argument("--idle", type=float, default=3.0, help="length of the idle phase (SSE only)")
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop offered rate, requests/s")
    parser.add_argument("--subscribers", type=int, default=SUBSCRIBERS)
    parser.add_argument("--target", choices=["ours", "original", "both"], default="both")
    parser.add_argument("--runs", type=int, default=1, help="repeat (ours then original) this many times")
    parser.add_argument("--original-dir", type=Path, default=ORIGINAL_DIR)
    parser.add_argument("--profile", type=Path, help="py-spy the server during each closed loop into this folder")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    command = "python bench/server_load.py" + "".join(
        f" --{k.replace('_', '-')} {v:g}" for k, v, d in
        (("seconds", args.seconds, 20), ("idle", args.idle, 3), ("rate", args.rate, 200),
         ("subscribers", args.subscribers, SUBSCRIBERS), ("runs", args.runs, 1)) if v != d)
    if args.target != "both":
        command += f" --target {args.target}"
    names = ["ours", "original"] if args.target == "both" else [args.target]
    commit = commit_of_code()
    print(f"measuring {commit}", flush=True)
    runs = []
    for i in range(args.runs):
        run = {}
        for name in names:
            print(f"run {i + 1}: {name} (load average {load_average()}) ...", flush=True)
            run[name] = run_target(name, args.seconds, args.idle, args.rate, args.subscribers, args.original_dir,
                                   args.profile)
        runs.append(run)
        print("\n".join(detail_table(run)), flush=True)
    text = report(runs, args, command, commit)
    print()
    print(text)
    if args.profile is not None:
        for name in names:
            path = args.profile / f"{name}-closed.txt"
            if path.exists():
                print(f"\ntop self time, {name}, closed loop ({path}):\n{profile_summary(path)}")
    if not args.no_write and args.profile is None:
        write_section("Server under load", text)


if __name__ == "__main__":
    main()
