"""What every handler shares: access checks, CORS, bounded JSON bodies, errors as ``{"detail": ...}``."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, TypeVar

import tornado.web
from tornado import httputil
from pydantic import BaseModel, TypeAdapter, ValidationError

from ..engine import Engine
from ..engine.errors import EngineError
from ..engine.ir import DEFAULT_TIMING, Timing
from ..engine.limits import MAX_JSON_DEPTH, json_depth_error
from .security import AccessPolicy

log = logging.getLogger("oiduna_nb.server")
M = TypeVar("M", bound=BaseModel)
TIMING_ADAPTER: TypeAdapter = TypeAdapter(Timing)
QUEUED_KEYS = ("change_id", "apply_at_step")


class ApiError(Exception):
    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def validation_detail(exc: ValidationError, prefix: tuple = ("body",)) -> list[dict[str, Any]]:
    """Pydantic errors in the seed's 422 shape: type, loc (starting with "body"), msg, input."""
    return [
        {**err, "loc": [*prefix, *err["loc"]]}
        for err in exc.errors(include_url=False, include_context=False)
    ]


@dataclass
class ServerContext:
    """What the handlers need, handed to each through tornado's initialize()."""

    engine: Engine
    policy: AccessPolicy
    clients: Any  # ClientRegistry
    assets: Any  # AssetStore
    max_body_bytes: int
    max_upload_bytes: int
    sse_heartbeat: float = 15.0
    sse_queue: int = 1024
    max_sse_subscribers: int = 2048
    # A body that arrives slower than this (after the grace period) is cut off with 408:
    # a client trickling bytes must not hold a connection and its buffer for ever.
    min_body_rate: float = 4096.0  # bytes per second
    body_grace: float = 10.0  # seconds before the rate is checked
    scope_proxy: Any = None  # a ScopeProxy when SCOPE_PROXY_ENABLE=true
    sse: Any = None  # the SseBroadcaster: every open /stream connection
    receiving: set = field(default_factory=set)  # handlers whose request body is still arriving


def sweep_slow_bodies(ctx: ServerContext) -> None:
    """Once a second on the server's loop: cut off bodies that trickle in too slowly."""
    now = time.monotonic()
    for handler in [h for h in ctx.receiving if h.body_too_slow(now)]:
        handler.cut_off_slow_body()


JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "X-Content-Type-Options": "nosniff"}


def cors_headers(policy: AccessPolicy, origin: str | None) -> dict[str, str]:
    """What lets a page on an allowed origin read a reply (nothing for any other origin)."""
    if origin is None or not policy.origin_allowed(origin):
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


_date: tuple[int, str] = (0, "")


