"""A second client of the same session, as another live coder's editor would be: it
registers itself, adds a track over HTTP and listens to the SSE stream.

    python second_client.py http://127.0.0.1:57122
"""

from __future__ import annotations

import json
import sys
import urllib.request


def call(base: str, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def events(base: str, types: str):
    """(event, data) pairs from the SSE stream, as they come."""
    with urllib.request.urlopen(f"{base}/stream?types={types}", timeout=30) as stream:
        kind = None
        for raw in stream:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind:
                yield kind, json.loads(line[6:])


def main(base: str) -> None:
    call(base, "POST", "/session/clients/second/metadata", {"client_name": "second", "plays": "hat"})
    print("second client: registered")
    hat = {
        "tracks": {"hat": {"meta": {"track_id": "hat"}, "params": {"s": "hh", "gain": 0.6}}},
        "sequences": {"hat": {"track_id": "hat", "events": [{"step": s} for s in range(2, 256, 4)]}},
        "apply": {"timing": "bar", "track_ids": ["hat"]},
    }
    stream = events(base, "position,tracks")
    answer = call(base, "POST", "/playback/session", hat)
    print("second client: sent the hat track,", "queued for the next bar" if "change_id" in answer else "applied")
    positions, tracks = 0, None
    for kind, data in stream:
        if kind == "position":
            positions += 1
        elif kind == "tracks" and "hat" in data["active_tracks"]:
            tracks = data["active_tracks"]
        if positions >= 8 and tracks:
            break
    print(f"second client: heard 8+ position events; tracks now {', '.join(tracks)}")


if __name__ == "__main__":
    main(sys.argv[1])
