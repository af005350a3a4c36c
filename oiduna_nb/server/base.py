"""What every handler shares: access checks, CORS, bounded JSON bodies, errors as ``{"detail": ...}``."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, TypeVar

import tornado.web
from pydantic import BaseModel, TypeAdapter, ValidationError

from ..engine import Engine
from ..engine.errors import EngineError
from ..engine.ir import DEFAULT_TIMING, Timing
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
    scope_proxy: Any = None  # a ScopeProxy when SCOPE_PROXY_ENABLE=true


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
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("X-Content-Type-Options", "nosniff")

    def prepare(self) -> None:
        self._before_body = True
        self._check_request()
        self._before_body = False

    def _check_request(self) -> None:
        origin = self.request.headers.get("Origin")
        if origin is not None and self.ctx.policy.origin_allowed(origin):
            self.set_header("Access-Control-Allow-Origin", origin)
            self.set_header("Vary", "Origin")
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
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"Malformed JSON: {exc}") from None

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
        if isinstance(payload, BaseModel):
            payload = payload.model_dump(mode="json", exclude_none=True)
            # "status" first and the queued-change fields last, as the reference shows them
            payload = dict(sorted(payload.items(), key=lambda kv: (kv[0] != "status", kv[0] in QUEUED_KEYS)))
        self.set_status(status)
        self.finish(json.dumps(payload))

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, ApiError):
            self._send_error(e.status, e.detail)
        elif isinstance(e, EngineError):
            self._send_error(e.status, str(e))
        else:
            super()._handle_request_exception(e)

    def _send_error(self, status: int, detail: Any) -> None:
        if self._finished:
            return
        self.clear()
        self.set_default_headers()
        origin = self.request.headers.get("Origin")
        if origin is not None and self.ctx.policy.origin_allowed(origin):
            self.set_header("Access-Control-Allow-Origin", origin)
        if getattr(self, "_before_body", False) or status == 413:
            # Answered before the body was read: tornado closes the connection, so say so.
            self.set_header("Connection", "close")
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
