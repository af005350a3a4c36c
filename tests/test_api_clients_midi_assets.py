"""Client metadata, MIDI and assets through the real HTTP server."""

from __future__ import annotations

import os

from .audio_files import aiff_bytes, flac_bytes, synthdef_bytes, wav_bytes


def test_client_metadata_lifecycle(api):
    r = api.http.post("/session/clients/user_alice_mars/metadata", json={"scale": "C_major", "chord_position": 0})
    assert r.status_code == 200 and r.json()["client_id"] == "user_alice_mars"
    assert isinstance(r.json()["updated_at"], float)
    api.http.post("/session/clients/user_alice_mars/metadata", json={"chord_position": 2, "message": "Moving to G7"})
    api.http.post("/session/clients/dj_bob_tidal/metadata", json={"following": "user_alice_mars"})
    everyone = api.http.get("/session/clients").json()
    assert everyone["user_alice_mars"]["metadata"] == {"scale": "C_major", "chord_position": 2, "message": "Moving to G7"}
    assert set(everyone) == {"user_alice_mars", "dj_bob_tidal"}
    one = api.http.get("/session/clients/dj_bob_tidal").json()
    assert one["metadata"] == {"following": "user_alice_mars"} and "updated_at" in one
    assert api.http.delete("/session/clients/dj_bob_tidal").json() == {"status": "ok", "removed_client_id": "dj_bob_tidal"}
    r = api.http.get("/session/clients/dj_bob_tidal")
    assert r.status_code == 404 and r.json() == {"detail": "Client not found"}
    assert api.http.delete("/session/clients/dj_bob_tidal").status_code == 404
    r = api.http.post("/session/clients/x/metadata", json=[1, 2])
    assert r.status_code == 422


def test_midi_endpoints_without_a_midi_system(api):
    ports = api.http.get("/midi/ports").json()
    assert ports["ports"] == [] and ports["available"] is False and "MIDI is unavailable" in ports["message"]
    r = api.http.post("/midi/port", json={"port_name": "IAC Driver Bus 1"})
    assert r.status_code == 404 and r.json()["detail"].startswith("MIDI port not found (MIDI is unavailable")
    assert api.http.post("/midi/panic").json() == {"status": "ok", "message": "MIDI panic sent (all notes off)"}


def test_midi_endpoints_on_a_jack_loopback(jack_server, osc_peer, tmp_path):
    import rtmidi

    from oiduna_nb.engine.outputs.midi import MidiOutput

    from .server_harness import RunningServer

    synth = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="synth")
    synth.open_virtual_port("in")
    server = RunningServer(osc_peer.port, tmp_path, MidiOutput(api="jack"))
    try:
        ports = server.http.get("/midi/ports").json()
        assert {"name": "synth:in", "is_input": False, "is_output": True} in ports["ports"]
        assert server.http.post("/midi/port", json={"port_name": "synth:in"}).json() == {"status": "ok", "port_name": "synth:in"}
        r = server.http.post("/midi/port", json={"port_name": "IAC Driver Bus 1"})
        assert r.status_code == 404 and r.json() == {"detail": "MIDI port not found"}
        server.http.post("/playback/session", json={
            "tracks_midi": {"midi_synth": {"track_id": "midi_synth", "channel": 0}}, "apply": {"timing": "now"}})
        r = server.http.post("/playback/trigger/midi", json={"track_id": "midi_synth", "note": 60, "velocity": 100, "duration_ms": 50})
        assert r.json() == {"status": "ok", "message": "MIDI trigger sent"}
        import time

        got, deadline = [], time.monotonic() + 5
        while len(got) < 2 and time.monotonic() < deadline:
            msg = synth.get_message()
            if msg:
                got.append(msg[0])
            else:
                time.sleep(0.005)
        assert got == [[0x90, 60, 100], [0x80, 60, 0]]
    finally:
        server.close()
        synth.delete()


def upload_sample(api, name, data, category="kicks", **kw):
    return api.http.post("/assets/samples", files={"file": (name, data)}, data={"category": category}, **kw)


