"""``/api/scope/*`` forwarded to the Scope server at ``SCOPE_URL``, only when
``SCOPE_PROXY_ENABLE=true``: an allowlist of methods and paths, writes only with the token,
a body limit, timeouts, only safe headers, and 502/504 when Scope fails."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

import tornado.httpclient

from .base import ApiError, BaseHandler
from .openapi_ops import Operation

READ = ("GET",)
WRITE = ("POST", "PATCH", "DELETE")
# (method set, path pattern) the proxy lets through; anything else is refused.
ALLOWED = [
    (READ, r"health"),
    (READ, r"api/v1/pipeline/status"),
    (("POST",), r"api/v1/pipeline/load"),
    (READ, r"api/v1/webrtc/ice-servers"),
    (("POST",), r"api/v1/webrtc/offer"),
    (("PATCH", "DELETE"), r"api/v1/webrtc/offer/[A-Za-z0-9_-]{1,128}"),
    (READ, r"api/v1/(hardware|models/status|loras|plugins|prompts)"),
    (("POST",), r"api/v1/models/download"),
    (READ, r"api/v1/assets(/[A-Za-z0-9_./-]{1,256})?"),
    (READ, r"plugins"),
    (("DELETE",), r"api/v1/session/[A-Za-z0-9_-]{1,128}"),
]
FORWARDED_REQUEST_HEADERS = ("Content-Type", "Accept")
FORWARDED_RESPONSE_HEADERS = ("Content-Type",)
BODY_LIMIT = 256 * 1024
CONNECT_TIMEOUT, REQUEST_TIMEOUT = 5.0, 60.0


@dataclass
class ScopeProxy:
    url: str
    token: str

    @classmethod
    def from_settings(cls, settings: Any, api_token: str | None) -> "ScopeProxy | None":
        """On only when enabled and pointed somewhere; writes need a token, generated if none is set."""
        if not settings.scope_proxy_enable or not settings.scope_url:
            return None
        token = settings.scope_proxy_token or api_token or secrets.token_urlsafe(24)
        return cls(settings.scope_url.rstrip("/"), token)

    def write_token_ok(self, authorization: str | None, query_token: str | None) -> bool:
        offered = authorization[7:].strip() if authorization and authorization.lower().startswith("bearer ") else query_token
        return offered is not None and hmac.compare_digest(offered.encode(), self.token.encode())


def allowed(method: str, path: str) -> bool:
    if ".." in path.split("/"):
        return False
    return any(method in methods and re.fullmatch(pattern, path) for methods, pattern in ALLOWED)


class ScopeProxyHandler(BaseHandler):
    OPENAPI = {
        m: Operation(
            f"{m.upper()} forwarded to the Scope server (SCOPE_PROXY_ENABLE=true)",
            Any,
            body="none",
            media_type="application/json",
            errors=(401, 403, 404, 413, 502, 504),
        )
        for m in ("get", "post", "patch", "delete")
    }

    @property
    def body_limit(self) -> int:
        return min(BODY_LIMIT, self.ctx.max_body_bytes)

    async def _forward(self, path: str) -> None:
        proxy = self.ctx.scope_proxy
        if proxy is None:
            raise ApiError(404, "The Scope proxy is off (set SCOPE_PROXY_ENABLE=true and SCOPE_URL)")
        method = self.request.method or "GET"
        if not allowed(method, path):
            raise ApiError(403, f"{method} /{path} is not on the Scope proxy's allowlist")
        if method in WRITE and not proxy.write_token_ok(self.request.headers.get("Authorization"), self.get_query_argument("token", None)):
            raise ApiError(401, "Writes through the Scope proxy need the token: 'Authorization: Bearer <token>'")
        headers = {h: self.request.headers[h] for h in FORWARDED_REQUEST_HEADERS if h in self.request.headers}
        request = tornado.httpclient.HTTPRequest(
            f"{proxy.url}/{path}", method=method, headers=headers,
            body=self.body if method in ("POST", "PATCH") else None,
            allow_nonstandard_methods=True, follow_redirects=False,
            connect_timeout=CONNECT_TIMEOUT, request_timeout=REQUEST_TIMEOUT,
        )
        try:
            response = await tornado.httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        except tornado.httpclient.HTTPClientError as exc:  # timeouts raise even without raise_error
            if "timeout" in str(exc).lower():
                raise ApiError(504, f"Scope did not answer in time ({exc})") from None
            raise ApiError(502, f"Scope failed: {exc}") from None
        except OSError as exc:
            raise ApiError(502, f"Scope is not reachable at {proxy.url}: {exc}") from None
        if response.code == 599:
            raise ApiError(502, f"Scope is not reachable at {proxy.url}: {response.error}")
        self.set_status(response.code)
        self.clear_header("Content-Type")
        for h in FORWARDED_RESPONSE_HEADERS:
            if h in response.headers:
                self.set_header(h, response.headers[h])
        self.finish(response.body or b"")

    async def get(self, path: str) -> None:
        await self._forward(path)

    async def post(self, path: str) -> None:
        await self._forward(path)

    async def patch(self, path: str) -> None:
        await self._forward(path)

    async def delete(self, path: str) -> None:
        await self._forward(path)


ROUTES = [(r"/api/scope/(.*)", ScopeProxyHandler)]
