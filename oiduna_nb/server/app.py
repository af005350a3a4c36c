"""The tornado application and a server object that runs it on a given asyncio loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import logging
import socket
import threading
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

from ..engine import Engine
from ..logs import AccessLog, route_server_logs
from ..settings import Settings
from . import assets, changes, clients, meta, midi, playback, polls, scenes, scope_proxy, stream, tracks, triggers
from .base import NotFoundHandler, ServerContext, sweep_slow_bodies
from .openapi import build_spec
from .security import AccessPolicy

log = logging.getLogger("oiduna_nb.server")
API_MODULES = (playback, triggers, changes, clients, tracks, scenes, midi, assets, stream, scope_proxy, meta)
HANDSHAKE_EVERY = 10.0


class PortInUse(RuntimeError):
    pass


def api_routes() -> list[tuple[str, type]]:
    return [route for module in API_MODULES for route in module.ROUTES]


def make_app(engine: Engine, settings: Settings, policy: AccessPolicy, access_log: Any = None,
             **ctx_overrides: Any) -> polls.Application:
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
    ctx.sse = stream.SseBroadcaster(engine.bus, ctx.max_sse_subscribers, ctx.sse_queue, ctx.sse_heartbeat)
    routes = api_routes()
    handlers: list[Any] = [(pattern, handler, {"ctx": ctx}) for pattern, handler in routes]
    handlers += [(pattern, handler, {"ctx": ctx, **extra}) for pattern, handler, extra in meta.DOC_ROUTES]
    static = meta.docs_static_dir()
    if static is not None:
        handlers.append((r"/docs/static/(.*)", tornado.web.StaticFileHandler, {"path": str(static)}))
    return polls.Application(
        handlers,
        default_handler_class=NotFoundHandler,
        default_handler_args={"ctx": ctx},
        openapi=build_spec(routes),
        ctx=ctx,
        log_function=access_log or (lambda handler: None),
    )


class ApiServer:
    """The HTTP/SSE API on a thread and asyncio loop of its own, for the notebook extension
    and ``oiduna-nb serve`` alike: no notebook cell, busy or blocked, ever stalls a client.
    (ipykernel runs its control channel on a thread for the same reason.) Commands reach the
    engine through its one thread-safe command path."""

    def __init__(self, engine: Engine, settings: Settings, **ctx_overrides: Any) -> None:
        self.engine = engine
        self.settings = settings
        self.policy = AccessPolicy.for_bind(settings.api_host, settings.token, settings.cors_origins)
        self.log_path = route_server_logs(settings.data_dir)
        self.access_log = AccessLog(settings.data_dir)
        ctx_overrides.setdefault("max_sse_subscribers", settings.max_sse_subscribers)
        self.app = make_app(engine, settings, self.policy, self.access_log, **ctx_overrides)
        self.server: tornado.httpserver.HTTPServer | None = None
        self.port: int | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._sockets: list[socket.socket] = []
        self._tasks: list[asyncio.Task] = []
        self._on_error: Any = None

    @property
    def ctx(self) -> ServerContext:
        return self.app.settings["ctx"]

    @property
    def url(self) -> str:
        host = self.settings.api_host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, on_error: Any = None) -> None:
        """Bind now (so a taken port fails here, clearly), then serve on the server's thread.

        ``on_error(message)`` hears of failures in background tasks (from the server's thread).
        """
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
        raise_open_file_limit()
        self._on_error = on_error
        self.loop = new_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="oiduna-api", daemon=True)
        self._thread.start()
        ready.wait(30)

    def _run(self, ready: threading.Event) -> None:
        loop = self.loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        # Room for the largest upload; each handler enforces its own, smaller limit.
        self.server = tornado.httpserver.HTTPServer(
            self.app, max_body_size=self.settings.max_upload_bytes + (1 << 20), idle_connection_timeout=60,
            max_header_size=64 * 1024,
        )
        self.server.add_sockets(self._sockets)
        for work in (self._watch_superdirt(), self._every_second()):
            task = loop.create_task(work)
            task.add_done_callback(lambda t: _report_failure(t, self._on_error))
            self._tasks.append(task)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _watch_superdirt(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await loop.run_in_executor(None, self.engine.check_superdirt)
            except Exception as exc:  # never fatal: the engine plays either way
                log.warning("SuperDirt handshake failed: %r", exc)
            await asyncio.sleep(HANDSHAKE_EVERY)

    async def _every_second(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            sweep_slow_bodies(self.ctx)
            self.access_log.flush()

    def call(self, fn: Any, timeout: float = 10.0) -> Any:
        """Run ``fn()`` (a plain function or a coroutine function) on the server's loop."""
        assert self.loop is not None
        if asyncio.iscoroutinefunction(fn):
            return asyncio.run_coroutine_threadsafe(fn(), self.loop).result(timeout)
        done: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(fn())
            except BaseException as exc:  # handed to the caller
                done.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return done.result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, close every connection, end the thread. Safe to call twice."""
        if self._thread is None or self.loop is None:
            return
        if self._thread.is_alive():
            try:
                self.call(self._shutdown, timeout)
            except (concurrent.futures.TimeoutError, RuntimeError):
                pass  # a stuck connection cannot hold the shutdown up
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
        self._thread = None
        for sock in self._sockets:
            sock.close()
        self._sockets = []

    async def _shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        if self.server is not None:
            self.server.stop()
            self.ctx.sse.close()
            self.access_log.flush()
            try:
                await asyncio.wait_for(self.server.close_all_connections(), 5)
            except asyncio.TimeoutError:
                pass
            self.server = None


def new_loop() -> asyncio.AbstractEventLoop:
    """The server's own loop: uvloop where it is installed (faster sockets), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def raise_open_file_limit() -> None:
    """Thousands of SSE subscribers need as many sockets: lift the soft limit to the hard one."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))
    except (ImportError, ValueError, OSError):  # not on this platform, or not allowed: keep it
        pass


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
