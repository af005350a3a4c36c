"""Engine timing benchmark: 16 tracks at 140 bpm into a UDP receiver in another process.

Three runs, with the thread that owns the engine's asyncio loop (the kernel's, in
Jupyter) idle, busy in a pure-Python loop, and blocked in ``time.sleep(2)``:

- timetag error against the ideal grid (median, p99, max) and drift at the end,
- lead time (timetag - arrival) min/median, and late bundles (arrival after timetag),
- metronome CPU per step,
- MIDI note-on lateness (arrival at a JACK input - the step's time) when jackd exists.

    python bench/engine_timing.py                 # 60 s per run, writes docs/benchmarks.md
    python bench/engine_timing.py --seconds 10 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import platform
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import uuid
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The repository only as a fallback: PYTHONPATH (or the installed package) decides which
# oiduna_nb is measured, e.g. PYTHONPATH=/work/main.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from benchdoc import percentile, write_section  # noqa: E402
from measuring import hold_collections  # noqa: E402

from oiduna_nb.engine import Engine, EngineConfig, Session  # noqa: E402
from oiduna_nb.engine.outputs.osc import NTP_UNIX_OFFSET_S, timetag_to_unix_ns  # noqa: E402

BPM = 140
TRACKS = 16


def session_body() -> dict:
    tracks, sequences = {}, {}
    for i in range(TRACKS):
        tid = f"t{i:02d}"
        tracks[tid] = {"meta": {"track_id": tid}, "params": {"s": "bd", "n": i, "orbit": i % 12, "gain": 0.8}}
        sequences[tid] = {"track_id": tid, "events": [{"step": s, "velocity": 0.9} for s in range(256)]}
    tracks_midi = {"keys": {"track_id": "keys", "channel": 0}}
    sequences["keys"] = {"track_id": "keys", "events": [{"step": s, "note": 60 + s % 12, "gate": 1} for s in range(0, 256, 4)]}
    return {
        "environment": {"bpm": BPM},
        "tracks": tracks,
        "tracks_midi": tracks_midi,
        "sequences": sequences,
        "apply": {"timing": "now"},
    }


# ---- the receiver process ---------------------------------------------------------------


def receiver(conn, jack_name: str | None) -> None:
    hold_collections()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    midi_in, midi_arrivals = None, []
    if jack_name:
        os.environ["JACK_DEFAULT_SERVER"] = jack_name
        import rtmidi

        midi_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="benchsink", queue_size_limit=4096)
        midi_in.open_virtual_port("in")

        def poll() -> None:  # not a callback: a Python callback would run in JACK's process thread
            while not done.is_set():  # and wait there for this process's GIL, stalling the server
                while (event := midi_in.get_message()) is not None:
                    midi_arrivals.append((time.time_ns(), event[0]))
                time.sleep(0.0005)

        done = threading.Event()
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
    conn.send(sock.getsockname()[1])
    packets = []
    while not conn.poll():
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        packets.append((time.time_ns(), data))
    conn.recv()
    if midi_in is not None:
        done.set()
        poller.join()
    conn.send((packets, midi_arrivals))
    if midi_in is not None:
        midi_in.close_port()


# ---- the three ways the loop thread behaves -----------------------------------------------


async def idle(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:  # a running cell: pure Python, holds the GIL
        x += 1


async def blocked(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        time.sleep(2)  # a cell in time.sleep(2): the loop is blocked
        await asyncio.sleep(0)


SCENARIOS = {"idle": idle, "busy (pure-Python loop)": busy, "blocked (time.sleep(2))": blocked}


def run_scenario(name: str, seconds: float, jack_name: str | None) -> dict:
    parent, child = mp.Pipe()
    proc = mp.Process(target=receiver, args=(child, jack_name), daemon=True)
    proc.start()
    port = parent.recv()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    midi_api = "jack" if jack_name else "alsa"
    engine = Engine(EngineConfig(osc_port=port, midi_api=midi_api, midi_port="benchsink:in" if jack_name else None))
    positions = []

    async def main():
        sub = engine.bus.subscribe()  # position events flow into this loop, as to a notebook

        async def listen():
            async for event in sub:
                if event.type == "position":
                    positions.append(event.data["step"])

        task = asyncio.ensure_future(listen())
        engine.load_session(Session.model_validate(session_body()))
        engine.start()
        await SCENARIOS[name](seconds)
        engine.pause()
        await asyncio.sleep(0.3)  # let the last sent steps sound
        sub.close()
        await task

    loop.run_until_complete(main())
    stats = dict(engine.metronome.stats)
    engine.close()
    loop.close()
    parent.send("stop")
    packets, midi_arrivals = parent.recv()
    proc.join(timeout=5)
    return analyse(packets, midi_arrivals, stats, len(positions))


def analyse(packets, midi_arrivals, stats, position_events) -> dict:
    step_ns = Fraction(15 * 10**9, BPM)
    packets = [(a, d) for a, d in packets if d.startswith(b"#bundle")]  # not the handshake
    tags = []
    for arrival, data in packets:
        (tag,) = struct.unpack(">Q", data[8:16])
        tags.append((tag, arrival))
    tags.sort()
    def unix_ns(tag: int) -> Fraction:
        return Fraction(tag * 10**9, 2**32) - NTP_UNIX_OFFSET_S * 10**9

    first_unix = unix_ns(tags[0][0])
    errors, leads, late = [], [], 0
    for i, (tag, arrival) in enumerate(tags):
        unix = unix_ns(tag)
        errors.append(float(abs(unix - (first_unix + i * step_ns))))
        lead = unix - arrival
        leads.append(float(lead) / 1e6)
        late += lead < 0
    first_step_unix = timetag_to_unix_ns(tags[0][0])
    midi_late = []
    for arrival, msg in midi_arrivals:
        if msg[0] & 0xF0 == 0x90:
            k = round((arrival - first_step_unix) / float(step_ns) / 4)  # a note every 4 steps
            scheduled = first_step_unix + float(4 * k * step_ns)
            midi_late.append((arrival - scheduled) / 1e6)
    return {
        "bundles": len(tags),
        "position_events": position_events,
        "err_median_us": percentile(errors, 50) / 1000,
        "err_p99_us": percentile(errors, 99) / 1000,
        "err_max_us": max(errors) / 1000,
        "drift_us": errors[-1] / 1000,
        "lead_min_ms": min(leads),
        "lead_median_ms": statistics.median(leads),
        "late": late,
        "cpu_per_step_us": stats["cpu_ns"] / max(1, stats["steps"]) / 1000,
        "midi_notes": len(midi_late),
        "midi_late_p50_ms": percentile(midi_late, 50) if midi_late else None,
        "midi_late_p99_ms": percentile(midi_late, 99) if midi_late else None,
        "midi_late_max_ms": max(midi_late) if midi_late else None,
    }


def unix_step_map(packets) -> dict[int, int]:
    """Loop step -> the Unix time (ns) its bundle is timetagged with."""
    from pythonosc.osc_bundle import OscBundle

    out = {}
    for _, data in packets:
        if not data.startswith(b"#bundle"):
            continue
        (tag,) = struct.unpack(">Q", data[8:16])
        params = OscBundle(data).content(0).params
        cycle = params[params.index("cycle") + 1]
        out[round(cycle * 16) % 256] = timetag_to_unix_ns(tag)
    return out


def start_jack() -> tuple[subprocess.Popen | None, str | None]:
    jackd = shutil.which("jackd")
    if not jackd:
        return None, None
    name = f"oiduna-bench-{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen(
        [jackd, "-n", name, "-S", "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "256"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["JACK_NO_START_SERVER"] = "1"
    time.sleep(1.5)
    return proc, name


def fmt(value, spec=".1f"):
    return "n/a" if value is None else format(value, spec)


def report(results: dict[str, dict], seconds: float, command: str, jack: bool) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{TRACKS} OSC tracks with an event on every step plus one MIDI track (a note a beat), "
        f"{BPM} bpm, {seconds:g} s per run, lookahead 100 ms; UDP receiver in another process.",
        "",
        "| loop thread | bundles | timetag error median / p99 / max (µs) | drift at end (µs) "
        "| lead min / median (ms) | late bundles | CPU per step (µs) | MIDI note-on lateness p50 / p99 / max (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        midi = (
            f"{fmt(r['midi_late_p50_ms'], '.2f')} / {fmt(r['midi_late_p99_ms'], '.2f')} / "
            f"{fmt(r['midi_late_max_ms'], '.2f')} ({r['midi_notes']} notes)"
            if jack
            else "no JACK here"
        )
        lines.append(
            f"| {name} | {r['bundles']} | {r['err_median_us']:.3f} / {r['err_p99_us']:.3f} / {r['err_max_us']:.3f} "
            f"| {r['drift_us']:.3f} | {r['lead_min_ms']:.1f} / {r['lead_median_ms']:.1f} | {r['late']} "
            f"| {r['cpu_per_step_us']:.0f} | {midi} |"
        )
    lines += [
        "",
        "Timetag error is the timetag's distance from the ideal grid `first + i × step` computed "
        "independently with exact fractions (NTP resolution is 0.23 ns). MIDI goes through the timestamped "
        "JACK path, written at its frame a stated latency of one period (256 frames at 48 kHz = 5.3 ms) after "
        "its time; the lateness here is the wall-clock arrival as the receiver reads its rtmidi queue "
        "(every 0.5 ms) on a non-realtime dummy server, so it adds that latency and the receiver's own wake-up. "
        "`bench/midi_timing.py` measures the frames themselves (section MIDI timing).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    command = "python bench/engine_timing.py" + (f" --seconds {args.seconds:g}" if args.seconds != 60 else "")
    jack_proc, jack_name = start_jack()
    try:
        results = {}
        for name in SCENARIOS:
            print(f"running: {name} for {args.seconds:g} s ...", flush=True)
            results[name] = run_scenario(name, args.seconds, jack_name)
            print("  ", results[name], flush=True)
    finally:
        if jack_proc:
            jack_proc.terminate()
            jack_proc.wait(timeout=10)
    text = report(results, args.seconds, command, jack_name is not None)
    print()
    print(text)
    if not args.no_write:
        write_section("Engine timing", text)


if __name__ == "__main__":
    main()
