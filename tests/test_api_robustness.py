"""Issue: nothing a client sends can silence, stall or revert the music. Each test is one
reproduction, run against the real server playing 4 tracks (an event on every step) into a
real UDP receiver: the request is refused with a clear 4xx, and every track keeps sounding."""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

import httpx
import pytest

from .audio_files import wav_bytes
from .conftest import NO_MIDI_ENV, eventually, seed_session_dict
from .osc_peer import as_dict
from .server_harness import free_port, wait_until_serving

JSON = {"Content-Type": "application/json"}
TRACKS = ("t1", "t2", "t3", "t4")


def four_tracks() -> dict:
    body = seed_session_dict()
    body["tracks"] = {
        t: {"meta": {"track_id": t}, "params": {"s": f"s{i}", "orbit": i}} for i, t in enumerate(TRACKS)
    }
    body["sequences"] = {t: {"track_id": t, "events": [{"step": s} for s in range(16)]} for t in TRACKS}
    body["environment"]["loop_steps"] = 16
    body["environment"]["bpm"] = 240  # 16 steps a second: enough steps in little time
    return body


@pytest.fixture
def playing(api, osc_peer):
    assert api.http.post("/playback/session", json=four_tracks()).status_code == 200
    api.http.post("/playback/start")
    assert eventually(lambda: len(osc_peer.messages()) >= 8)
    return api


def every_track_still_sounds(peer, steps: int = 6) -> bool:
    """The next ``steps`` steps after now each carry all four tracks."""
    start = len(peer.bundles())
    assert eventually(lambda: len(peer.bundles()) >= start + steps + 1), "the music stopped"
    by_tag: dict[int, set] = {}
    for m in peer.messages():
        if m.address == "/dirt/play":
            by_tag.setdefault(m.timetag, set()).add(as_dict(m.args)["s"])
    recent = sorted(by_tag)[-steps:]
    return all(by_tag[t] == {"s0", "s1", "s2", "s3"} for t in recent)


def patch_params(api, data: dict):
    return api.http.patch("/playback/tracks/t3/params", json={"data": data, "timing": {"type": "now"}})


@pytest.mark.parametrize(
    "data",
    [
        {"foo": 1e308},  # beyond a 32-bit float
        {"n": 1e39},
        {"foo": "\ud800"},  # a lone surrogate cannot be encoded
        {"foo": "x" * 70_000},  # one 70 KB string
        {f"p{i}": "x" * 36 for i in range(1500)},  # 1500 params of 40 bytes
        {"note": 500},
        {"bad key": 1},
    ],
    ids=["1e308", "n-1e39", "surrogate", "70KB-string", "1500-params", "note-500", "bad-key"],
)
def test_a_value_the_wire_cannot_carry_is_422_and_nothing_stops(playing, osc_peer, data):
    body = json.dumps({"data": data, "timing": {"type": "now"}})  # json.dumps keeps \ud800 as an escape
    r = playing.http.patch("/playback/tracks/t3/params", content=body, headers=JSON)
    assert r.status_code in (413, 422), r.text
    assert "detail" in r.json()
    assert every_track_still_sounds(osc_peer)
    assert playing.http.get("/playback/status").json()["errors"]["dropped_messages"] == 0


def test_a_trigger_on_a_track_is_a_bundle_and_never_a_500(playing, osc_peer):
    r = playing.http.post("/playback/trigger/osc", json={"track_id": "t3", "velocity": 0.5})
    assert r.status_code == 200
    r = playing.http.post("/playback/trigger/osc", json={"track_id": "t3", "velocity": 1e308})
    assert r.status_code == 422
    assert every_track_still_sounds(osc_peer)