def http_date() -> str:
    """The Date header of a reply: formatted once a second (the header says no more than that),
    not once a request as tornado does (5% of a small request's time under load)."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, httputil.format_timestamp(now))
    return _date[1]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


@tornado.web.stream_request_body
class BaseHandler(tornado.web.RequestHandler):
    ctx: ServerContext
    upload = False  # multipart endpoints take the upload limit instead of the JSON one
    public = False  # answers without a token (health)

    def initialize(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self._chunks: list[bytes] = []
        self._size = 0

    @property
    def engine(self) -> Engine:
        return self.ctx.engine

    @property
    def body_limit(self) -> int:
        return self.ctx.max_upload_bytes if self.upload else self.ctx.max_body_bytes

    # ---- access, CORS, body size: before the body is read ----------------------------

    def set_default_headers(self) -> None:
        for name, value in JSON_HEADERS.items():
            self.set_header(name, value)

    def clear(self) -> None:
        """tornado's ``clear()`` but for the Date header's cost, and without a ``Server``
        header (which version of tornado answers is nobody else's business)."""
        self._headers = httputil.HTTPHeaders({"Date": http_date()})
        self.set_default_headers()
        self._write_buffer = []
        self._status_code = 200
        self._reason = httputil.responses[200]

    def prepare(self) -> None:
        self._before_body = True
        self._check_request()
        self._before_body = False
        if self.request.method in ("POST", "PUT", "PATCH"):
            self._started = time.monotonic()
            self.ctx.receiving.add(self)  # watched by the server's one body-rate sweep

    def body_too_slow(self, now: float) -> bool:
        """A body that trickles in slower than the minimum rate, past the grace period."""
        elapsed = now - self._started
        return elapsed > self.ctx.body_grace and self._size < self.ctx.min_body_rate * elapsed

    def cut_off_slow_body(self) -> None:
        self._body_complete()
        self._send_error(408, f"Request body too slow (under {self.ctx.min_body_rate:.0f} bytes/s)")
        self.request.connection.close()

    def on_finish(self) -> None:
        self._body_complete()

    def on_connection_close(self) -> None:
        self._body_complete()

    def _body_complete(self) -> None:
        """The body has arrived (or never will): stop watching its rate."""
        self.ctx.receiving.discard(self)

    def compute_etag(self) -> None:
        return None  # live state: hashing every reply for an ETag buys nothing

    def _check_request(self) -> None:
        origin = self.request.headers.get("Origin")
        for name, value in cors_headers(self.ctx.policy, origin).items():
            self.set_header(name, value)
        refusal = self.ctx.policy.refusal(
            self.request.method or "GET",
            self.request.host,
            origin,
            self.request.headers.get("Authorization"),
            self.get_query_argument("token", None),
            public=self.public,
        )
        if refusal is not None:
            raise ApiError(*refusal)
        length = self.request.headers.get("Content-Length")
        if length is not None:
            try:
                if int(length) > self.body_limit:
                    raise ApiError(413, f"Request body too large (limit {self.body_limit} bytes)")
            except ValueError:
                raise ApiError(400, "Invalid Content-Length") from None

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self.body_limit:  # chunked bodies have no Content-Length to check first
            raise ApiError(413, f"Request body too large (limit {self.body_limit} bytes)")
        self._chunks.append(chunk)

    @property
    def body(self) -> bytes:
        return b"".join(self._chunks)

    def options(self, *args: Any) -> None:
        """CORS preflight: allowed origins only (prepare() refused the rest)."""
        origin = self.request.headers.get("Origin")
        if origin is None or not self.ctx.policy.origin_allowed(origin):
            raise ApiError(403, "Origin not allowed")
        self.set_header("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS")
        self.set_header("Access-Control-Allow-Headers", "Content-Type, Authorization, Last-Event-ID")
        self.set_header("Access-Control-Max-Age", "600")
        self.set_status(204)
        self.finish()

    # ---- bodies ----------------------------------------------------------------------

    def json_body(self, required: bool = True) -> Any:
        """The JSON body; 400 for malformed JSON or a wrong content type."""
        raw = self.body
        if not raw.strip():
            if required:
                raise ApiError(400, "A JSON request body is required")
            return None
        ctype = self.request.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            raise ApiError(400, "Content-Type must be application/json")
        self._body_complete()
        try:
            body = json.loads(raw, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"Malformed JSON: {exc}") from None
        except RecursionError:
            raise ApiError(400, "Malformed JSON: nested too deeply to read") from None
        problem = json_depth_error(body, MAX_JSON_DEPTH)
        if problem is not None:
            raise ApiError(422, [{"type": "value_error", "loc": ["body"], "msg": f"The body is {problem}",
                                  "input": None}])
        return body

    def parse(self, model: type[M], data: Any, prefix: tuple = ("body",)) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise ApiError(422, validation_detail(exc, prefix)) from None

    def parse_wrapped(self, model: type[M], default_timing: Any = DEFAULT_TIMING) -> tuple[M, Any, bool]:
        """A body either bare or in the seed's ``{"data": ..., "timing": ...}`` wrapper.

        Returns (data, timing, whether the timing was given).
        """
        body = self.json_body()
        if isinstance(body, dict) and "data" in body and set(body) <= {"data", "timing"}:
            data = self.parse(model, body["data"], ("body", "data"))
            if "timing" not in body:
                return data, default_timing, False
            try:
                timing = TIMING_ADAPTER.validate_python(body["timing"])
            except ValidationError as exc:
                raise ApiError(422, validation_detail(exc, ("body", "timing"))) from None
            return data, timing, True
        return self.parse(model, body), default_timing, False

    # ---- responses and errors ----------------------------------------------------------

    def reply(self, payload: BaseModel | dict[str, Any], status: int = 200) -> None:
        """The JSON reply (models as the reference orders their fields; dicts as they are)."""
        if isinstance(payload, BaseModel):
            payload = payload.model_dump(mode="json", exclude_none=True)
            # "status" first and the queued-change fields last, as the reference shows them
            payload = dict(sorted(payload.items(), key=lambda kv: (kv[0] != "status", kv[0] in QUEUED_KEYS)))
        if status != 200:
            self.set_status(status)
        self.finish(json.dumps(payload).encode())

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, ApiError):
            self._send_error(e.status, e.detail)
        elif isinstance(e, EngineError):
            self._send_error(e.status, str(e))
        elif isinstance(e, tornado.web.HTTPError) and e.status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
            self._send_error(405, f"Method {self.request.method} not allowed; allowed: {', '.join(self.allowed_methods())}")
        else:
            super()._handle_request_exception(e)

    def allowed_methods(self) -> list[str]:
        """The methods this path answers (the ``Allow`` header of a 405)."""
        base = tornado.web.RequestHandler
        return [
            m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
            if getattr(type(self), m.lower()) is not getattr(base, m.lower())
        ] or ["OPTIONS"]

    def _send_error(self, status: int, detail: Any) -> None:
        if self._finished:
            return
        self.clear()
        self.set_default_headers()
        origin = self.request.headers.get("Origin")
        if origin is not None and self.ctx.policy.origin_allowed(origin):
            self.set_header("Access-Control-Allow-Origin", origin)
        if getattr(self, "_before_body", False) or status in (405, 408, 413):
            # Answered before the body was read: tornado closes the connection, so say so.
            self.set_header("Connection", "close")
        if status == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        self.set_status(status)
        self.finish(json.dumps({"detail": detail}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code >= 500:
            exc = kwargs.get("exc_info", (None, None))[1]
            detail = f"Internal error: {exc!r}" if exc else "Internal error"
        else:
            detail = self._reason
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"detail": detail}))


class NotFoundHandler(BaseHandler):
    def _check_request(self) -> None:
        super()._check_request()
        raise ApiError(404, "Not Found")
