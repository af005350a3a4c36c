"""The API's Scope proxy: off by default; on, it forwards only the real server's paths,
writes need the token, query strings go along (less our token), 204 passes through with no
body, bodies are limited, requests in flight are capped, only safe headers pass, and every
failure on Scope's side is 502/504 with a ``detail``."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import tornado.web

from .conftest import eventually, no_midi
from .scope_peer import ScopePeer
from .server_harness import RunningServer, free_port

AUTH = {"Authorization": "Bearer scope-secret"}


class PeerThread:
    """The Scope peer on its own loop, as a separate server would be, with a few routes of
    its own in front: one recording what reaches it, one slow, one held until released, one
    answering 800 KB of headers (as a real reply once did), one failing."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.seen: list[tuple[dict, str]] = []  # (headers, query) of each recorded request
        self.held = 0
        self.peer = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> ScopePeer:
        recorder = self
        self.release = asyncio.Event()

        class Recorded(tornado.web.RequestHandler):
            def get(self):
                recorder.seen.append((dict(self.request.headers), self.request.query))
                self.finish({"vram_gb": None})

        class Slow(tornado.web.RequestHandler):
            async def get(self):
                await asyncio.sleep(3)
                self.finish({})

        class Held(tornado.web.RequestHandler):
            async def get(self):
                recorder.held += 1
                await recorder.release.wait()
                self.finish({"plugins": []})

        class HugeHeaders(tornado.web.RequestHandler):
            def get(self):
                for i in range(800):
                    self.set_header(f"X-Filler-{i}", "x" * 1000)
                self.finish({})

        class Failing(tornado.web.RequestHandler):
            def get(self):
                self.set_status(500)
                self.finish({"detail": "pipeline exploded"})

        return ScopePeer(extra_routes=[
            (r"/api/v1/hardware/info", Recorded), (r"/api/v1/loras", Slow), (r"/api/v1/plugins", Held),
            (r"/api/v1/assets/huge", HugeHeaders), (r"/api/v1/assets/failing", Failing),
        ]).start()

    def set_release(self) -> None:
        self.loop.call_soon_threadsafe(self.release.set)

    def close(self) -> None:
        self.set_release()
        asyncio.run_coroutine_threadsafe(self.peer.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def scope():
    peer = PeerThread()
    yield peer
    peer.close()


@pytest.fixture
def proxied(scope, osc_peer, tmp_path, monkeypatch):
    import oiduna_nb.server.scope_proxy as proxy_module

    monkeypatch.setattr(proxy_module, "REQUEST_TIMEOUT", 1.0)
    server = RunningServer(osc_peer.port, tmp_path, no_midi(), scope_url=scope.peer.url, scope_proxy_enable=True,
                           scope_proxy_token="scope-secret", scope_proxy_max_in_flight=2)
    yield server
    server.close()


def test_the_proxy_is_off_by_default(api):
    r = api.http.get("/api/scope/health")
    assert r.status_code == 404 and "SCOPE_PROXY_ENABLE" in r.json()["detail"]


def test_reads_forward_and_writes_need_the_token(proxied, scope):
    assert proxied.http.get("/api/scope/health").json()["status"] == "healthy"
    assert proxied.http.get("/api/scope/api/v1/pipeline/status").json()["status"] == "not_loaded"
    load = {"pipeline_ids": ["passthrough"], "load_params": {"width": 128, "height": 128}}
    r = proxied.http.post("/api/scope/api/v1/pipeline/load", json=load)
    assert r.status_code == 401
    r = proxied.http.post("/api/scope/api/v1/pipeline/load", json=load, headers=AUTH)
    assert r.status_code == 200 and scope.peer.loads == [(["passthrough"], {"width": 128, "height": 128})]


def test_204_passes_through_with_no_body(proxied):
    # trickle ICE with no candidates and teardown: both 204 from the server
    r = proxied.http.patch("/api/scope/api/v1/webrtc/offer/gone", json={"candidates": []}, headers=AUTH)
    assert r.status_code == 204 and r.content == b""
    r = proxied.http.delete("/api/scope/api/v1/webrtc/offer/gone", headers=AUTH)
    assert r.status_code == 204 and r.content == b""
    candidate = {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
    r = proxied.http.patch("/api/scope/api/v1/webrtc/offer/gone", json={"candidates": [candidate]}, headers=AUTH)
    assert r.status_code == 404 and "not found" in r.json()["detail"]


def test_query_strings_go_along_but_not_our_token(proxied, scope):
    r = proxied.http.get("/api/scope/api/v1/models/status", params={"pipeline_id": "passthrough"})
    assert r.status_code == 200 and r.json()["downloaded"] is True
    r = proxied.http.get("/api/scope/api/v1/models/status")
    assert r.status_code == 422  # the server's own answer, passed through
    proxied.http.get("/api/scope/api/v1/hardware/info", params={"token": "scope-secret", "verbose": "1"})
    assert scope.seen[-1][1] == "verbose=1"


def test_the_allowlist_is_the_real_servers_paths(proxied, scope):
    for path in ["health", "api/v1/pipeline/status", "api/v1/webrtc/ice-servers", "api/v1/hardware/info",
                 "api/v1/tempo/status", "api/v1/assets", "api/v1/assets/some/file.png"]:
        assert proxied.http.get(f"/api/scope/{path}").status_code == 200, path
    refused = [("GET", "api/v1/secrets"), ("PUT", "health"), ("GET", "api/v1/assets/../../etc/passwd"),
               ("DELETE", "api/v1/loras"), ("GET", "api/v1/hardware"), ("GET", "plugins"),
               ("GET", "api/v1/prompts"), ("DELETE", "api/v1/session/abc"), ("POST", "api/v1/tempo/enable"),
               ("POST", "api/v1/restart")]
    for method, path in refused:
        r = proxied.http.request(method, f"/api/scope/{path}", headers=AUTH)
        assert r.status_code in (403, 405), (method, path, r.status_code)
        assert "detail" in r.json()


def test_only_safe_headers_and_bounded_bodies(proxied, scope):
    proxied.http.get("/api/scope/api/v1/hardware/info", headers={
        "Cookie": "session=abc", "X-Forwarded-For": "1.2.3.4", "Accept": "application/json", **AUTH})
    forwarded = scope.seen[-1][0]
    assert "Cookie" not in forwarded and "X-Forwarded-For" not in forwarded and "Authorization" not in forwarded
    assert forwarded.get("Accept") == "application/json"
    r = proxied.http.post("/api/scope/api/v1/models/download", content=b"{" + b" " * 300_000 + b"}",
                          headers={"Content-Type": "application/json", **AUTH})
    assert r.status_code == 413
    r = proxied.http.post("/api/scope/api/v1/pipeline/load", json={}, headers={"Origin": "https://evil.example", **AUTH})
    assert r.status_code == 403  # the API's origin rule holds for the proxy too


def test_scope_failures_are_502_or_504_with_a_detail(proxied, osc_peer, tmp_path):
    r = proxied.http.get("/api/scope/api/v1/assets/huge")  # 800 KB of headers: unreadable
    assert r.status_code == 502 and "cannot read" in r.json()["detail"]
    r = proxied.http.get("/api/scope/api/v1/assets/failing")
    assert r.status_code == 502 and "pipeline exploded" in r.json()["detail"]
    t0 = time.monotonic()
    r = proxied.http.get("/api/scope/api/v1/loras")
    assert r.status_code == 504 and "in time" in r.json()["detail"] and time.monotonic() - t0 < 3
    gone = RunningServer(osc_peer.port, tmp_path / "b", no_midi(), scope_url=f"http://127.0.0.1:{free_port()}",
                         scope_proxy_enable=True, scope_proxy_token="t")
    try:
        r = gone.http.get("/api/scope/health")
        assert r.status_code == 502 and "not reachable" in r.json()["detail"]
    finally:
        gone.close()


def test_requests_in_flight_are_capped(proxied, scope, monkeypatch):
    import oiduna_nb.server.scope_proxy as proxy_module

    monkeypatch.setattr(proxy_module, "REQUEST_TIMEOUT", 30.0)
    with ThreadPoolExecutor(2) as pool, httpx.Client(base_url=proxied.url, timeout=30) as http:
        waiting = [pool.submit(http.get, "/api/scope/api/v1/plugins") for _ in range(2)]
        assert eventually(lambda: scope.held == 2)  # the cap (2 here) is in flight
        r = http.get("/api/scope/health")
        assert r.status_code == 503 and "in flight" in r.json()["detail"]
        scope.set_release()
        assert [f.result().status_code for f in waiting] == [200, 200]
    assert proxied.http.get("/api/scope/health").status_code == 200  # room again
