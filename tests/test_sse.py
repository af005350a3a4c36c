"""The SSE stream through the real server: several subscribers, the same events, positions
that match the OSC bundles sent, heartbeats, and replay after a reconnect."""

from __future__ import annotations

import json
import threading

import httpx

from oiduna_nb.engine.outputs.osc import timetag_to_unix_ns

from .conftest import seed_session_dict
from .osc_peer import as_dict


class SseReader:
    """A real streaming HTTP client that parses SSE frames on its own thread."""

    def __init__(self, url: str, headers: dict | None = None, until=None) -> None:
        self.events: list[dict] = []
        self.until = until
        self.done = threading.Event()
        self._client = httpx.Client(timeout=30)
        self._thread = threading.Thread(target=self._run, args=(url, headers or {}), daemon=True)
        self._thread.start()

    def _run(self, url: str, headers: dict) -> None:
        event: dict = {}
        try:
            with self._client.stream("GET", url, headers=headers) as r:
                self.status = r.status_code
                for line in r.iter_lines():
                    if line == "":
                        if "event" in event:
                            event["data"] = json.loads(event.get("data", "null"))
                            self.events.append(event)
                            if self.until and self.until(self.events):
                                break
                        event = {}
                        continue
                    key, _, value = line.partition(": ")
                    if key in ("id", "event", "data"):
                        event[key] = int(value) if key == "id" else value
        except httpx.HTTPError:
            pass
        finally:
            self.done.set()

    def wait(self, timeout: float = 30) -> list[dict]:
        assert self.done.wait(timeout), "the stream did not deliver in time"
        self._client.close()
        return self.events

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["event"] == kind]


def positions(n):
    return lambda events: sum(e["event"] == "position" for e in events) >= n


