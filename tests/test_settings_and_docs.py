"""Settings from the environment and .env; the OpenAPI document and the offline doc pages."""

from __future__ import annotations

import asyncio

from oiduna_nb.engine import EventBus
from oiduna_nb.settings import Settings


def test_settings_from_env_and_dotenv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("OSC_HOST=10.9.8.7\nOSC_PORT=57999\nAPI_PORT=6000\nMIDI_PORT=IAC Driver Bus 1\nOIDUNA_LOOKAHEAD=0.25\n")
    monkeypatch.setenv("OSC_PORT", "58000")  # the environment wins over .env
    s = Settings()
    assert (s.osc_host, s.osc_port, s.api_port, s.midi_port, s.lookahead) == ("10.9.8.7", 58000, 6000, "IAC Driver Bus 1", 0.25)
    assert s.api_host == "127.0.0.1"
    cfg = s.engine_config()
    assert cfg.osc_port == 58000 and cfg.lookahead == 0.25 and cfg.midi_port == "IAC Driver Bus 1"


def test_openapi_document_covers_every_route(api):
    from oiduna_nb.server import api_routes

    spec = api.http.get("/openapi.json").json()
    assert spec["openapi"] == "3.1.0"
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for path, method in [
        ("/playback/session", "post"), ("/playback/environment", "patch"), ("/playback/tracks/{track_id}/params", "patch"),
        ("/playback/start", "post"), ("/playback/stop", "post"), ("/playback/pause", "post"), ("/playback/status", "get"),
        ("/playback/trigger/osc", "post"), ("/playback/trigger/midi", "post"), ("/playback/changes/{change_id}", "delete"),
        ("/playback/changes/pending", "get"), ("/playback/changes/cancel-all", "post"),
        ("/session/clients/{client_id}/metadata", "post"), ("/session/clients", "get"),
        ("/session/clients/{client_id}", "get"), ("/session/clients/{client_id}", "delete"), ("/tracks", "get"),
        ("/tracks/{track_id}", "get"), ("/tracks/{track_id}/mute", "post"), ("/tracks/{track_id}/solo", "post"),
        ("/scene/activate", "post"), ("/midi/ports", "get"), ("/midi/port", "post"), ("/midi/panic", "post"),
        ("/assets/samples", "post"), ("/assets/samples", "get"), ("/assets/synthdefs", "post"), ("/stream", "get"),
        ("/health", "get"),
    ]:
        assert (path, method) in documented, (path, method)
    assert len(api_routes()) == len(spec["paths"])
    session_schema = spec["paths"]["/playback/session"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert session_schema["anyOf"][0] == {"$ref": "#/components/schemas/Session"}
    assert "Environment" in spec["components"]["schemas"]


def test_swagger_and_redoc_are_served_without_a_cdn(api):
    docs = api.http.get("/docs")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    assert "/docs/static/swagger-ui-bundle.js" in docs.text and "http" not in docs.text.split("<script src=")[1][:10]
    assert api.http.get("/docs/static/swagger-ui-bundle.js").status_code == 200
    redoc = api.http.get("/redoc")
    assert redoc.status_code == 200 and "/docs/static/redoc.standalone.js" in redoc.text
    assert api.http.get("/docs/static/redoc.standalone.js").status_code == 200


def test_bus_type_filter():
    async def main():
        bus = EventBus()
        only = bus.subscribe(types={"position"})
        everything = bus.subscribe()
        bus.publish("status", {})
        bus.publish("position", {"step": 1})
        await asyncio.sleep(0)
        return [e.type for e in [only.get_nowait()]], everything.pending()

    got, pending = asyncio.run(main())
    assert got == ["position"] and pending == 2
