"""Scope on a real server: the video rate and parameter updates applied, on its CPU
``passthrough`` pipeline (the server at ``SCOPE_URL``; its log at ``SCOPE_LOG`` tells how many
parameter updates its 8-deep queue dropped: "Parameter queue full ... dropping").

- frames a second received over WebRTC, and the server's own figures (``/api/v1/session/metrics``),
- a slider dragged at 60 Hz: messages sent, updates the server dropped, updates applied,
  for the oiduna_nb sender and for a naive sender that sends every change at once.

    SCOPE_URL=http://127.0.0.1:8765 SCOPE_LOG=/work/peers/scope/run/8765/server.log python bench/scope_real.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchdoc import write_section  # noqa: E402

from oiduna_nb.scope.visuals import Visuals  # noqa: E402

CHANGES, CHANGE_HZ = 30, 60
DROPPED = "dropping parameter update"


def drops(log: Path) -> int:
    return log.read_text(errors="replace").count(DROPPED) if log.exists() else 0


async def metrics(url: str) -> dict:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/api/v1/session/metrics") as r:
        sessions = (await r.json())["sessions"]
    return next(iter(sessions.values()), {})


async def run(url: str, log: Path, size: int, seconds: float, gestures: int, naive: bool) -> dict:
    visuals = Visuals(url, ["passthrough"], size=(size, size))
    await visuals.load()
    await visuals.connect()
    session = visuals.session
    await asyncio.sleep(2.0)  # the stream settles; the sender learns the chunk rate
    frames0, t0 = session.frames, time.monotonic()
    await asyncio.sleep(seconds)
    fps = (session.frames - frames0) / (time.monotonic() - t0)
    server = await metrics(url)
    dropped0 = drops(log)
    sent0 = len(session.sender.sent)
    naive_sent = 0
    value = 0.0
    for _ in range(gestures):
        for _ in range(CHANGES):
            value = round(value + 0.001, 3)
            if naive:
                session.channel.send(json.dumps({"noise_scale": value}))
                naive_sent += 1
            else:
                visuals.update(noise_scale=value)
            await asyncio.sleep(1 / CHANGE_HZ)
        await asyncio.sleep(2.0)
    await asyncio.sleep(1.0)
    sent = naive_sent if naive else len(session.sender.sent) - sent0
    result = {"fps": fps, "server_fps": server.get("pipeline_fps"), "fps_out": server.get("fps_out"),
              "chunk": session.chunks.interval, "sent": sent, "dropped": drops(log) - dropped0}
    await visuals.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--gestures", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    url, log = os.environ["SCOPE_URL"], Path(os.environ.get("SCOPE_LOG", "/nonexistent"))
    rows = []
    for naive in (False, True):
        r = asyncio.run(run(url, log, args.size, args.seconds, args.gestures, naive))
        applied = r["sent"] - r["dropped"] if log.exists() else None
        rows.append(
            f"| {'naive: every change at once' if naive else 'oiduna_nb sender'} | {r['fps']:.1f} | "
            f"{r['server_fps'] or 0:.1f} | {r['chunk'] * 1000:.0f} | {r['sent']} | "
            f"{r['dropped'] if log.exists() else 'n/a'} | {applied if applied is not None else 'n/a'} |"
        )
        print(rows[-1], flush=True)
    command = ("SCOPE_URL=... SCOPE_LOG=<its log> python bench/scope_real.py"
               + (f" --size {args.size}" if args.size != 256 else ""))
    text = "\n".join([
        f"Command: `{command}`",
        "",
        f"The real Daydream Scope server (v0.2.4, CPU only, `passthrough` at {args.size}x{args.size}) on this "
        "2-core machine, the client in another process. Frames a second: received over WebRTC by the client "
        f"over {args.seconds:g} s, and the server's own `pipeline_fps`. Then {args.gestures} gestures, each "
        f"{CHANGES} changes of `noise_scale` at {CHANGE_HZ} Hz (a slider drag) and a pause; the server's log "
        "counts the updates its 8-deep queue dropped; applied = sent - dropped.",
        "",
        "| sender | fps received | server pipeline fps | chunk interval the sender measured (ms) | messages sent | dropped by the server | applied |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ])
    print(text)
    if not args.no_write:
        write_section("Scope on the real server", text)


if __name__ == "__main__":
    main()
