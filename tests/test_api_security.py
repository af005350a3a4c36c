"""Nothing from outside gets in by default; foreign origins cannot change state or upload."""

from __future__ import annotations

import time

import httpx

from oiduna_nb.server.security import AccessPolicy

from .audio_files import wav_bytes
from .conftest import no_midi, seed_session_dict

EVIL = {"Origin": "https://evil.example"}


def test_binds_loopback_by_default(api):
    assert api.server.settings.api_host == "127.0.0.1"
    assert all(s.getsockname()[0] == "127.0.0.1" for s in api.server._sockets)


def test_foreign_origin_cannot_change_state(api):
    for method, path, kwargs in [
        ("POST", "/playback/start", {}),
        ("POST", "/playback/session", {"json": seed_session_dict()}),
        ("PATCH", "/playback/environment", {"json": {"bpm": 60}}),
        ("DELETE", "/session/clients/x", {}),
        ("POST", "/assets/samples", {"files": {"file": ("k.wav", wav_bytes())}, "data": {"category": "kicks"}}),
    ]:
        r = api.http.request(method, path, headers=EVIL, **kwargs)
        assert r.status_code == 403, (method, path)
        assert "Origin" in r.json()["detail"]
        assert "access-control-allow-origin" not in r.headers
    assert api.http.get("/playback/status").json()["playback_state"] == "stopped"
    assert api.http.get("/assets/samples").json() == {"samples": {}}


def test_local_origins_may_and_get_cors_headers(api):
    origin = {"Origin": "http://localhost:3000"}
    r = api.http.post("/playback/start", headers=origin)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://localhost:3000"
    pre = api.http.options("/playback/session", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204 and "POST" in pre.headers["access-control-allow-methods"]
    assert api.http.options("/playback/session", headers=EVIL).status_code == 403


def test_configured_origins(osc_peer, tmp_path):
    from .server_harness import RunningServer

    server = RunningServer(osc_peer.port, tmp_path, no_midi(), cors_origins="https://editor.example")
    try:
        r = server.http.post("/playback/start", headers={"Origin": "https://editor.example"})
        assert r.status_code == 200
        assert server.http.post("/playback/start", headers=EVIL).status_code == 403
    finally:
        server.close()


def test_dns_rebinding_host_is_refused(api):
    r = api.http.get("/playback/status", headers={"Host": "evil.example:57122"})
    assert r.status_code == 403 and "Host" in r.json()["detail"]
    assert api.http.get("/playback/status", headers={"Host": "localhost:1"}).status_code == 200


def test_token_when_one_is_set(osc_peer, tmp_path):
    from .server_harness import RunningServer

    server = RunningServer(osc_peer.port, tmp_path, no_midi(), token="s3cret")
    try:
        assert server.http.get("/playback/status").status_code == 401
        assert server.http.get("/playback/status", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert server.http.get("/playback/status", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert server.http.get("/playback/status?token=s3cret").status_code == 200
        assert server.http.get("/health").status_code == 200  # liveness needs no token
        with httpx.stream("GET", f"{server.url}/stream?token=s3cret", timeout=5) as r:
            assert r.status_code == 200
            assert next(r.iter_lines()) .startswith("retry")
    finally:
        server.close()


def test_any_other_bind_address_requires_a_token():
    assert AccessPolicy.for_bind("127.0.0.1", None, "").token is None
    generated = AccessPolicy.for_bind("0.0.0.0", None, "")
    assert generated.token and len(generated.token) >= 24
    assert AccessPolicy.for_bind("192.0.2.10", "given", "").token == "given"
    assert not AccessPolicy.for_bind("0.0.0.0", None, "").local_only


def test_replies_carry_a_date_and_no_server_version(api):
    from email.utils import parsedate_to_datetime

    for r in (api.http.get("/playback/status"), api.http.get("/nowhere"),
              api.http.post("/tracks/ghost/mute", json={"muted": True})):
        assert "server" not in r.headers  # which tornado answers is nobody else's business
        assert abs(parsedate_to_datetime(r.headers["date"]).timestamp() - time.time()) < 5
        assert r.headers["x-content-type-options"] == "nosniff"
