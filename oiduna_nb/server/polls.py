"""The two reads clients poll, answered without building a tornado ``RequestHandler``.

Dashboards and editors poll ``GET /playback/status`` and ``GET /tracks`` many times a second.
Under the load benchmark a RequestHandler's own work (its headers, routing, coroutine and
flush) cost more than the answer. So a plain poll (GET, no query string, no body, that the
access policy lets in) is answered here, straight onto its connection, with the same body
and headers as the handler would give. Anything else (a refusal or any other error to say,
a token in the query, HEAD, a CORS preflight) goes to the regular handler: one place says
how errors look, and the OpenAPI description is unchanged.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

import tornado.web
from tornado import httputil

from .base import JSON_HEADERS, cors_headers, http_date
from .playback import status_body
from .tracks import list_body

log = logging.getLogger("oiduna_nb.server")
POLLS: dict[str, Callable[[Any], bytes]] = {"/playback/status": status_body, "/tracks": list_body}
OK = httputil.ResponseStartLine("", 200, "OK")
FAILED = httputil.ResponseStartLine("", 500, "Internal Server Error")


class Application(tornado.web.Application):
    """tornado's Application, answering well-formed polls itself."""

    def find_handler(self, request: httputil.HTTPServerRequest, **kwargs: Any) -> httputil.HTTPMessageDelegate:
        ctx = self.settings["ctx"]
        ctx.sse.catch_up()  # every request starts here: a position due goes out first
        answer = POLLS.get(request.path) if request.method == "GET" and not request.query else None
        if answer is not None and "Content-Length" not in request.headers \
                and "Transfer-Encoding" not in request.headers:
            origin = request.headers.get("Origin")
            refused = ctx.policy.refusal("GET", request.host, origin, request.headers.get("Authorization"), None)
            if refused is None:
                return PollReply(self, request, answer, cors_headers(ctx.policy, origin))
        return super().find_handler(request, **kwargs)


class PollReply(httputil.HTTPMessageDelegate):
    def __init__(self, app: Application, request: httputil.HTTPServerRequest, answer: Callable[[Any], bytes],
                 cors: dict[str, str]) -> None:
        self.app = app
        self.request = request
        self.answer = answer
        self.cors = cors

    def finish(self) -> None:
        start, status = OK, 200
        try:
            body = self.answer(self.app.settings["ctx"].engine)
        except Exception as exc:  # as a handler would: say so, never drop the connection
            log.exception("answering %s", self.request.path)
            start, status = FAILED, 500
            body = json.dumps({"detail": f"Internal error: {exc!r}"}).encode()
        headers = httputil.HTTPHeaders({"Date": http_date(), **JSON_HEADERS, "Content-Length": str(len(body)),
                                        **self.cors})
        self.request.connection.write_headers(start, headers, body)
        self.request.connection.finish()
        self.app.settings["log_function"](Answered(self.request, status))


class Answered:
    """What the access log reads of a handler, for a poll answered without one."""

    def __init__(self, request: httputil.HTTPServerRequest, status: int) -> None:
        self.request = request
        self.status = status

    def get_status(self) -> int:
        return self.status