def test_subscribers_all_get_the_same_events_and_positions_match_the_osc(api, osc_peer):
    body = seed_session_dict()
    body["sequences"]["kick"]["events"] = [{"step": s} for s in range(256)]
    api.http.post("/playback/session", json=body)
    readers = [SseReader(f"{api.url}/stream", until=positions(24)) for _ in range(4)]
    import time

    deadline = time.monotonic() + 10
    while len(api.server.ctx.sse.subscribers) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    api.http.post("/playback/start")
    streams = [r.wait() for r in readers]
    api.http.post("/playback/stop")
    first = [e for e in streams[0] if "id" in e][:30]
    for other in streams[1:]:
        assert [e for e in other if "id" in e][: len(first)] == first  # same events, same ids, same order
    assert streams[0][0]["event"] == "connected" and "timestamp" in streams[0][0]["data"]
    status = [e for e in streams[0] if e["event"] == "status"]
    assert any(s["data"]["playing"] is True and s["data"]["playback_state"] == "playing" for s in status)
    pos = [e["data"] for e in streams[0] if e["event"] == "position"][:24]
    assert [p["step"] for p in pos] == list(range(24))
    assert all(p["beat"] == p["step"] // 4 and p["bar"] == p["step"] // 16 for p in pos)
    # each position event stands for a bundle the engine sent for that step
    sent = {round(as_dict(m.args)["cycle"] * 16): m.timetag for m in osc_peer.messages() if m.address == "/dirt/play"}
    assert all(p["step"] in sent for p in pos)
    grid = [timetag_to_unix_ns(sent[s]) for s in range(24)]
    assert all(abs((b - a) - 125_000_000) <= 1 for a, b in zip(grid, grid[1:]))


def test_client_events_and_heartbeat(api):
    reader = SseReader(f"{api.url}/stream", until=lambda ev: any(e["event"] == "heartbeat" for e in ev)
                       and any(e["event"] == "client_disconnected" for e in ev))
    import time

    while len(api.server.ctx.sse.subscribers) < 1:
        time.sleep(0.01)
    api.http.post("/session/clients/dj_bob_tidal/metadata", json={"chord_position": 2})
    api.http.delete("/session/clients/dj_bob_tidal")
    reader.wait()
    assert reader.of("client_connected")[0]["data"] == {"client_id": "dj_bob_tidal"}
    updated = reader.of("client_metadata_updated")[0]["data"]
    assert updated["client_id"] == "dj_bob_tidal" and updated["metadata"] == {"chord_position": 2}
    assert reader.of("client_disconnected")[0]["data"] == {"client_id": "dj_bob_tidal"}
    assert "timestamp" in reader.of("heartbeat")[0]["data"]
    assert "id" not in reader.of("heartbeat")[0]


def test_reconnect_with_last_event_id_replays_what_was_missed(api):
    first = SseReader(f"{api.url}/stream", until=lambda ev: any(e["event"] == "client_connected" for e in ev))
    import time

    while len(api.server.ctx.sse.subscribers) < 1:
        time.sleep(0.01)
    api.http.post("/session/clients/a/metadata", json={"n": 1})
    events = first.wait()
    last_id = [e for e in events if "id" in e][-1]["id"]
    # while nobody listens, more happens
    api.http.post("/session/clients/b/metadata", json={"n": 2})
    api.http.delete("/session/clients/a")
    again = SseReader(
        f"{api.url}/stream", headers={"Last-Event-ID": str(last_id)},
        until=lambda ev: any(e["event"] == "client_disconnected" for e in ev),
    )
    replayed = [e for e in again.wait() if "id" in e]
    assert replayed[0]["id"] > last_id
    kinds = [e["event"] for e in replayed]
    assert kinds.index("client_connected") < kinds.index("client_disconnected")


def test_a_vanished_subscriber_is_cleaned_up(api):
    import time

    with httpx.stream("GET", f"{api.url}/stream", timeout=5) as r:
        lines = r.iter_lines()  # kept: a dropped iterator closes the response
        next(lines)
        assert len(api.server.ctx.sse.subscribers) == 1
    deadline = time.monotonic() + 10
    while len(api.server.ctx.sse.subscribers) and time.monotonic() < deadline:
        api.http.post("/session/clients/x/metadata", json={})  # an event to notice the closed socket
        time.sleep(0.05)
    assert len(api.server.ctx.sse.subscribers) == 0


def test_beyond_the_subscriber_cap_a_clear_503(osc_peer, tmp_path):
    from .conftest import no_midi
    from .server_harness import RunningServer

    server = RunningServer(osc_peer.port, tmp_path, no_midi(), max_sse_subscribers=2)
    try:
        with httpx.stream("GET", f"{server.url}/stream", timeout=5) as a, \
                httpx.stream("GET", f"{server.url}/stream", timeout=5) as b:
            lines = a.iter_lines(), b.iter_lines()  # kept: a dropped iterator closes the response
            next(lines[0]), next(lines[1])
            r = httpx.get(f"{server.url}/stream", timeout=5)
            assert r.status_code == 503 and "limit 2" in r.json()["detail"]
            assert server.http.get("/health").json()["sse_subscribers"] == 2
    finally:
        server.close()


def test_a_position_goes_out_as_the_next_request_starts(api):
    """Under load the server's loop takes a turn of dozens of requests before a wake-up from
    the metronome's thread runs; a position published meanwhile is written to the
    subscribers as the next request starts, not after the turn."""
    from tornado import httputil

    reader = SseReader(f"{api.url}/stream", until=lambda events: any(e["event"] == "position" for e in events))
    import time

    deadline = time.monotonic() + 10
    while not api.server.ctx.sse.subscribers and time.monotonic() < deadline:
        time.sleep(0.01)

    def on_the_servers_loop():
        event = api.engine.bus.publish("position", {"step": 3})  # its wake-up waits for this callback
        subscribers = list(api.server.ctx.sse.subscribers)
        before = [s.last_id for s in subscribers]
        request = httputil.HTTPServerRequest(
            start_line=httputil.RequestStartLine("GET", "/playback/status", "HTTP/1.1"),
            headers=httputil.HTTPHeaders({"Host": f"127.0.0.1:{api.server.port}"}))
        api.server.app.find_handler(request)  # what tornado calls as each request's headers arrive
        return event.id, before, [s.last_id for s in subscribers]

    event_id, before, after = api.call(on_the_servers_loop)
    assert before and all(b < event_id for b in before)
    assert after == [event_id] * len(before)
    positions = reader.wait()
    assert [e["data"] for e in positions if e["event"] == "position"] == [{"step": 3}]
