"""Polls (``GET /playback/status``, ``GET /tracks``) answered without a RequestHandler say
exactly what the handlers say, and anything else still goes through the handlers."""

from __future__ import annotations

import json

import httpx
import pytest

from .conftest import no_midi, seed_session_dict

POLLED = ("/playback/status", "/tracks")


def headers_of(r: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k != "date"}


@pytest.mark.parametrize("path", POLLED)
def test_a_poll_says_what_its_handler_says(api, path):
    api.http.post("/playback/session", json=seed_session_dict())
    api.http.post("/tracks/kick/mute", json={"muted": True})
    polled = api.http.get(path)
    handled = api.http.get(path + "?via=handler")  # a query string: the regular handler answers
    assert polled.status_code == handled.status_code == 200
    assert polled.json() == handled.json()
    assert headers_of(polled) == headers_of(handled)
    assert "date" in polled.headers and "server" not in polled.headers
    assert int(polled.headers["content-length"]) == len(polled.content)
    if path == "/tracks":
        assert {t["id"]: t["muted"] for t in polled.json()["tracks"]} == {"kick": True}


@pytest.mark.parametrize("path", POLLED)
def test_a_poll_from_an_allowed_origin_gets_cors_headers(api, path):
    origin = {"Origin": "http://localhost:5173"}
    polled, handled = api.http.get(path, headers=origin), api.http.get(path + "?x=1", headers=origin)
    assert polled.headers["access-control-allow-origin"] == "http://localhost:5173" == \
        handled.headers["access-control-allow-origin"]
    assert polled.headers["vary"] == "Origin"
    # a foreign origin may read (as before) but gets no CORS grant, so its page cannot see it
    assert "access-control-allow-origin" not in api.http.get(path, headers={"Origin": "https://evil.example"}).headers


@pytest.mark.parametrize("path", POLLED)
def test_refusals_and_other_methods_still_go_through_the_handlers(api, path):
    r = api.http.get(path, headers={"Host": "evil.example"})
    assert r.status_code == 403 and "Host" in r.json()["detail"]
    r = api.http.post(path, json={})
    assert r.status_code in (405, 422) and "detail" in r.json()
    r = api.http.request("GET", path, content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 200  # a body on a GET: the handler reads and ignores it


def test_polls_need_the_token_like_everything_else(osc_peer, tmp_path):
    from .server_harness import RunningServer

    server = RunningServer(osc_peer.port, tmp_path, no_midi(), token="s3cret")
    try:
        for path in POLLED:
            assert server.http.get(path).status_code == 401
            assert server.http.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert server.http.get(path, headers={"Authorization": "Bearer s3cret"}).status_code == 200
            assert server.http.get(path + "?token=s3cret").status_code == 200
    finally:
        server.close()


def test_polls_are_in_the_access_log(osc_peer, tmp_path):
    from .server_harness import RunningServer

    server = RunningServer(osc_peer.port, tmp_path, no_midi())
    try:
        for path in POLLED:
            server.http.get(path)
        server.call(server.server.access_log.flush)
        lines = server.server.access_log.path.read_text().splitlines()
        assert any(" access 200 GET /playback/status (127.0.0.1) " in line for line in lines)
        assert any(" access 200 GET /tracks (127.0.0.1) " in line for line in lines)
    finally:
        server.close()


def test_a_poll_reply_is_plain_json(api):
    r = api.http.get("/playback/status")
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(r.content)["playback_state"] == "stopped"


def test_a_poll_that_fails_says_so_and_keeps_the_connection(api, monkeypatch):
    def broken() -> dict:
        raise RuntimeError("no status today")

    monkeypatch.setattr(api.engine, "status", broken)
    r = api.http.get("/playback/status")
    assert r.status_code == 500 and "no status today" in r.json()["detail"]
    monkeypatch.undo()
    assert api.http.get("/playback/status").status_code == 200  # the same keep-alive client
