"""Scope parameter benchmark: a slider dragged at 60 Hz against a Scope-compatible peer that
applies 2, 10 and 30 updates a second from an 8-deep queue (as the real server does).

- time from a change to its application (median, p99, max), for the changes applied,
- the share of final states applied (the value a gesture ends on),
- the same for a naive sender that sends every change at once, for comparison.

    python bench/scope_params.py            # writes docs/benchmarks.md
    python bench/scope_params.py --gestures 2 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchdoc import percentile, write_section  # noqa: E402

from oiduna_nb.scope.visuals import Visuals  # noqa: E402
from tests.scope_peer import ScopePeer  # noqa: E402

RATES = (2, 10, 30)
CHANGES, CHANGE_HZ = 30, 60


async def run(rate: int, gestures: int, naive: bool) -> dict:
    peer = ScopePeer(chunk_rate=rate, frame_size=64).start()
    visuals = Visuals(peer.url, ["passthrough"], size=(64, 64))
    await visuals.load()
    await visuals.connect()
    await asyncio.sleep(max(1.5, 8 / rate))  # frames arrive: the sender learns the chunk rate
    changed_at: dict[float, float] = {}
    finals = []
    value = 0.0
    for g in range(gestures):
        for _ in range(CHANGES):
            value = round(value + 0.001, 3)
            changed_at[value] = time.monotonic()
            if naive:
                visuals.session.channel.send(json.dumps({"noise_scale": value}))
            else:
                visuals.update(noise_scale=value)
            await asyncio.sleep(1 / CHANGE_HZ)
        finals.append(value)
        await asyncio.sleep(2.0 + 12 / rate)
    session = peer.session
    applied = [(t, u["noise_scale"]) for t, u in session.applied if "noise_scale" in u]
    first: dict[float, float] = {}
    for t, v in applied:  # a final value sent again once settled counts at its first application
        first.setdefault(v, t)
    latencies = [(t - changed_at[v]) * 1000 for v, t in first.items() if v in changed_at]
    applied_values = {v for _, v in applied}
    result = {
        "applied": len(applied),
        "dropped": session.dropped,
        "sent": len(session.received),
        "finals": sum(f in applied_values for f in finals),
        "gestures": gestures,
        "lat": latencies,
    }
    await visuals.close()
    await peer.stop()
    return result


def row(name: str, rate: int, r: dict) -> str:
    lat = r["lat"]
    figures = (f"{percentile(lat, 50):.0f} / {percentile(lat, 99):.0f} / {max(lat):.0f}" if lat else "n/a")
    return (f"| {name} | {rate} | {r['sent']} | {r['dropped']} | {figures} | "
            f"{r['finals']} of {r['gestures']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gestures", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = []
    for rate in RATES:
        for naive in (False, True):
            r = asyncio.run(run(rate, args.gestures, naive))
            rows.append(row("naive: every change at once" if naive else "oiduna_nb sender", rate, r))
            print(rows[-1], flush=True)
    command = "python bench/scope_params.py" + (f" --gestures {args.gestures}" if args.gestures != 5 else "")
    text = "\n".join([
        f"Command: `{command}`",
        "",
        f"{args.gestures} gestures per run, each {CHANGES} changes of `noise_scale` at {CHANGE_HZ} Hz (a slider "
        "drag), then a pause; the Scope-compatible peer of the tests applies one queued update per chunk from an "
        "8-deep queue and drops what does not fit, as the real server does. Latency is from the change to the "
        "chunk that first applied it, over the changes that were applied (coalescing skips the ones in between; "
        "the sender also sends a gesture's final value once more after the queue has drained).",
        "",
        "| sender | updates applied / s | messages sent | dropped by the server | change → applied median / p99 / max (ms) | final states applied |",
        "|---|---|---|---|---|---|",
        *rows,
    ])
    print(text)
    if not args.no_write:
        write_section("Scope parameters", text)


if __name__ == "__main__":
    main()
