"""Playback, triggers, changes, tracks and scenes through the real HTTP server."""

from __future__ import annotations

from .conftest import eventually, seed_session_dict
from .osc_peer import as_dict

JSON = {"Content-Type": "application/json"}


def load(api, body=None, **kw):
    return api.http.post("/playback/session", json=body or seed_session_dict(), **kw)


def test_session_load_as_documented(api):
    r = load(api)
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "message": "Session loaded successfully"}
    assert api.http.get("/playback/status").json()["active_tracks"] == ["kick"]


def test_session_in_the_timing_wrapper_is_queued_while_playing(api):
    load(api)
    api.http.post("/playback/start")
    body = seed_session_dict()
    body["tracks"]["kick"]["params"]["s"] = "808bd"
    r = api.http.post(
        "/playback/session", json={"data": body, "timing": {"type": "absolute", "step": 128}}
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "ok" and out["change_id"].startswith("change_") and out["apply_at_step"] == 128
    pending = api.http.get("/playback/changes/pending").json()["pending"]
    assert pending == [
        {"id": out["change_id"], "type": "session", "track_id": None, "scene_name": None,
         "apply_timing": "absolute", "apply_at_step": 128}
    ]
    assert api.http.get("/playback/status").json()["has_pending"] is True


def test_session_validation_errors_are_422_with_body_locations(api):
    body = seed_session_dict()
    body["sequences"]["kick"]["events"][0]["velocity"] = 3
    r = load(api, body)
    assert r.status_code == 422
    (err,) = r.json()["detail"]
    assert err["loc"] == ["body", "sequences", "kick", "events", 0, "velocity"]
    assert set(err) == {"type", "loc", "msg", "input"}
    r = api.http.post("/playback/session", json={"data": seed_session_dict(), "timing": {"type": "absolute", "step": -1}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body", "timing"]


def test_malformed_json_and_wrong_content_type_are_400(api):
    r = api.http.post("/playback/session", content=b"{not json", headers=JSON)
    assert r.status_code == 400 and "Malformed JSON" in r.json()["detail"]
    r = api.http.post("/playback/session", content=b"{}", headers={"Content-Type": "text/plain"})
    assert r.status_code == 400 and "application/json" in r.json()["detail"]
    r = api.http.post("/playback/session")
    assert r.status_code == 400


def test_environment_update_and_the_seed_422_example(api):
    r = api.http.patch("/playback/environment", json={"bpm": -10})
    assert r.status_code == 422
    assert r.json() == {
        "detail": [{"type": "greater_than", "loc": ["body", "bpm"], "msg": "Input should be greater than 0", "input": -10}]
    }
    r = api.http.patch("/playback/environment", json={"bpm": 140.0, "swing": 0.1, "default_gate": 0.9})
    assert r.json() == {
        "status": "ok",
        "environment": {"bpm": 140.0, "swing": 0.1, "default_gate": 0.9, "loop_steps": 256},
    }
    assert api.http.get("/playback/status").json()["bpm"] == 140.0


def test_environment_update_waits_for_the_bar_by_default_while_playing(api):
    load(api)
    api.http.post("/playback/start")
    bar = api.http.patch("/playback/environment", json={"bpm": 90}).json()
    assert "change_id" in bar and bar["environment"]["bpm"] == 90 and bar["apply_at_step"] % 16 == 0
    beat = api.http.patch("/playback/environment", json={"data": {"bpm": 95}, "timing": {"type": "boundary", "unit": "beat"}}).json()
    assert beat["apply_at_step"] % 4 == 0
    assert eventually(lambda: api.http.get("/playback/changes/pending").json() == {"pending": []})
    # the bar's change comes last, unless the next beat was that bar: then they land in order
    expected = 95 if beat["apply_at_step"] == bar["apply_at_step"] else 90
    assert api.http.get("/playback/status").json()["bpm"] == expected


def test_track_params(api):
    load(api)
    r = api.http.patch("/playback/tracks/kick/params", json={"gain": 0.8, "pan": 0.3, "cutoff": 2000.0})
    assert r.json() == {"status": "ok", "track_id": "kick", "updated_params": {"gain": 0.8, "pan": 0.3, "cutoff": 2000.0}}
    assert api.http.get("/tracks/kick").json()["gain"] == 0.8
    assert api.http.patch("/playback/tracks/ghost/params", json={"gain": 0.8}).status_code == 404
    r = api.http.patch("/playback/tracks/kick/params", json={"gain": 9})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "gain"]


def test_transport(api):
    load(api)
    assert api.http.post("/playback/start").json() == {"status": "ok", "playing": True}
    assert api.http.get("/playback/status").json()["playback_state"] == "playing"
    assert api.http.post("/playback/pause").json() == {"status": "ok", "playing": False, "paused": True}
    assert api.http.get("/playback/status").json()["playback_state"] == "paused"
    assert api.http.post("/playback/stop").json() == {"status": "ok", "playing": False}
    status = api.http.get("/playback/status").json()
    assert status["playback_state"] == "stopped" and status["position"] == {"step": 0, "beat": 0, "bar": 0}


def test_status_shape(api):
    load(api)
    assert set(api.http.get("/playback/status").json()) == {
        "playing", "playback_state", "bpm", "position", "active_tracks", "has_pending", "scenes", "current_scene",
        "output", "errors", "link",
    }


def test_osc_trigger_reaches_superdirt(api, osc_peer):
    load(api)
    r = api.http.post("/playback/trigger/osc", json={"track_id": "kick", "velocity": 0.8, "note": None})
    assert r.json() == {"status": "ok", "message": "OSC trigger sent"}
    osc_peer.wait_for(1)
    plays = [as_dict(m.args) for m in osc_peer.messages() if m.address == "/dirt/play"]
    assert plays and plays[-1]["s"] == "bd" and abs(plays[-1]["amp"] - 0.4 * 0.8) < 1e-6  # velocity: linear amp
    assert api.http.post("/playback/trigger/osc", json={"track_id": "ghost"}).status_code == 404
    assert api.http.post("/playback/trigger/osc", json={"track_id": "kick", "velocity": 2}).status_code == 422


def test_midi_trigger_without_a_midi_system_is_409_with_the_reason(api):
    body = seed_session_dict()
    body["tracks_midi"] = {"midi_synth": {"track_id": "midi_synth", "channel": 0}}
    load(api, body)
    r = api.http.post("/playback/trigger/midi", json={"track_id": "midi_synth", "note": 60, "velocity": 100})
    assert r.status_code == 409 and "MIDI is unavailable" in r.json()["detail"]
    assert api.http.post("/playback/trigger/midi", json={"track_id": "ghost", "note": 60}).status_code == 404


def test_changes_cancel_one_and_all(api):
    load(api)
    api.http.post("/playback/start")
    ids = [api.http.patch("/playback/environment", json={"data": {"bpm": 100 + i}, "timing": {"type": "boundary", "unit": "seq"}}).json()["change_id"] for i in range(3)]
    r = api.http.delete(f"/playback/changes/{ids[0]}")
    assert r.json() == {"status": "ok", "cancelled_id": ids[0]}
    r = api.http.delete(f"/playback/changes/{ids[0]}")
    assert r.status_code == 404 and r.json()["detail"].startswith("Change not found")
    assert api.http.post("/playback/changes/cancel-all").json() == {"status": "ok", "cancelled_count": 2}


def test_tracks_list_get_mute_solo(api):
    body = seed_session_dict()
    body["tracks_midi"] = {"bass": {"track_id": "bass", "channel": 3}}
    body["sequences"]["bass"] = {"track_id": "bass", "events": [{"step": 20}]}
    load(api, body)
    tracks = api.http.get("/tracks").json()["tracks"]
    assert tracks[0] == {"id": "kick", "type": "osc", "sound": "bd", "orbit": 0, "gain": 1.0, "pan": 0.5,
                         "muted": False, "solo": False, "length": 16}
    assert tracks[1] == {"id": "bass", "type": "midi", "channel": 3, "muted": False, "solo": False, "length": 32}
    assert api.http.get("/tracks/ghost").status_code == 404
    assert api.http.post("/tracks/kick/mute", json={"muted": True}).json() == {"status": "ok", "track_id": "kick", "muted": True}
    assert api.http.post("/tracks/kick/solo", json={"solo": True}).json() == {"status": "ok", "track_id": "kick", "solo": True}
    assert api.http.get("/tracks/kick").json()["muted"] is True
    # the list says each change at once (it is encoded a track at a time, and kept)
    listed = {t["id"]: (t["muted"], t["solo"]) for t in api.http.get("/tracks").json()["tracks"]}
    assert listed == {"kick": (True, True), "bass": (False, False)}
    api.http.post("/tracks/bass/mute", json={"muted": True})
    api.http.post("/tracks/kick/mute", json={"muted": False})
    listed = {t["id"]: (t["muted"], t["solo"]) for t in api.http.get("/tracks").json()["tracks"]}
    assert listed == {"kick": (False, True), "bass": (True, False)}
    api.http.post("/tracks/kick/mute", json={"muted": True})
    assert api.http.get("/playback/status").json()["active_tracks"] == ["kick"]  # solo wins
    assert api.http.post("/tracks/ghost/mute", json={"muted": True}).status_code == 404
    assert api.http.post("/tracks/kick/mute", json={"muted": "maybe"}).status_code == 422


def test_scene_activation(api):
    body = seed_session_dict()
    body["scenes"] = {"verse": {"environment": {"bpm": 100}}}
    load(api, body)
    r = api.http.post("/scene/activate", json={"scene_id": "verse"})
    assert r.json() == {"status": "ok", "scene_id": "verse", "applied_at": {"step": 0, "beat": 0}}
    assert api.http.get("/playback/status").json()["current_scene"] == "verse"
    api.http.post("/playback/start")
    r = api.http.post("/scene/activate", json={"scene_id": "verse", "timing": "bar"})
    assert r.json()["applied_at"]["step"] % 16 == 0 and "change_id" in r.json()
    assert api.http.post("/scene/activate", json={"scene_id": "chorus"}).status_code == 404


def test_unknown_route_and_method_are_json(api):
    r = api.http.get("/no/such/thing")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    r = api.http.delete("/playback/status")
    assert r.status_code == 405 and "detail" in r.json()


def test_health(api):
    r = api.http.get("/health").json()
    assert r["status"] == "ok" and r["superdirt"] in ("answering", "not answering", "unknown")
