"""Who may talk to the API: loopback by default, a token elsewhere, and only allowed origins
may change state (so a web page on another site cannot drive or fill the machine)."""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass, field
from functools import cached_property

LOCAL_ORIGIN = re.compile(r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$", re.I)
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The host part of a Host header (``[::1]:57122`` -> ``[::1]``)."""
    if host_header.startswith("["):
        return host_header.split("]")[0] + "]"
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


@dataclass
class AccessPolicy:
    bind_host: str = "127.0.0.1"
    token: str | None = None
    extra_origins: list[str] = field(default_factory=list)

    @classmethod
    def for_bind(cls, bind_host: str, token: str | None, cors_origins: str) -> "AccessPolicy":
        """Bound beyond loopback, a token is required: the given one, else a fresh one."""
        if token is None and not is_loopback(bind_host):
            token = secrets.token_urlsafe(24)
        origins = [o.strip().rstrip("/") for o in cors_origins.split(",") if o.strip()]
        return cls(bind_host, token, origins)

    @cached_property  # asked on every request; the bind address never changes
    def local_only(self) -> bool:
        return is_loopback(self.bind_host)

    def origin_allowed(self, origin: str) -> bool:
        origin = origin.rstrip("/")
        return "*" in self.extra_origins or origin in self.extra_origins or bool(LOCAL_ORIGIN.match(origin))

    def host_allowed(self, host_header: str) -> bool:
        """Bound to loopback, only loopback names: a DNS-rebound page names another host."""
        if not self.local_only:
            return True
        return host_name(host_header).lower() in LOCAL_HOSTS

    def token_ok(self, authorization: str | None, query_token: str | None) -> bool:
        if self.token is None:
            return True
        offered = None
        if authorization and authorization.lower().startswith("bearer "):
            offered = authorization[7:].strip()
        elif query_token:
            offered = query_token
        return offered is not None and hmac.compare_digest(offered.encode(), self.token.encode())

    def refusal(
        self,
        method: str,
        host: str,
        origin: str | None,
        authorization: str | None,
        query_token: str | None,
        public: bool = False,
    ) -> tuple[int, str] | None:
        """Why a request is refused (status, detail), or None when it may proceed."""
        if not self.host_allowed(host):
            return 403, f"Host {host!r} is not allowed: this server answers loopback names only"
        if not public and not self.token_ok(authorization, query_token):
            return 401, "A token is required: send 'Authorization: Bearer <token>' or '?token=<token>'"
        if origin is not None and method in STATE_CHANGING and not self.origin_allowed(origin):
            return 403, f"Origin {origin!r} is not allowed to change state (set OIDUNA_CORS_ORIGINS)"
        return None
