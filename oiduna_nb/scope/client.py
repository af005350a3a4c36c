"""The Scope server's REST API (aiohttp): health, pipelines, ICE servers, the WebRTC offer,
tempo sync status, and the additional endpoints, at the paths of the real server (v0.2.4).
Errors say what went wrong in words a user can act on.

With ``token`` every request carries ``Authorization: Bearer <token>``: the API's Scope
proxy (``/api/scope``) wants it for writes, so the client can go through the proxy."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

import aiohttp
from pydantic import ValidationError

from .params import LoadParams

Progress = Callable[[str, float], Any]  # (status, seconds waited)


class ScopeError(Exception):
    pass


class ScopeUnreachable(ScopeError):
    pass


class PipelineFailed(ScopeError):
    pass


class PipelineNotLoaded(ScopeError):
    pass


class OfferRefused(ScopeError):
    pass


class ScopeClient:
    def __init__(
        self, url: str, timeout: float = 10.0, session: aiohttp.ClientSession | None = None, token: str | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._requested: tuple[list[str], dict[str, Any]] | None = None  # the last load asked for
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> "ScopeClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self, method: str, path: str, json: Any = None, ok: tuple[int, ...] = (200,), params: dict | None = None
    ) -> Any:
        try:
            async with self._http().request(method, self.url + path, json=json, params=params, headers=self.headers) as r:
                body = None if r.status == 204 or r.content_length == 0 else await r.json(content_type=None)
                if r.status not in ok:
                    detail = body.get("detail") if isinstance(body, dict) else body
                    raise ScopeError(f"Scope answered {r.status} to {method} {path}: {detail}")
                return body
        except aiohttp.ClientConnectionError as exc:
            raise ScopeUnreachable(f"Scope is not reachable at {self.url}: {exc}") from None
        except asyncio.TimeoutError:
            raise ScopeUnreachable(f"Scope at {self.url} did not answer {method} {path} in time") from None
        except ValueError as exc:  # not JSON
            raise ScopeError(f"Scope sent something that is not JSON for {method} {path}: {exc}") from None

    # ---- health and pipelines -------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """Any 200 is healthy (the real server says "healthy", the reference "ok")."""
        body = await self.request("GET", "/health")
        return body if isinstance(body, dict) else {"status": body}

    async def load_pipeline(self, pipeline_ids: list[str], **load_params: Any) -> None:
        try:
            params = LoadParams(**load_params)
        except ValidationError as exc:
            raise ScopeError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
        if not pipeline_ids:
            raise ScopeError("name at least one pipeline to load")
        await self.request(
            "POST", "/api/v1/pipeline/load", {"pipeline_ids": pipeline_ids, "load_params": params.model_dump()}
        )
        self._requested = (list(pipeline_ids), params.model_dump())

    def _is_requested(self, status: dict[str, Any]) -> bool:
        """Whether a ``loaded`` status is the load last asked for: right after a load the real
        server still reports what was loaded before, until its load task starts."""
        if self._requested is None:
            return True
        ids, params = self._requested
        if status.get("pipeline_id") is not None and status["pipeline_id"] not in ids:
            return False
        loaded = status.get("load_params")
        return not isinstance(loaded, dict) or all(loaded.get(k) == params[k] for k in ("width", "height"))

    async def pipeline_status(self) -> dict[str, Any]:
        return await self.request("GET", "/api/v1/pipeline/status")

    async def wait_loaded(
        self, timeout: float = 600.0, poll: float = 0.5, on_progress: Progress | None = None, start_grace: float = 5.0
    ) -> dict:
        """Poll until loaded. ``error`` is a failure, and so is a ``not_loaded`` after loading
        began (the real server reports an error once, then reads not_loaded). The real server
        does not say why (its ``error`` is always null; the reason is only in its log): the
        failure names what is known, the last loading stage and the status. Right after a load
        the real server can still read ``not_loaded`` (its load has not started): that counts as
        a failure only after ``start_grace`` seconds."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        seen_loading = False
        stage = None
        while True:
            status = await self.pipeline_status()
            state = status.get("status")
            waited = loop.time() - start
            if on_progress is not None:
                result = on_progress(state, waited)
                if isinstance(result, Awaitable):
                    await result
            if state == "loaded" and (self._is_requested(status) or waited > start_grace):
                return status
            if state == "loading":
                seen_loading = True
                stage = status.get("loading_stage") or stage
            if state == "error" or (state == "not_loaded" and (seen_loading or waited > start_grace)):
                raise PipelineFailed(failure_message(state, status, stage))
            if waited > timeout:
                raise PipelineFailed(f"the pipeline did not load in {timeout:.0f} s (last status {state})")
            await asyncio.sleep(poll)

    # ---- WebRTC --------------------------------------------------------------------------------

    async def ice_servers(self) -> list[dict[str, Any]]:
        return (await self.request("GET", "/api/v1/webrtc/ice-servers")).get("iceServers", [])

    async def offer(self, sdp: str, initial_parameters: dict[str, Any]) -> dict[str, Any]:
        if not initial_parameters.get("pipeline_ids"):
            raise ScopeError("initialParameters.pipeline_ids is required: without it no frame ever comes")
        try:
            return await self.request(
                "POST", "/api/v1/webrtc/offer", {"sdp": sdp, "type": "offer", "initialParameters": initial_parameters}
            )
        except ScopeUnreachable:
            raise
        except ScopeError as exc:
            if "not loaded" in str(exc).lower():
                raise PipelineNotLoaded("Scope has no pipeline loaded: load one first (load_pipeline)") from None
            raise OfferRefused(f"Scope refused the WebRTC offer: {exc}") from None

    async def trickle(self, session_id: str, candidates: list[dict[str, Any]]) -> None:
        """204 (an unknown session with no candidates too); 404 when candidates go to an unknown session."""
        await self.request("PATCH", f"/api/v1/webrtc/offer/{session_id}", {"candidates": candidates}, ok=(200, 204))

    async def teardown(self, session_id: str) -> None:
        await self.request("DELETE", f"/api/v1/webrtc/offer/{session_id}", ok=(200, 204, 404))

    # ---- tempo sync -------------------------------------------------------------------------------

    async def tempo_status(self) -> dict[str, Any]:
        """``{"enabled": ..., "beat_state": ...}``. The server uses a client's beat state only
        while its tempo sync is enabled (off by default); a server without the endpoint has none."""
        try:
            status = await self.request("GET", "/api/v1/tempo/status")
        except ScopeUnreachable:
            raise
        except ScopeError:
            return {"enabled": False, "beat_state": None}
        return status if isinstance(status, dict) else {"enabled": False, "beat_state": None}

    # ---- the additional endpoints -------------------------------------------------------------

    async def hardware(self) -> Any:
        return await self.request("GET", "/api/v1/hardware/info")

    async def models_status(self, pipeline_id: str) -> Any:
        """Whether a pipeline's models are downloaded (the server wants the pipeline named)."""
        return await self.request("GET", "/api/v1/models/status", params={"pipeline_id": pipeline_id})

    async def download_models(self, **body: Any) -> Any:
        return await self.request("POST", "/api/v1/models/download", body or {})

    async def assets(self) -> Any:
        return await self.request("GET", "/api/v1/assets")

    async def loras(self) -> Any:
        return await self.request("GET", "/api/v1/loras")

    async def plugins(self) -> Any:
        return await self.request("GET", "/api/v1/plugins")


def failure_message(state: str, status: dict[str, Any], stage: str | None) -> str:
    """What is known of a failed load: the server's status carries no reason (``error`` is
    null in v0.2.4; the reason is in the server's log), so say what was asked and how far it got."""
    reason = status.get("error")
    parts = [f"the pipeline failed to load (status {state!r})"]
    parts.append(f"Scope says: {reason}" if reason else "Scope does not report why: see the Scope server's log")
    if stage:
        parts.append(f"last loading stage: {stage}")
    return "; ".join(parts)
