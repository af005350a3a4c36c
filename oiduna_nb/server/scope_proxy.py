"""``/api/scope/*`` forwarded to the Scope server at ``SCOPE_URL``, only when
``SCOPE_PROXY_ENABLE=true``: an allowlist of the real server's methods and paths, writes
only with the token, a body limit both ways, a cap on requests in flight, timeouts, only
safe headers, query strings forwarded (less our ``token``), 204 passed through with no body,
and every failure of Scope's side answered 502/504 with ``{"detail": ...}``."""

from __future__ import annotations

import hmac
import json
import re
import secrets
import urllib.parse
from dataclasses import dataclass
from typing import Any

import tornado.httpclient

from .base import ApiError, BaseHandler
from .openapi_ops import Operation

READ = ("GET",)
WRITE = ("POST", "PATCH", "DELETE")
# (method set, path pattern) the proxy lets through, at the real server's paths (v0.2.4);
# anything else is refused.
ALLOWED = [
    (READ, r"health"),
    (READ, r"api/v1/pipeline/status"),
    (("POST",), r"api/v1/pipeline/load"),
    (READ, r"api/v1/webrtc/ice-servers"),
    (("POST",), r"api/v1/webrtc/offer"),
    (("PATCH", "DELETE"), r"api/v1/webrtc/offer/[A-Za-z0-9_-]{1,128}"),
    (READ, r"api/v1/(hardware/info|models/status|loras|plugins|tempo/status)"),
    (("POST",), r"api/v1/models/download"),
    (READ, r"api/v1/assets(/[A-Za-z0-9_./-]{1,256})?"),
]
FORWARDED_REQUEST_HEADERS = ("Content-Type", "Accept")
FORWARDED_RESPONSE_HEADERS = ("Content-Type",)
NO_BODY = (204, 304)  # statuses that carry no body (tornado refuses to write one)
BODY_LIMIT = 256 * 1024
RESPONSE_LIMIT = 16 << 20  # a reply larger than this is a failure, not held in memory
CONNECT_TIMEOUT, REQUEST_TIMEOUT = 5.0, 60.0


@dataclass
class ScopeProxy:
    url: str
    token: str
    max_in_flight: int = 8
    in_flight: int = 0  # requests waiting on Scope now (all on the API's one loop)

    @classmethod
    def from_settings(cls, settings: Any, api_token: str | None) -> "ScopeProxy | None":
        """On only when enabled and pointed somewhere; writes need a token, generated if none is set."""
        if not settings.scope_proxy_enable or not settings.scope_url:
            return None
        token = settings.scope_proxy_token or api_token or secrets.token_urlsafe(24)
        return cls(settings.scope_url.rstrip("/"), token, getattr(settings, "scope_proxy_max_in_flight", 8))

    def write_token_ok(self, authorization: str | None, query_token: str | None) -> bool:
        offered = authorization[7:].strip() if authorization and authorization.lower().startswith("bearer ") else query_token
        return offered is not None and hmac.compare_digest(offered.encode(), self.token.encode())


def allowed(method: str, path: str) -> bool:
    if ".." in path.split("/"):
        return False
    return any(method in methods and re.fullmatch(pattern, path) for methods, pattern in ALLOWED)


def upstream_detail(body: bytes | None) -> str:
    """Scope's own ``detail`` when it sent one, else the start of its body."""
    text = (body or b"")[:500].decode("utf-8", "replace")
    try:
        detail = json.loads(body or b"").get("detail")
    except (ValueError, AttributeError):
        return text
    return str(detail) if detail is not None else text


class ScopeProxyHandler(BaseHandler):
    OPENAPI = {
        m: Operation(
            f"{m.upper()} forwarded to the Scope server (SCOPE_PROXY_ENABLE=true)",
            Any,
            body="none",
            media_type="application/json",
            errors=(401, 403, 404, 413, 502, 503, 504),
        )
        for m in ("get", "post", "patch", "delete")
    }

    @property
    def body_limit(self) -> int:
        return min(BODY_LIMIT, self.ctx.max_body_bytes)

    def _upstream_url(self, proxy: ScopeProxy, path: str) -> str:
        query = [(k, v.decode("utf-8", "replace")) for k, values in self.request.query_arguments.items()
                 if k != "token" for v in values]  # the token is ours, never Scope's
        return f"{proxy.url}/{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")

    async def _forward(self, path: str) -> None:
        proxy = self.ctx.scope_proxy
        if proxy is None:
            raise ApiError(404, "The Scope proxy is off (set SCOPE_PROXY_ENABLE=true and SCOPE_URL)")
        method = self.request.method or "GET"
        if not allowed(method, path):
            raise ApiError(403, f"{method} /{path} is not on the Scope proxy's allowlist")
        if method in WRITE and not proxy.write_token_ok(self.request.headers.get("Authorization"), self.get_query_argument("token", None)):
            raise ApiError(401, "Writes through the Scope proxy need the token: 'Authorization: Bearer <token>'")
        if proxy.in_flight >= proxy.max_in_flight:
            raise ApiError(503, f"The Scope proxy has {proxy.max_in_flight} requests in flight already: try again shortly")
        proxy.in_flight += 1
        try:
            response = await self._fetch(proxy, method, path)
        finally:
            proxy.in_flight -= 1
        if response.code >= 500:
            raise ApiError(502, f"Scope failed ({response.code}): {upstream_detail(response.body)}")
        self.set_status(response.code)
        self.clear_header("Content-Type")
        if response.code in NO_BODY:
            self.finish()
            return
        for h in FORWARDED_RESPONSE_HEADERS:
            if h in response.headers:
                self.set_header(h, response.headers[h])
        self.finish(response.body or b"")

    async def _fetch(self, proxy: ScopeProxy, method: str, path: str) -> tornado.httpclient.HTTPResponse:
        headers = {h: self.request.headers[h] for h in FORWARDED_REQUEST_HEADERS if h in self.request.headers}
        request = tornado.httpclient.HTTPRequest(
            self._upstream_url(proxy, path), method=method, headers=headers,
            body=self.body if method in ("POST", "PATCH") else None,
            allow_nonstandard_methods=True, follow_redirects=False,
            connect_timeout=CONNECT_TIMEOUT, request_timeout=REQUEST_TIMEOUT,
        )
        # a client of its own on the handler's loop: self-contained, and its reply size bounded
        client = tornado.httpclient.AsyncHTTPClient(force_instance=True, max_body_size=RESPONSE_LIMIT)
        try:
            response = await client.fetch(request, raise_error=False)
        except tornado.httpclient.HTTPClientError as exc:  # timeouts raise even without raise_error
            if exc.code == 599 and "timeout" in str(exc).lower():
                raise ApiError(504, f"Scope did not answer in time ({exc})") from None
            raise ApiError(502, f"Scope failed: {exc}") from None
        except OSError as exc:
            raise ApiError(502, f"Scope is not reachable at {proxy.url}: {exc}") from None
        except Exception as exc:  # a reply the client cannot read (headers or body too large, garbage)
            raise ApiError(502, f"Scope sent a reply the proxy cannot read: {type(exc).__name__}: {exc}") from None
        finally:
            client.close()
        if response.code == 599:
            raise ApiError(502, f"Scope is not reachable at {proxy.url}: {response.error}")
        return response

    async def get(self, path: str) -> None:
        await self._forward(path)

    async def post(self, path: str) -> None:
        await self._forward(path)

    async def patch(self, path: str) -> None:
        await self._forward(path)

    async def delete(self, path: str) -> None:
        await self._forward(path)


ROUTES = [(r"/api/scope/(.*)", ScopeProxyHandler)]
