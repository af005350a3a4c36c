"""Heavy control-plane work while the music plays (issue 10, point 3): 0 late bundles wanted.

Each case gets a fresh ``oiduna-nb serve`` playing 16 OSC tracks with an event on every step at
140 bpm into a UDP receiver (another process; its buffer forced large, so a burst is kept):

(a) 4,096 changes queued through HTTP (PATCH track params, timing ``seq``: 16 connections)
    that all apply at the same boundary, which then passes;
(b) a ~660 KB session with 60,000 events on one step (step 0), posted over HTTP while
    playing (timing ``seq``, loop of 64 steps) and played: does step 0 go out, and when?
(c) 2,000 SSE subscribers connected (another process, its fd limit raised; the server raises
    its own) for ``--seconds`` while playing;
(d) ten ~0.9 MB session posts in a row (each waits for its reply; timing ``bar``) while playing.

Per case: late bundles and the worst lead (timetag - arrival) over the case's window (from
its first request to 2 s after its effect), and the case's own figures.

    PYTHONPATH=/work/main python bench/heavy_cases.py
    python bench/heavy_cases.py --cases a,c --seconds 5 --no-write
    python bench/heavy_cases.py --cases b,d --profile /tmp/prof --no-write   # py-spy the server
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The repository only as a fallback: PYTHONPATH (or the installed package) decides which
# oiduna_nb is measured, e.g. PYTHONPATH=/work/main.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from benchdoc import percentile, write_section  # noqa: E402
from measuring import hold_collections, run_client  # noqa: E402
from loadkit import (  # noqa: E402
    HttpConn,
    bundle_info,
    http,
    load_average,
    open_file_limit,
    open_subscribers,
    osc_session,
    request_bytes,
    start_ours,
    udp_receiver,
)
from server_load import commit_of_code, profile_summary  # noqa: E402

BPM = 140
STEP_S = 15 / BPM


def status(base: str) -> dict:
    return http(base, "GET", "/playback/status")[1]


def wait_for_tick(base: str, loop_steps: int, timeout: float = 60) -> None:
    """Until the loop has wrapped (the position went back), i.e. its boundary passed."""
    last = status(base)["position"]["step"]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        time.sleep(0.02)
        step = status(base)["position"]["step"]
        if step < last:
            return
        last = step
    raise TimeoutError("the loop did not wrap")


def wait_loop_start(base: str, within: int = 8) -> None:
    """Until the position is in the first ``within`` steps of the loop."""
    while status(base)["position"]["step"] >= within:
        time.sleep(0.01)


# ---- (a) 4,096 changes at one boundary -------------------------------------------------------


def case_a(base: str, port: int) -> dict:
    wait_loop_start(base)
    host = f"127.0.0.1:{port}"

    async def queue() -> tuple[dict[int, int], float]:
        conns = await asyncio.gather(*(HttpConn.open("127.0.0.1", port) for _ in range(16)))
        codes: dict[int, int] = {}
        t0 = time.perf_counter()

        async def client(c: int) -> None:
            for i in range(c, 4096, 16):
                body = json.dumps({"data": {"gain": round(0.5 + (i % 50) / 100, 2)},
                                   "timing": {"type": "boundary", "unit": "seq"}}).encode()
                st, _ = await conns[c].request(request_bytes("PATCH", f"/playback/tracks/t{i % 16:02d}/params", host, body))
                codes[st] = codes.get(st, 0) + 1

        await asyncio.gather(*(client(c) for c in range(16)))
        took = time.perf_counter() - t0
        for conn in conns:
            conn.close()
        return codes, took

    codes, took = asyncio.run(queue())
    pending = len(http(base, "GET", "/playback/changes/pending")[1]["pending"])
    wait_for_tick(base, 256)
    time.sleep(2.0)
    after = len(http(base, "GET", "/playback/changes/pending")[1]["pending"])
    return {"what": f"queued 4,096 changes in {took:.1f} s, statuses {codes}; pending before the boundary "
                    f"{pending}, after {after}", "boundary_every": 256}


# ---- (b) 60,000 events on one step ---------------------------------------------------------


def big_session() -> bytes:
    body = osc_session(loop_steps=64, timing="seq")
    for i in range(16):  # 3,750 more events on step 0 of each track: 60,000 on one step
        body["sequences"][f"t{i:02d}"]["events"] += [{"step": 0}] * 3750
    return json.dumps(body, separators=(",", ":")).encode()


def case_b(base: str, port: int) -> dict:
    raw = big_session()
    wait_loop_start(base, 16)  # the post lands well before the loop's boundary
    t0 = time.perf_counter()
    st, reply = http(base, "POST", "/playback/session", raw=raw, timeout=120)
    took = time.perf_counter() - t0
    wait_for_tick(base, 64)  # the swap
    wait_for_tick(base, 64)  # and step 0 once more
    time.sleep(2.0)
    return {"what": f"POST of {len(raw) / 1000:.0f} KB answered {st} in {took * 1000:.0f} ms "
                    f"({reply.get('message', reply) if isinstance(reply, dict) else reply})",
            "boundary_every": 64, "big_step": True}


# ---- (c) 2,000 SSE subscribers --------------------------------------------------------------


def subscribers_process(port: int, count: int, conn) -> None:
    hold_collections()
    import resource

    before = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    limit = f"{before} raised to {open_file_limit(count + 1024)}"

    async def main():
        t0 = time.perf_counter()
        subs = await open_subscribers("127.0.0.1", port, count, keep_positions=False)
        took = time.perf_counter() - t0
        conn.send(("ready", limit, took, sorted({s.status for s in subs}),
                   sum(s.status == 200 for s in subs)))
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        loop.add_reader(conn.fileno(), lambda: stop.done() or stop.set_result(None))
        await stop
        loop.remove_reader(conn.fileno())
        os.set_blocking(conn.fileno(), True)  # uvloop left it non-blocking: a big reply would fail
        conn.recv()
        still = sum(not s.closed for s in subs)
        events = sorted(s.result()["counts"]["position"] for s in subs)
        for s in subs:
            s.close()
        return still, events

    conn.send(("done", *run_client(main())))


def server_fd_limit(pid: int) -> str:
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                return line.split()[3]
    except OSError:
        pass
    return "?"


def case_c(base: str, port: int, seconds: float, server_pid: int, count: int = 2000) -> dict:
    parent, child = mp.Pipe()
    proc = mp.Process(target=subscribers_process, args=(port, count, child), daemon=True)
    proc.start()
    _, limit, took, statuses, ok = parent.recv()
    connected = time.time_ns()
    time.sleep(seconds)
    parent.send("stop")
    _, still, positions = parent.recv()
    proc.join(timeout=30)
    time.sleep(1.0)
    return {"what": f"{ok} of {count} subscribers connected in {took:.1f} s (statuses {statuses}), {still} still "
                    f"connected after {seconds:g} s; position events per subscriber min / median "
                    f"{positions[0] if positions else 0} / {positions[len(positions) // 2] if positions else 0}; "
                    f"open-file limit: client {limit}, server {server_fd_limit(server_pid)}",
            "split_at": (connected, "while connecting", "once connected")}


# ---- (d) ten 0.9 MB session posts -------------------------------------------------------------


def heavy_session(k: int) -> bytes:
    body = osc_session(timing="bar")
    for i in range(16):
        tid = f"t{i:02d}"
        body["tracks"][tid]["params"]["gain"] = round(0.7 + k / 100, 2)
        body["sequences"][tid]["events"] = [
            {"step": s, "velocity": 0.9, "note": 48 + (s + j) % 24, "gate": 0.5}
            for s in range(256) for j in range(5) if (s * 5 + j) % 22 < 20
        ]
    return json.dumps(body, separators=(",", ":")).encode()


def case_d(base: str, port: int) -> dict:
    bodies = [heavy_session(k) for k in range(10)]
    replies = []
    for raw in bodies:
        t0 = time.perf_counter()
        st, _ = http(base, "POST", "/playback/session", raw=raw, timeout=120)
        replies.append(((time.perf_counter() - t0) * 1000, st))
    time.sleep(2 * 16 * STEP_S + 2.0)  # the last one applies at a bar, then 2 s
    times = [ms for ms, _ in replies]
    return {"what": f"10 posts of {min(map(len, bodies)) / 1e6:.2f}–{max(map(len, bodies)) / 1e6:.2f} MB: statuses "
                    f"{sorted({st for _, st in replies})}, reply median {percentile(times, 50):.0f} ms, "
                    f"slowest {max(times):.0f} ms"}


def gil_holds() -> list[str]:
    """How long the single C calls behind a session post hold the GIL (none releases it): the
    metronome cannot run meanwhile. Measured here, in this process, best of 3."""
    from oiduna_nb.engine import Session

    rows = []
    for label, raw in (("(b) 60,000 events on one step", big_session()), ("(d) one 0.9 MB session", heavy_session(0))):
        best: dict[str, float] = {}
        for _ in range(3):
            t = time.perf_counter()
            body = json.loads(raw)
            t1 = time.perf_counter()
            session = Session.model_validate(body)
            t2 = time.perf_counter()
            dumped = session.model_dump(mode="json")
            t3 = time.perf_counter()
            json.dumps(dumped)
            t4 = time.perf_counter()
            for key, value in (("loads", t1 - t), ("validate", t2 - t1), ("dump", t3 - t2), ("dumps", t4 - t3)):
                best[key] = min(best.get(key, value), value)
        rows.append(f"| {label} ({len(raw) / 1000:.0f} KB) | {best['loads'] * 1000:.0f} | {best['validate'] * 1000:.0f} "
                    f"| {best['dump'] * 1000:.0f} | {best['dumps'] * 1000:.0f} |")
    return rows


CASES = {
    "a": "(a) 4,096 changes applying at one boundary",
    "b": "(b) 60,000 events on one step (~660 KB session), posted and played",
    "c": "(c) 2,000 SSE subscribers connected while playing",
    "d": "(d) ten ~0.9 MB session posts in a row while playing",
}


def run_case(key: str, seconds: float, profile: Path | None) -> dict:
    parent, child = mp.Pipe()
    udp = mp.Process(target=udp_receiver, args=(child,), daemon=True)
    udp.start()
    osc_port = parent.recv()
    load_avg = load_average()
    target = start_ours(osc_port)
    spy = None
    try:
        loop_steps = 64 if key == "b" else 256
        st, reply = http(target.base, "POST", "/playback/session", osc_session(loop_steps=loop_steps))
        assert st == 200, (st, reply)
        assert http(target.base, "POST", "/playback/start")[0] == 200
        time.sleep(1.0)
        if profile is not None:
            profile.mkdir(parents=True, exist_ok=True)
            spy = subprocess.Popen(["py-spy", "record", "--pid", str(target.pid), "--rate", "200", "--format", "raw",
                                    "--threads", "--gil", "-o", str(profile / f"heavy-{key}.txt")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.5)
        lo = time.time_ns()
        if key == "a":
            extra = case_a(target.base, target.port)
        elif key == "b":
            extra = case_b(target.base, target.port)
        elif key == "c":
            extra = case_c(target.base, target.port, seconds, target.pid)
        else:
            extra = case_d(target.base, target.port)
        hi = time.time_ns()
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        engine_late = status(target.base).get("errors")
        http(target.base, "POST", "/playback/pause")
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
        target.stop()
    time.sleep(0.3)
    parent.send("stop")
    packets, sock_info = parent.recv()
    udp.join(timeout=10)
    return analyse_case(key, packets, lo, hi, extra, load_avg, engine_late, sock_info)


def analyse_case(key: str, packets, lo: int, hi: int, extra: dict, load_avg: str, engine_errors,
                 sock_info: dict) -> dict:
    bundles = []
    for arrival, data in packets:
        info = bundle_info(data)
        if info is not None:
            bundles.append((info[0], info[1], info[2], arrival))
    window = [b for b in bundles if lo <= b[0] < hi]
    leads = [(tag - arrival) / 1e6 for tag, _, _, arrival in window]
    out = {"key": key, "label": CASES[key], "load_avg": load_avg, "bundles": len(window),
           "steps": len({tag for tag, *_ in window}), "late": sum(x < 0 for x in leads),
           "lead_min": min(leads) if leads else None, "lead_p50": percentile(leads, 50) if leads else None,
           "what": extra["what"], "rcvbuf": sock_info["rcvbuf"], "dropped": sock_info["dropped"],
           "engine_errors": engine_errors}
    split = extra.get("split_at")
    if split:
        parts = []
        for name, part in ((split[1], [b for b in window if b[0] < split[0]]),
                           (split[2], [b for b in window if b[0] >= split[0]])):
            part_leads = [(tag - arrival) / 1e6 for tag, _, _, arrival in part]
            parts.append(f"{name}: {sum(x < 0 for x in part_leads)} late of {len(part)}, lead min "
                         f"{min(part_leads):.1f} ms" if part_leads else f"{name}: no bundles")
        out["what"] += "; " + "; ".join(parts)
    # the steps at the boundaries the case waited for
    every = extra.get("boundary_every")
    if every:
        by_tick: dict[int, list] = {}
        for tag, tick, count, arrival in window:
            if tick > 0 and tick % every == 0:
                by_tick.setdefault(tick, []).append((tag, count, arrival))
        notes = []
        for tick in sorted(by_tick):
            parts = sorted(by_tick[tick], key=lambda p: p[2])
            first = (parts[0][0] - parts[0][2]) / 1e6
            last = (parts[-1][0] - parts[-1][2]) / 1e6
            notes.append(f"tick {tick}: {len(parts)} bundle(s), {sum(c for _, c, _ in parts)} messages, "
                         f"lead of the first / last to arrive {first:.1f} / {last:.1f} ms")
        out["boundaries"] = notes
    return out


def problems(errors) -> str:
    if not isinstance(errors, dict):
        return str(errors)
    shown = {k: v for k, v in errors.items() if v}
    return json.dumps(shown) if shown else "none"


def report(results: list[dict], seconds: float, command: str, commit: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        f"Code measured: {commit}. Each case on a fresh `oiduna-nb serve` playing 16 OSC tracks with an event on every "
        f"step at {BPM} bpm into a UDP receiver in another process (receive buffer "
        f"{results[0]['rcvbuf'] // (1 << 20) if results else 0} MB: as large as net.core.rmem_max lets it be, or "
        f"forced larger where allowed; datagrams the kernel dropped on it are counted); a case's window runs from its first request to "
        f"2 s after its effect. Lead = timetag − arrival: a bundle is late when it is negative.",
        "",
        "| case | load avg | what happened | bundles (steps) in the window | late bundles | lead min / median (ms) "
        "| boundary steps | datagrams dropped by the receiver's kernel | the engine's send problems (status) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lead = "–" if r["lead_min"] is None else f"{r['lead_min']:.1f} / {r['lead_p50']:.1f}"
        lines.append(f"| {r['label']} | {r['load_avg']} | {r['what']} | {r['bundles']} ({r['steps']}) | {r['late']} "
                     f"| {lead} | {'; '.join(r.get('boundaries', [])) or '–'} | {r['dropped']} | {problems(r['engine_errors'])} |")
    lines += ["", "Target: 0 late bundles in every case.", "",
              "Single calls that hold the GIL for their whole length (C code that never releases it), timed in the "
              "benchmark's own process, best of 3, in ms: the door parses (`json.loads`) and validates "
              "(`Session.model_validate`, pydantic-core) a posted session on the API thread; the autosave thread "
              "dumps it (`model_dump`, `json.dumps`). While one runs, no other thread runs, the metronome included.",
              "",
              "| body | json.loads | Session.model_validate | model_dump(mode='json') | json.dumps |",
              "|---|---|---|---|---|", *gil_holds()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="a,b,c,d", help="which cases, e.g. a,c")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long (c) keeps its subscribers connected")
    parser.add_argument("--profile", type=Path, help="py-spy the server during each case into this folder")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    keys = [k.strip() for k in args.cases.split(",") if k.strip()]
    command = "python bench/heavy_cases.py" + (f" --cases {args.cases}" if keys != list("abcd") else "") + (
        f" --seconds {args.seconds:g}" if args.seconds != 15 else "")
    commit = commit_of_code()
    print(f"measuring {commit}", flush=True)
    results = []
    for key in keys:
        print(f"{CASES[key]} (load average {load_average()}) ...", flush=True)
        results.append(run_case(key, args.seconds, args.profile))
        r = results[-1]
        print(f"  {r['what']}\n  late {r['late']} of {r['bundles']}, lead min {r['lead_min']}; "
              f"{r.get('boundaries', '')}", flush=True)
    text = report(results, args.seconds, command, commit)
    print()
    print(text)
    if args.profile is not None:
        for key in keys:
            path = args.profile / f"heavy-{key}.txt"
            if path.exists() and path.stat().st_size:
                print(f"\ntop self time, case ({key}) ({path}):\n{profile_summary(path)}")
    if not args.no_write and args.profile is None and keys == list("abcd"):
        write_section("Heavy control-plane work", text)


if __name__ == "__main__":
    main()