def test_a_tempo_of_001_then_120_plays_at_120_within_a_step(playing, osc_peer):
    assert playing.http.patch("/playback/environment", json={"data": {"bpm": 0.01}, "timing": {"type": "now"}}).status_code == 200
    time.sleep(0.3)
    before = len(osc_peer.bundles())
    assert playing.http.patch("/playback/environment", json={"data": {"bpm": 120}, "timing": {"type": "now"}}).status_code == 200
    # at 120 bpm a step is 125 ms: within a few steps the bundles flow again
    assert eventually(lambda: len(osc_peer.bundles()) >= before + 4, timeout=5), "still waiting on the 0.01 bpm step"
    tags = sorted({b[1] for b in osc_peer.bundles()})[-3:]
    gaps = [(b - a) / 2**32 for a, b in zip(tags, tags[1:])]
    assert all(abs(g - 0.125) < 1e-6 for g in gaps), gaps


def test_deeply_nested_json_is_400_and_a_too_deep_value_is_422(playing, osc_peer):
    r = playing.http.post("/playback/session", content=b"[" * 100_000, headers=JSON)
    assert r.status_code == 400 and "detail" in r.json()
    deep: object = 1
    for _ in range(300):
        deep = {"a": deep}
    r = playing.http.patch("/playback/environment", json={"data": {"scale": deep}, "timing": {"type": "now"}})
    assert r.status_code == 422 and "detail" in r.json()
    r = playing.http.patch("/playback/environment", json={"bpm": 133}, headers={})
    assert r.status_code == 200  # the server is fine, and the deep value never got in
    r = playing.http.post("/playback/session", content=b'{"environment": {"bpm": NaN}}', headers=JSON)
    assert r.status_code == 400
    assert every_track_still_sounds(osc_peer)


def test_trace_and_other_methods_answer_405_with_allow(api):
    for method, path, allowed in (("TRACE", "/playback/status", "GET"), ("DELETE", "/playback/status", "GET"),
                                  ("GET", "/playback/start", "POST"), ("PUT", "/tracks/kick", "GET")):
        r = api.http.request(method, path)
        assert r.status_code == 405, (method, path)
        assert allowed in r.headers["Allow"].split(", ")
        assert "detail" in r.json()


def test_a_body_trickled_too_slowly_times_out(osc_peer, tmp_path):
    from .conftest import no_midi
    from .server_harness import RunningServer

    server = RunningServer(osc_peer.port, tmp_path, no_midi())
    server.server.ctx.body_grace = 0.3
    try:
        with socket.create_connection(("127.0.0.1", server.server.port)) as sock:
            sock.sendall(b"POST /playback/session HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
            sock.settimeout(10)
            reply = sock.recv(65536).decode()
        assert reply.startswith("HTTP/1.1 408") and "too slow" in reply
        assert server.http.get("/health").status_code == 200
    finally:
        server.close()


# ---- uploads ------------------------------------------------------------------------------


def upload(api, name: str, data: bytes, **fields):
    return api.http.post("/assets/samples", files={"file": (name, data)}, data={"category": "kicks", **fields})


def test_an_upload_never_replaces_another_file_by_surprise(api):
    first = upload(api, "my kick.wav", wav_bytes(freq=440))
    assert first.status_code == 200 and first.json()["filename"] == "my_kick.wav"
    second = upload(api, "my?kick.wav", wav_bytes(freq=880))
    assert second.status_code == 409 and "overwrite" in second.json()["detail"]
    stored = api.settings.assets_dir / "kicks" / "my_kick.wav"
    assert stored.read_bytes() == wav_bytes(freq=440)
    third = upload(api, "my?kick.wav", wav_bytes(freq=880), overwrite="true")
    assert third.status_code == 200 and stored.read_bytes() == wav_bytes(freq=880)


def test_a_wav_whose_header_lies_about_its_size_is_422(api):
    fake = b"RIFF" + struct.pack("<I", 0xFFFFFFF0) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + bytes(16)
    fake += b"data" + struct.pack("<I", 0xFFFFFF00) + bytes(20)
    assert len(fake) == 64
    r = upload(api, "big.wav", fake)
    assert r.status_code == 422 and "not a whole WAV" in r.json()["detail"]
    truncated = wav_bytes()[:-500]
    assert upload(api, "cut.wav", truncated).status_code == 422
    assert api.http.get("/assets/samples").json() == {"samples": {}}  # nothing was written


def test_a_crash_mid_upload_leaves_no_stray_file(tmp_path):
    from oiduna_nb.server.assets import AssetStore

    kicks = tmp_path / "kicks"
    kicks.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stray = kicks / f".upload-{dead.pid}-abc.part"  # what a process killed mid-write leaves
    stray.write_bytes(b"RIFF half a file")
    mine = kicks / f".upload-{os.getpid()}-def.part"  # an upload of a live process, in flight
    mine.write_bytes(b"RIFF")
    store = AssetStore(tmp_path)
    assert not stray.exists() and mine.exists()
    assert store.samples() == {"kicks": []}


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="a full disk is made with a tiny tmpfs in a private mount namespace: needs root and unshare")
def test_an_upload_onto_a_full_disk_is_507(tmp_path, osc_peer):
    assets = tmp_path / "assets"
    assets.mkdir()
    port = free_port()
    env = {**os.environ, "OSC_PORT": str(osc_peer.port), "API_PORT": str(port), "OIDUNA_ASSETS_DIR": str(assets),
           **NO_MIDI_ENV}
    script = f"mount -t tmpfs -o size=1m tmpfs {assets} && exec {sys.executable} -m oiduna_nb.cli serve"
    proc = subprocess.Popen(["unshare", "-m", "sh", "-c", script], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_serving(port, proc)
        big = wav_bytes(seconds=23.0)  # ~2 MB
        r = httpx.post(f"http://127.0.0.1:{port}/assets/samples", files={"file": ("big.wav", big)},
                       data={"category": "kicks"}, timeout=30)
        assert r.status_code == 507 and "space" in r.json()["detail"]
        listing = httpx.get(f"http://127.0.0.1:{port}/assets/samples", timeout=10).json()
        assert listing == {"samples": {"kicks": []}}  # no partial file, no stray temporary
        small = httpx.post(f"http://127.0.0.1:{port}/assets/samples", files={"file": ("small.wav", wav_bytes())},
                           data={"category": "kicks"}, timeout=30)
        assert small.status_code == 200  # the failed upload left its space free
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0]
    assert "Traceback" not in out


