"""The Scope server's REST API (aiohttp): health, pipelines, ICE servers, the WebRTC offer,
and the additional endpoints. Errors say what went wrong in words a user can act on."""

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
    def __init__(self, url: str, timeout: float = 10.0, session: aiohttp.ClientSession | None = None) -> None:
        self.url = url.rstrip("/")
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

    async def request(self, method: str, path: str, json: Any = None, ok: tuple[int, ...] = (200,)) -> Any:
        try:
            async with self._http().request(method, self.url + path, json=json) as r:
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

    async def pipeline_status(self) -> dict[str, Any]:
        return await self.request("GET", "/api/v1/pipeline/status")

    async def wait_loaded(self, timeout: float = 600.0, poll: float = 0.5, on_progress: Progress | None = None) -> dict:
        """Poll until loaded. ``error`` fails with its reason; so does a ``not_loaded`` after
        loading began (the real server reports an error once, then reads not_loaded)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        seen_loading = False
        while True:
            status = await self.pipeline_status()
            state = status.get("status")
            waited = loop.time() - start
            if on_progress is not None:
                result = on_progress(state, waited)
                if isinstance(result, Awaitable):
                    await result
            if state == "loaded":
                return status
            if state == "error":
                raise PipelineFailed(f"the pipeline failed to load: {status.get('error') or status.get('message') or status}")
            if state == "loading":
                seen_loading = True
            elif state == "not_loaded" and (seen_loading or waited > 2 * poll):
                raise PipelineFailed(
                    "the pipeline is not loaded after the load began (it failed; the server reports "
                    f"an error once and then not_loaded): {status}"
                )
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
        await self.request("PATCH", f"/api/v1/webrtc/offer/{session_id}", {"candidates": candidates}, ok=(200, 204))

    async def teardown(self, session_id: str) -> None:
        await self.request("DELETE", f"/api/v1/webrtc/offer/{session_id}", ok=(200, 204, 404))

    # ---- the additional endpoints -------------------------------------------------------------

    async def hardware(self) -> Any:
        return await self.request("GET", "/api/v1/hardware")

    async def models_status(self) -> Any:
        return await self.request("GET", "/api/v1/models/status")

    async def download_models(self, **body: Any) -> Any:
        return await self.request("POST", "/api/v1/models/download", body or {})

    async def assets(self) -> Any:
        return await self.request("GET", "/api/v1/assets")

    async def loras(self) -> Any:
        return await self.request("GET", "/api/v1/loras")

    async def plugins(self) -> Any:
        """``/api/v1/plugins``, or ``/plugins`` on servers that keep it there."""
        try:
            return await self.request("GET", "/api/v1/plugins")
        except ScopeUnreachable:
            raise
        except ScopeError:
            return await self.request("GET", "/plugins")
