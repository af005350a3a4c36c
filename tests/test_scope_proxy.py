"""The API's Scope proxy: off by default; on, it forwards only what is allowed, writes need
the token, bodies are limited, only safe headers pass, and failures are 502/504."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import tornado.web

from .conftest import no_midi
from .scope_peer import ScopePeer
from .server_harness import RunningServer, free_port


class PeerThread:
    """The Scope peer on its own loop, as a separate server would be."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.peer = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        self.seen_headers: list[dict] = []

    async def _start(self) -> ScopePeer:
        recorder = self

        class Headers(tornado.web.RequestHandler):
            def get(self):
                recorder.seen_headers.append(dict(self.request.headers))
                self.finish({"status": "healthy"})

        class Slow(tornado.web.RequestHandler):
            async def get(self):
                await asyncio.sleep(3)
                self.finish({})

        return ScopePeer(extra_routes=[(r"/api/v1/prompts", Headers), (r"/api/v1/hardware", Slow)]).start()

    def close(self) -> None:
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
                           scope_proxy_token="scope-secret")
    yield server
    server.close()


def test_the_proxy_is_off_by_default(api):
    r = api.http.get("/api/scope/health")
    assert r.status_code == 404 and "SCOPE_PROXY_ENABLE" in r.json()["detail"]


def test_reads_forward_and_writes_need_the_token(proxied, scope):
    assert proxied.http.get("/api/scope/health").json()["status"] == "healthy"
    assert proxied.http.get("/api/scope/api/v1/pipeline/status").json() == {"status": "not_loaded"}
    load = {"pipeline_ids": ["passthrough"], "load_params": {"width": 128, "height": 128}}
    r = proxied.http.post("/api/scope/api/v1/pipeline/load", json=load)
    assert r.status_code == 401
    r = proxied.http.post("/api/scope/api/v1/pipeline/load", json=load, headers={"Authorization": "Bearer scope-secret"})
    assert r.status_code == 200 and scope.peer.loads == [(["passthrough"], {"width": 128, "height": 128})]
    assert proxied.http.get("/api/scope/plugins").status_code == 200


def test_the_allowlist_and_headers(proxied, scope):
    for method, path in [("GET", "/api/scope/api/v1/secrets"), ("PUT", "/api/scope/health"),
                         ("GET", "/api/scope/api/v1/assets/../../etc/passwd"), ("DELETE", "/api/scope/api/v1/loras")]:
        r = proxied.http.request(method, path, headers={"Authorization": "Bearer scope-secret"})
        assert r.status_code in (403, 405), (method, path, r.status_code)
    proxied.http.get("/api/scope/api/v1/prompts", headers={"Cookie": "session=abc", "X-Forwarded-For": "1.2.3.4",
                                                           "Accept": "application/json"})
    forwarded = scope.seen_headers[-1]
    assert "Cookie" not in forwarded and "X-Forwarded-For" not in forwarded and forwarded.get("Accept") == "application/json"
    r = proxied.http.post("/api/scope/api/v1/models/download", content=b"{" + b" " * 300_000 + b"}",
                          headers={"Content-Type": "application/json", "Authorization": "Bearer scope-secret"})
    assert r.status_code == 413
    r = proxied.http.post("/api/scope/api/v1/pipeline/load", json={}, headers={"Origin": "https://evil.example",
                                                                               "Authorization": "Bearer scope-secret"})
    assert r.status_code == 403  # the API's origin rule holds for the proxy too


def test_timeouts_and_unreachable(proxied, osc_peer, tmp_path):
    t0 = time.monotonic()
    r = proxied.http.get("/api/scope/api/v1/hardware")
    assert r.status_code == 504 and time.monotonic() - t0 < 3
    gone = RunningServer(osc_peer.port, tmp_path / "b", no_midi(), scope_url=f"http://127.0.0.1:{free_port()}",
                         scope_proxy_enable=True, scope_proxy_token="t")
    try:
        r = gone.http.get("/api/scope/health")
        assert r.status_code == 502 and "not reachable" in r.json()["detail"]
    finally:
        gone.close()