def test_sample_uploads_checked_by_content_and_listed(api, tmp_path):
    r = upload_sample(api, "my_kick.wav", wav_bytes())
    assert r.json() == {"status": "ok", "filename": "my_kick.wav", "category": "kicks", "path": "/samples/kicks/my_kick.wav"}
    assert upload_sample(api, "808 kick.aiff", aiff_bytes()).json()["filename"] == "808_kick.aiff"
    assert upload_sample(api, "snare.flac", flac_bytes(), category="snares").status_code == 200
    assert api.http.get("/assets/samples").json() == {
        "samples": {"kicks": ["808_kick.aiff", "my_kick.wav"], "snares": ["snare.flac"]}
    }
    assert (tmp_path / "assets" / "kicks" / "my_kick.wav").read_bytes() == wav_bytes()
    # a name that lies about the content, and content that is no audio at all
    r = upload_sample(api, "fake.wav", flac_bytes())
    assert r.status_code == 422 and "content is FLAC" in r.json()["detail"]
    assert upload_sample(api, "evil.wav", b"#!/bin/sh\nrm -rf /\n").status_code == 422
    assert upload_sample(api, "kick.mp3", wav_bytes()).status_code == 422


def test_nothing_is_written_outside_the_assets_dir(api, tmp_path):
    root = tmp_path / "assets"
    r = upload_sample(api, "../../escape.wav", wav_bytes())
    assert r.status_code == 200 and r.json()["path"] == "/samples/kicks/escape.wav"
    r = upload_sample(api, "/etc/passwd.wav", wav_bytes())
    assert r.json()["path"] == "/samples/kicks/passwd.wav"
    r = upload_sample(api, "..\\..\\win.wav", wav_bytes())
    assert r.json()["path"] == "/samples/kicks/win.wav"
    for category in ("../outside", "/abs", "a/b", "..", "synthdefs", ""):
        assert upload_sample(api, "x.wav", wav_bytes(), category=category).status_code == 422, category
    # a category directory that is a link to elsewhere is refused, and nothing lands there
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, root / "linked")
    assert upload_sample(api, "x.wav", wav_bytes(), category="linked").status_code == 422
    assert list(elsewhere.iterdir()) == []
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
               if p.is_file() and not p.is_relative_to(tmp_path / "data")}  # data/: the server's own log
    assert all(p.startswith("assets/") for p in written), written


def test_upload_over_the_limit_is_413_and_leaves_no_file(osc_peer, tmp_path):
    from .conftest import no_midi
    from .server_harness import RunningServer

    server = RunningServer(osc_peer.port, tmp_path / "assets", no_midi(), max_upload_bytes=4096)
    try:
        r = server.http.post("/assets/samples", files={"file": ("big.wav", wav_bytes(1.0))}, data={"category": "kicks"})
        assert r.status_code == 413 and "too large" in r.json()["detail"]
        assert not any(p.is_file() for p in (tmp_path / "assets").rglob("*"))
        r = server.http.post("/playback/session", content=b"{" + b" " * (2 << 20) + b"}", headers={"Content-Type": "application/json"})
        assert r.status_code == 413
    finally:
        server.close()


def test_synthdef_upload_and_list(api, tmp_path):
    r = api.http.post("/assets/synthdefs", files={"file": ("mysynth.scsyndef", synthdef_bytes())}, data={"name": "mysynth"})
    assert r.json() == {"status": "ok", "name": "mysynth", "path": "/synthdefs/mysynth.scsyndef"}
    assert (tmp_path / "assets" / "synthdefs" / "mysynth.scsyndef").exists()
    assert api.http.get("/assets/synthdefs").json() == {"synthdefs": ["mysynth"]}
    r = api.http.post("/assets/synthdefs", files={"file": ("x.scsyndef", wav_bytes())}, data={"name": "x"})
    assert r.status_code == 422
    r = api.http.post("/assets/synthdefs", files={"file": ("x.scsyndef", synthdef_bytes())}, data={"name": "../x"})
    assert r.status_code == 422
    r = api.http.post("/assets/synthdefs", data={"name": "x"})
    assert r.status_code in (400, 422)
    r = api.http.post("/assets/synthdefs", json={"name": "x"})
    assert r.status_code == 400 and "multipart" in r.json()["detail"]
