"""MIDI timing: where notes land, against the frame their intended time falls on.

One JACK receiver (its own process) stamps every message with its frame
(``last_frame_time + offset`` in its process callback) and keeps that cycle's JACK time
base, so each note-on's error is measured in frames against the frame of its intended
time (plus the sender's stated latency). Senders, each in its own process, one after the
other, 16ths at 120 bpm (a note-on every 125 ms, note-offs after half a step):

- oiduna_nb, JACK timestamped path (``OIDUNA_MIDI_API=jack``),
- oiduna_nb, rtmidi fallback (``rtmidi-jack``: rtmidi's JACK API, sent at due time),
- Sardine 0.4 (``sardine-system`` from PyPI in its own venv under ~/.cache/oiduna-bench),
- a naive thread that sleeps until each note and sends it through python-rtmidi.

For JACK periods 64/256/1024 frames at 48 kHz (dummy driver), realtime (``jackd -R``) and
not, with the machine idle, with two busy processes, and with a busy pure-Python loop in
the sender's own process (a notebook cell running).

    python bench/midi_timing.py                      # 20 s per sender, writes docs/benchmarks.md
    python bench/midi_timing.py --seconds 5 --periods 256 --no-write
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from benchdoc import percentile, write_section  # noqa: E402

RX_CLIENT, RX_PORT = "benchrx", "benchrx:in"
STEP_NS = 125_000_000  # a 16th at 120 bpm
GOOD_BRACKET_NS = 20_000  # a clock comparison bracketed tighter than this was not preempted
SARDINE_VENV = Path.home() / ".cache" / "oiduna-bench" / "sardine"
RAW = Path.home() / ".cache" / "oiduna-bench" / "midi_timing_raw.json"
BASELINE = "nothing (the receiver alone)"
SENDERS = (BASELINE, "oiduna_nb JACK timestamped", "oiduna_nb rtmidi fallback", "Sardine 0.4", "naive sleep-and-send thread")
LOADS = ("idle", "two busy processes", "busy cell in the sender")


# ---- the receiver (its own process) ----------------------------------------------------


def receiver(conn, server: str) -> None:
    import cffi
    import jack

    os.environ["JACK_DEFAULT_SERVER"] = server
    deadline = time.monotonic() + 30
    while True:  # the server may take a while to accept clients
        try:
            client = jack.Client(RX_CLIENT, no_start_server=True, use_exact_name=True)
            break
        except jack.JackError:
            if time.monotonic() > deadline:
                conn.send("no server")
                return
            time.sleep(0.2)
    ffi = cffi.FFI()
    ffi.cdef(
        "uint64_t jack_get_time(void); int jack_get_cycle_times(const void *c, uint32_t *f, uint64_t *u,"
        " uint64_t *n, float *p);"
    )
    lib = ffi.dlopen(getattr(jack, "_libname", None) or "libjack.so.0")
    handle = ffi.cast("void *", int(jack._ffi.cast("uintptr_t", client._ptr)))
    f, u, n, p = ffi.new("uint32_t *"), ffi.new("uint64_t *"), ffi.new("uint64_t *"), ffi.new("float *")
    port = client.midi_inports.register("in")
    state = {"arrivals": [], "xruns": 0}

    def process(frames: int) -> None:
        events = [(offset, bytes(data)) for offset, data in port.incoming_midi_events()]
        if not events:
            return
        lib.jack_get_cycle_times(handle, f, u, n, p)
        a = time.monotonic_ns()
        j = lib.jack_get_time()
        b = time.monotonic_ns()
        start = client.last_frame_time
        for offset, data in events:
            # frame, bytes, cycle start frame, its start and next start (µs), nframes, jack − mono (ns), bracket
            state["arrivals"].append((start + offset, data, start, u[0], n[0], frames, j * 1000 + 500 - (a + b) // 2, b - a))

    def xrun(delay: float) -> None:
        state["xruns"] += 1

    client.set_process_callback(process)
    client.set_xrun_callback(xrun)
    client.activate()
    conn.send({"realtime": client.realtime, "blocksize": client.blocksize, "rate": client.samplerate})
    while True:
        command = conn.recv()
        if command == "reset":
            state["arrivals"], state["xruns"] = [], 0
            conn.send("ok")
        elif command == "collect":
            conn.send((state["arrivals"], state["xruns"]))
        else:
            break
    client.deactivate()
    client.close()


# ---- the senders (each its own process: python bench/midi_timing.py --sender ...) ---------


def spin_for(seconds: float) -> None:
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:  # a notebook cell busy in pure Python, holding the GIL
        x += 1


def engine_sender(api: str, seconds: float, busy: bool) -> dict:
    from oiduna_nb.engine import Engine, EngineConfig, Session

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # OSC goes here, unread
    sink.bind(("127.0.0.1", 0))
    engine = Engine(EngineConfig(osc_port=sink.getsockname()[1], midi_api=api, midi_port=RX_PORT))
    status = engine.midi_status()
    if not status["available"] or status["port"] != RX_PORT:
        engine.close()
        raise SystemExit(f"MIDI not ready: {status}")
    metronome, wakes, expected = engine.metronome, [], [None]
    run_due = metronome.run_due

    def timed_run_due(now_ns: int):  # the wake-up error: woken at now for what was due at expected
        if expected[0] is not None and now_ns >= expected[0]:
            wakes.append(now_ns - expected[0])
        expected[0] = run_due(now_ns)
        return expected[0]

    metronome.run_due = timed_run_due
    body = {
        "environment": {"bpm": 120, "loop_steps": 16},
        "tracks_midi": {"keys": {"track_id": "keys", "channel": 0, "velocity": 100}},
        "sequences": {"keys": {"track_id": "keys", "events": [{"step": s, "note": 60 + s, "gate": 0.5} for s in range(16)]}},
        "apply": {"timing": "now"},
    }
    engine.load_session(Session.model_validate(body))
    engine.start()
    timeline = engine.player.timeline
    (spin_for if busy else time.sleep)(seconds)
    engine.pause()
    time.sleep(engine.player.lookahead_ns / 1e9 + 0.3)  # the notes already queued still play
    steps = metronome.stats["steps"]
    status = engine.midi_status()
    engine.close()
    return {
        "intended": [timeline.time_ns(k, k % 16) for k in range(steps)],
        "notes": [60 + k % 16 for k in range(steps)],
        "wakes": wakes,
        "latency_ns": round(status["latency_ms"] * 1e6) if status["timestamped"] else 0,
        "late": status.get("late"),
        "sender_xruns": status.get("xruns"),
        "thread": status["thread"],
    }


def naive_sender(seconds: float, busy: bool) -> dict:
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="naive")
    out.open_port(out.get_ports().index(RX_PORT))
    t0 = time.monotonic_ns() + 300_000_000
    count = int(seconds * 1e9 // STEP_NS)
    intended, wakes = [t0 + k * STEP_NS for k in range(count)], []

    def play() -> None:
        for k, t in enumerate(intended):
            for at, message in ((t, [0x90, 60 + k % 16, 100]), (t + STEP_NS // 2, [0x80, 60 + k % 16, 0])):
                delay = at - time.monotonic_ns()
                if delay > 0:
                    time.sleep(delay / 1e9)
                if message[0] == 0x90:
                    wakes.append(time.monotonic_ns() - at)
                out.send_message(message)

    thread = threading.Thread(target=play)
    thread.start()
    if busy:
        spin_for(seconds)
    thread.join()
    time.sleep(0.2)
    out.delete()
    return {"intended": intended, "notes": [60 + k % 16 for k in range(count)], "wakes": wakes, "latency_ns": 0}


def sardine_sender(seconds: float, busy: bool, server: str) -> dict:
    python = SARDINE_VENV / "bin" / "python"
    if not python.exists():
        return {"error": f"Sardine is not installed: {python} (python -m venv {SARDINE_VENV} && "
                         f"{SARDINE_VENV}/bin/pip install sardine-system==0.4.0)"}
    args = [str(python), str(HERE / "sardine_sender.py"), RX_PORT, str(seconds)] + (["--busy-cell"] if busy else [])
    env = {**os.environ, "JACK_DEFAULT_SERVER": server, "JACK_NO_START_SERVER": "1"}
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=seconds + 120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        return {"error": f"Sardine failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"}
    result = json.loads(lines[-1])
    result["wakes"] = [s - t for s, t in zip(result["sent"], result["intended"])]
    result["notes"] = [60 + k % 16 for k in range(len(result["intended"]))]
    return result


def run_sender(name: str, server: str, seconds: float, busy: bool) -> dict:
    if name == BASELINE:  # how many xruns the server, the receiver and the load make by themselves
        (spin_for if busy else time.sleep)(seconds)
        return {"baseline": True}
    if name == "Sardine 0.4":
        return sardine_sender(seconds, busy, server)
    kind = {"oiduna_nb JACK timestamped": "jack", "oiduna_nb rtmidi fallback": "rtmidi-jack",
            "naive sleep-and-send thread": "naive"}[name]
    args = [sys.executable, str(Path(__file__).resolve()), "--sender", kind, "--seconds", str(seconds)]
    env = {**os.environ, "JACK_DEFAULT_SERVER": server, "JACK_NO_START_SERVER": "1",
           "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(args + (["--busy"] if busy else []), capture_output=True, text=True, env=env,
                          timeout=seconds + 120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        return {"error": f"{name} failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"}
    return json.loads(lines[-1])


# ---- analysis ------------------------------------------------------------------------------


def match(ons: list, sent: dict) -> list[tuple]:
    """Pair each note-on that arrived with the note it was: the same note number, intended
    nearest to when it came (a lost note leaves a gap, never a shift)."""
    frame_time = lambda a: a[3] * 1000 + (a[0] - a[2]) * (a[4] - a[3]) * 1000 / a[5] - a[6]  # noqa: E731
    wanted = sorted(zip(sent["intended"], sent["notes"]))
    pairs, used = [], set()
    for arrival in ons:
        arrived = frame_time(arrival)
        best = min(
            ((abs(arrived - t), k) for k, (t, n) in enumerate(wanted) if n == arrival[1][1] and k not in used),
            default=None,
        )
        if best is not None and best[0] < 8 * STEP_NS / 2:
            used.add(best[1])
            pairs.append((arrival, wanted[best[1]][0]))
    return sorted(pairs, key=lambda pair: pair[1])


def analyse(sent: dict, arrivals: list, xruns: int) -> dict:
    if "error" in sent:
        return {"error": sent["error"], "xruns": xruns}
    if "baseline" in sent:
        return {"baseline": True, "xruns": xruns}
    ons = [a for a in arrivals if a[1][0] & 0xF0 == 0x90 and a[1][2] > 0]
    latency = sent["latency_ns"]
    pairs = match(ons, sent)
    # JACK's clock minus ours, as the receiver measured it; a measurement whose bracket was
    # preempted (wide) is replaced by the run's median (the offset drifts by ppm only)
    good = sorted(a[6] for a in ons if a[7] < GOOD_BRACKET_NS)
    median_offset = good[len(good) // 2] if good else None
    errors = []
    for arrival, intended in pairs:
        frame, data, cycle_frame, usecs, next_usecs, nframes, to_jack, bracket = arrival
        if bracket >= GOOD_BRACKET_NS and median_offset is not None:
            to_jack = median_offset
        span_ns = (next_usecs - usecs) * 1000
        meant = cycle_frame + (intended + latency + to_jack - usecs * 1000) * nframes / span_ns
        errors.append((frame - meant) * span_ns / nframes)  # ns, on JACK's own time base
    spacing = [abs(b - a) for a, b in zip(errors, errors[1:])]
    ms = lambda values, pct: percentile(values, pct) / 1e6 if values else float("nan")  # noqa: E731
    wakes = sent.get("wakes") or []
    return {
        "notes": f"{len(pairs)}/{len(sent['intended'])}" + (f", {len(ons) - len(pairs)} unmatched" if len(ons) > len(pairs) else ""),
        "latency_ms": latency / 1e6,
        "err": (ms(errors, 50), ms(errors, 99), max(errors) / 1e6 if errors else float("nan")),
        "err_abs_p99": ms([abs(e) for e in errors], 99),
        "spacing_p99": ms(spacing, 99),
        "wake": (ms(wakes, 50), ms(wakes, 99), max(wakes) / 1e6 if wakes else float("nan")),
        "xruns": xruns,
        "late": sent.get("late"),
        "thread": sent.get("thread"),
    }


# ---- the run ---------------------------------------------------------------------------------


def start_jackd(period: int, realtime: bool, log: Path) -> tuple[subprocess.Popen, str]:
    name = f"oiduna-midibench-{uuid.uuid4().hex[:6]}"
    mode = ["-R"] if realtime else ["--no-realtime"]
    with log.open("w") as out:  # jackd says which client was late at each xrun
        proc = subprocess.Popen(
            [shutil.which("jackd"), "-n", name, *mode, "-d", "dummy", "-r", "48000", "-p", str(period)],
            stdout=out, stderr=subprocess.STDOUT,
        )
    return proc, name


LATE_CLIENT = re.compile(r"JackEngine::XRun: client = (.+?) was not finished")


def late_clients(text: str) -> dict[str, int]:
    """How often jackd found each client unfinished at the end of a cycle."""
    counts: dict[str, int] = {}
    for name in LATE_CLIENT.findall(text):
        counts[name] = counts.get(name, 0) + 1
    return counts


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_config(
    period: int, realtime: bool, loads: list[str], senders: list[str], seconds: float, raw: list
) -> dict:
    log = Path(tempfile.mkdtemp(prefix="midibench-")) / "jackd.log"
    jackd, server = start_jackd(period, realtime, log)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    rx = ctx.Process(target=receiver, args=(child, server), daemon=True)
    rx.start()
    info = parent.recv()
    results = {}
    try:
        if info == "no server":
            raise RuntimeError(f"jackd ({period}, realtime={realtime}) did not start")
        print(f"JACK period {period}, realtime={info['realtime']}", flush=True)
        for load in loads:
            hogs = []
            if load == "two busy processes":
                hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
            try:
                for sender in senders:
                    parent.send("reset")
                    parent.recv()
                    log_from = log.stat().st_size
                    sent = run_sender(sender, server, seconds, busy=load == "busy cell in the sender")
                    parent.send("collect")
                    arrivals, xruns = parent.recv()
                    with log.open() as text:
                        text.seek(log_from)
                        late = late_clients(text.read())
                    raw.append({"period": period, "realtime": realtime, "load": load, "sender": sender,
                                "sent": sent, "arrivals": [[a[0], list(a[1]), *a[2:]] for a in arrivals],
                                "xruns": xruns, "late_clients": late})
                    results[(load, sender)] = analyse(sent, arrivals, xruns)
                    results[(load, sender)]["sender_late"] = sum(n for c, n in late.items() if c != RX_CLIENT)
                    print(f"  {load:26} {sender:30} {results[(load, sender)]}", flush=True)
            finally:
                for hog in hogs:
                    stop(hog)
    finally:
        parent.send("quit")
        rx.join(timeout=10)
        stop(jackd)
    return results


def f3(values) -> str:
    return " / ".join(f"{v:.3f}" for v in values)


def report(all_results: dict, seconds: float, command: str, load_before: str, load_after: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}; "
        f"load average before the run {load_before}, after {load_after}. Dummy JACK server at 48 kHz; "
        f"16ths at 120 bpm, {seconds:g} s per sender, one sender at a time into one receiver.",
        "",
        "| JACK period, mode | load | sender | stated latency (ms) | note-on error vs intended frame p50 / p99 / max (ms) "
        "| spacing error p99 (ms) | wake-up error p50 / p99 / max (ms) | xruns (sender's) | notes received |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (period, realtime), results in all_results.items():
        for (load, sender), r in results.items():
            config = f"{period}, {'realtime' if realtime else 'not realtime'}"
            if "baseline" in r:
                lines.append(f"| {config} | {load} | {sender} | | | | | {r['xruns']} (0) | |")
                continue
            if "error" in r:
                lines.append(f"| {config} | {load} | {sender} | | {r['error']} | | | {r['xruns']} ({r['sender_late']}) | |")
                continue
            late = f" ({r['late']} late)" if r.get("late") else ""
            lines.append(
                f"| {config} | {load} | {sender} | {r['latency_ms']:.2f} | {f3(r['err'])} | {r['spacing_p99']:.3f} "
                f"| {f3(r['wake'])} | {r['xruns']} ({r['sender_late']}) | {r['notes']}{late} |"
            )
    lines += [
        "",
        "Note-on error: the frame a note-on arrived on minus the frame JACK's time base (the receiver's "
        "`jack_get_cycle_times` in that cycle) gives its intended time plus the sender's stated latency, in ms. "
        "Only the JACK path states a latency (max(`midi_latency`, one period)); the others send when due, so their "
        "error is their lateness: the thread's wake-up, then the wait for the next JACK cycle (rtmidi writes at "
        "offset 0 of the cycle after the send). Spacing error: the change of that error from one note to the next "
        "(a constant latency does not count). Wake-up error: how late the sending thread ran its work "
        "(the metronome's wake-up for its due time; for Sardine, the note-on handed to mido after its deadline). "
        "xruns: counted by the receiver's JACK client during that sender's run; in brackets, how many of them "
        "jackd blamed on the sender's own client (`client = ... was not finished`): the ones the sender caused. "
        "The row `nothing (the receiver alone)` counts the xruns the server, the receiver and the load make by "
        "themselves in as long a run.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--periods", default="64,256,1024")
    parser.add_argument("--modes", default="realtime,not", help="realtime,not")
    parser.add_argument("--loads", default=",".join(LOADS))
    parser.add_argument("--senders", default=",".join(SENDERS))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--title", default="MIDI timing", help="the section of docs/benchmarks.md to write")
    parser.add_argument("--sender", help=argparse.SUPPRESS)  # internal: run one sender in this process
    parser.add_argument("--busy", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sender:
        result = naive_sender(args.seconds, args.busy) if args.sender == "naive" else engine_sender(
            args.sender, args.seconds, args.busy)
        print(json.dumps(result), flush=True)
        os._exit(0)
    command = "python " + " ".join(["bench/midi_timing.py", *(f"'{a}'" if " " in a else a for a in sys.argv[1:])])
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    all_results, raw = {}, []
    for period in [int(p) for p in args.periods.split(",")]:
        for mode in args.modes.split(","):
            all_results[(period, mode == "realtime")] = run_config(
                period, mode == "realtime", args.loads.split(","), args.senders.split(","), args.seconds, raw)
    RAW.parent.mkdir(parents=True, exist_ok=True)
    RAW.write_text(json.dumps(raw))  # every arrival and intended time, to analyse again
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = report(all_results, args.seconds, command, load_before, load_after)
    print()
    print(text)
    if not args.no_write:
        write_section(args.title, text)


if __name__ == "__main__":
    main()
