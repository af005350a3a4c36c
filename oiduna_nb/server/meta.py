"""Health, the OpenAPI document, Swagger UI (/docs) and ReDoc (/redoc), served offline."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from .. import __version__
from .base import BaseHandler
from .models import Health
from .openapi_ops import Operation

SWAGGER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Oiduna API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>
const token = new URLSearchParams(location.search).get("token");
SwaggerUIBundle({url: "/openapi.json" + (token ? "?token=" + encodeURIComponent(token) : ""), dom_id: "#ui"});
</script></body></html>"""

REDOC_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Oiduna API</title></head>
<body><div id="redoc"></div>
<script src="/docs/static/redoc.standalone.js"></script>
<script>
const token = new URLSearchParams(location.search).get("token");
Redoc.init("/openapi.json" + (token ? "?token=" + encodeURIComponent(token) : ""), {}, document.getElementById("redoc"));
</script></body></html>"""


def docs_static_dir() -> Path | None:
    """Swagger UI and ReDoc files, shipped by the fastapi-offline package (no CDN needed)."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "static"
    return path if path.is_dir() else None


class HealthHandler(BaseHandler):
    public = True
    OPENAPI = {"get": Operation("Liveness and what the engine is connected to", Health)}

    def get(self) -> None:
        answering = self.engine.superdirt_answering
        self.reply(
            Health(
                version=__version__,
                playback_state=self.engine.status()["playback_state"],
                superdirt="unknown" if answering is None else ("answering" if answering else "not answering"),
                output=self.engine.output_name,
                midi=self.engine.midi_status(),
                sse_subscribers=len(self.ctx.sse.subscribers),
            )
        )


class OpenApiHandler(BaseHandler):
    def get(self) -> None:
        self.finish(json.dumps(self.application.settings["openapi"]))


# The doc pages load everything from this server: ReDoc's bundle shows a logo from its CDN
# ("API docs by Redocly"), which this policy stops before any request leaves (ReDoc then
# leaves the logo out). Inline scripts are our pages' own few lines; ReDoc runs a blob worker.
DOC_PAGE_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; "
                   "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
                   "connect-src 'self'")


class PageHandler(BaseHandler):
    def initialize(self, ctx, page: str) -> None:  # type: ignore[override]
        super().initialize(ctx)
        self.page = page

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", DOC_PAGE_POLICY)

    def get(self) -> None:
        self.finish(self.page)


ROUTES = [(r"/health", HealthHandler)]
DOC_ROUTES = [
    (r"/openapi.json", OpenApiHandler, {}),
    (r"/docs", PageHandler, {"page": SWAGGER_PAGE}),
    (r"/redoc", PageHandler, {"page": REDOC_PAGE}),
]