# ---- replies and small truths -------------------------------------------------------------


def test_a_queued_environment_reply_shows_the_state_it_will_produce(playing):
    a = playing.http.patch("/playback/environment", json={"data": {"bpm": 150}, "timing": {"type": "boundary", "unit": "seq"}})
    b = playing.http.patch("/playback/environment", json={"data": {"swing": 0.2}, "timing": {"type": "boundary", "unit": "seq"}})
    assert a.json()["environment"]["bpm"] == 150
    assert b.json()["environment"]["bpm"] == 150 and b.json()["environment"]["swing"] == 0.2  # a's bpm kept
    now = playing.http.get("/playback/status").json()
    assert now["bpm"] == 240  # and nothing applied yet


def test_after_pause_the_position_holds(playing):
    assert playing.http.post("/playback/pause").json() == {"status": "ok", "playing": False, "paused": True}
    held = playing.http.get("/playback/status").json()["position"]
    time.sleep(0.4)  # longer than the lookahead: the steps sent ahead would have crept in
    assert playing.http.get("/playback/status").json()["position"] == held


def test_pause_while_stopped_answers_with_the_real_state(api):
    assert api.http.post("/playback/pause").json() == {"status": "ok", "playing": False, "paused": False}
    assert api.http.get("/playback/status").json()["playback_state"] == "stopped"


def test_interleaved_clients_keep_every_change(playing, osc_peer):
    """A queued session-level change from one client never reverts another's immediate ones."""
    eng = playing.engine
    r = playing.http.patch("/playback/tracks/t1/params", json={"data": {"gain": 0.5}, "timing": {"type": "boundary", "unit": "seq"}})
    assert r.status_code == 200 and "change_id" in r.json()
    playing.http.post("/tracks/t2/mute", json={"muted": True})
    playing.http.patch("/playback/environment", json={"data": {"bpm": 200}, "timing": {"type": "now"}})
    assert eventually(lambda: not eng.pending())  # the seq boundary came
    state = eng.state
    assert state.tracks["t1"].params.gain == 0.5
    assert state.tracks["t2"].meta.mute is True
    assert state.environment.bpm == 200
