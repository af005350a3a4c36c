"""The tornado application and a server object that runs it on a given asyncio loop."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

from ..engine import Engine
from ..settings import Settings
from . import assets, changes, clients, meta, midi, playback, scenes, scope_proxy, stream, tracks, triggers
from .base import NotFoundHandler, ServerContext
from .openapi import build_spec
from .security import AccessPolicy

log = logging.getLogger("oiduna_nb.server")
API_MODULES = (playback, triggers, changes, clients, tracks, scenes, midi, assets, stream, scope_proxy, meta)
HANDSHAKE_EVERY = 10.0


class PortInUse(RuntimeError):
    pass


def api_routes() -> list[tuple[str, type]]:
    return [route for module in API_MODULES for route in module.ROUTES]


def make_app(engine: Engine, settings: Settings, policy: AccessPolicy, **ctx_overrides: Any) -> tornado.web.Application:
    registry = clients.ClientRegistry(engine.bus)
    ctx = ServerContext(
        engine=engine,
        policy=policy,
        clients=registry,
        assets=assets.AssetStore(settings.assets_dir),
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        scope_proxy=scope_proxy.ScopeProxy.from_settings(settings, policy.token),
        **ctx_overrides,
    )
    routes = api_routes()
    handlers: list[Any] = [(pattern, handler, {"ctx": ctx}) for pattern, handler in routes]
    handlers += [(pattern, handler, {"ctx": ctx, **extra}) for pattern, handler, extra in meta.DOC_ROUTES]
    static = meta.docs_static_dir()
    if static is not None:
        handlers.append((r"/docs/static/(.*)", tornado.web.StaticFileHandler, {"path": str(static)}))
    return tornado.web.Application(
        handlers,
        default_handler_class=NotFoundHandler,
        default_handler_args={"ctx": ctx},
        openapi=build_spec(routes),
        ctx=ctx,
    )


class ApiServer:
    """The HTTP/SSE API on an asyncio loop, for the notebook extension and ``oiduna-nb serve``."""

    def __init__(self, engine: Engine, settings: Settings, **ctx_overrides: Any) -> None:
        self.engine = engine
        self.settings = settings
        self.policy = AccessPolicy.for_bind(settings.api_host, settings.token, settings.cors_origins)
        self.app = make_app(engine, settings, self.policy, **ctx_overrides)
        self.server: tornado.httpserver.HTTPServer | None = None
        self.port: int | None = None
        self._sockets: list[socket.socket] = []
        self._tasks: list[asyncio.Task] = []

    @property
    def ctx(self) -> ServerContext:
        return self.app.settings["ctx"]

    @property
    def url(self) -> str:
        host = self.settings.api_host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    def start(self, loop: asyncio.AbstractEventLoop | None = None, on_error: Any = None) -> None:
        """Bind now (so a taken port fails here, clearly) and serve on this thread's loop.

        ``loop`` is that loop when it does not run yet (a kernel loading the extension from
        its config); ``on_error(message)`` hears of failures in background tasks.
        """
        loop = loop or asyncio.get_running_loop()
        host, port = self.settings.api_host, self.settings.api_port
        try:
            self._sockets = tornado.netutil.bind_sockets(port, address=host, family=_family(host))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"Port {port} on {host} is already in use (another oiduna_nb or Oiduna?). "
                    f"Choose another with API_PORT=... or --port ..., or stop the other server."
                ) from None
            raise
        self.port = self._sockets[0].getsockname()[1]
        # Room for the largest upload; each handler enforces its own, smaller limit.
        self.server = tornado.httpserver.HTTPServer(
            self.app, max_body_size=self.settings.max_upload_bytes + (1 << 20), idle_connection_timeout=60
        )
        self.server.add_sockets(self._sockets)
        task = loop.create_task(self._watch_superdirt())
        task.add_done_callback(lambda t: _report_failure(t, on_error))
        self._tasks.append(task)

    async def _watch_superdirt(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await loop.run_in_executor(None, self.engine.check_superdirt)
            except Exception as exc:  # never fatal: the engine plays either way
                log.warning("SuperDirt handshake failed: %r", exc)
            await asyncio.sleep(HANDSHAKE_EVERY)

    def stop_now(self) -> None:
        """Stop at once, from inside the loop's own thread (a notebook cell cannot await)."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        if self.server is not None:
            self.server.stop()
            # tornado closes open connections only in a coroutine; closing their streams
            # here ends them now (the SSE handlers notice and unsubscribe).
            for conn in list(getattr(self.server, "_connections", ())):
                conn.stream.close()
            self.server = None
        for sock in self._sockets:
            sock.close()
        self._sockets = []

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        if self.server is not None:
            self.server.stop()
            await self.server.close_all_connections()
            self.server = None
        for sock in self._sockets:
            sock.close()
        self._sockets = []


def _report_failure(task: asyncio.Task, on_error: Any) -> None:
    if task.cancelled() or task.exception() is None:
        return
    message = f"background task failed: {task.exception()!r}"
    if on_error is not None:
        on_error(message)
    else:
        log.error(message)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
