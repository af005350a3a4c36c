"""Client metadata: what each client says about itself, stored, never interpreted."""

from __future__ import annotations

import threading
import time
from typing import Any

from ..engine.bus import EventBus
from .base import ApiError, BaseHandler
from .models import ClientEntry, ClientRemoved, ClientUpdated
from .openapi_ops import Operation

MAX_CLIENTS = 256
MAX_CLIENT_ID = 128


class ClientRegistry:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._lock = threading.Lock()
        self._clients: dict[str, dict[str, Any]] = {}

    def update(self, client_id: str, metadata: dict[str, Any]) -> float:
        """Merge ``metadata`` into the client's (registering it if new); returns the time."""
        now = time.time()
        with self._lock:
            new = client_id not in self._clients
            if new and len(self._clients) >= MAX_CLIENTS:
                raise ApiError(422, f"Too many clients registered (limit {MAX_CLIENTS})")
            entry = self._clients.setdefault(client_id, {"metadata": {}, "updated_at": now})
            entry["metadata"] = {**entry["metadata"], **metadata}
            entry["updated_at"] = now
            merged = dict(entry["metadata"])
        if new:
            self._bus.publish("client_connected", {"client_id": client_id})
        self._bus.publish(
            "client_metadata_updated", {"client_id": client_id, "metadata": merged, "updated_at": now}
        )
        return now

    def all(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {k: {"metadata": dict(v["metadata"]), "updated_at": v["updated_at"]} for k, v in self._clients.items()}

    def get(self, client_id: str) -> dict[str, Any]:
        with self._lock:
            entry = self._clients.get(client_id)
            if entry is None:
                raise ApiError(404, "Client not found")
            return {"metadata": dict(entry["metadata"]), "updated_at": entry["updated_at"]}

    def remove(self, client_id: str) -> None:
        with self._lock:
            if self._clients.pop(client_id, None) is None:
                raise ApiError(404, "Client not found")
        self._bus.publish("client_disconnected", {"client_id": client_id})


def check_client_id(client_id: str) -> None:
    if len(client_id) > MAX_CLIENT_ID:
        raise ApiError(422, f"client_id is longer than {MAX_CLIENT_ID} characters")


class ClientMetadataHandler(BaseHandler):
    OPENAPI = {
        "post": Operation(
            "Register or update client metadata (any JSON object, merged into what is stored)",
            ClientUpdated,
            dict[str, Any],
            errors=(400, 413, 422),
        )
    }

    def post(self, client_id: str) -> None:
        check_client_id(client_id)
        body = self.json_body()
        if not isinstance(body, dict):
            raise ApiError(422, [{"type": "dict_type", "loc": ["body"], "msg": "Input should be a valid dictionary", "input": body}])
        updated_at = self.ctx.clients.update(client_id, body)
        self.reply(ClientUpdated(client_id=client_id, updated_at=updated_at))


class ClientListHandler(BaseHandler):
    OPENAPI = {"get": Operation("Get all clients and their metadata", dict[str, ClientEntry])}

    def get(self) -> None:
        self.reply(self.ctx.clients.all())


class ClientHandler(BaseHandler):
    OPENAPI = {
        "get": Operation("Get one client's metadata", ClientEntry, errors=(404,)),
        "delete": Operation("Remove a client from the session", ClientRemoved, errors=(404,)),
    }

    def get(self, client_id: str) -> None:
        self.reply(self.ctx.clients.get(client_id))

    def delete(self, client_id: str) -> None:
        self.ctx.clients.remove(client_id)
        self.reply(ClientRemoved(removed_client_id=client_id))


ROUTES = [
    (r"/session/clients", ClientListHandler),
    (r"/session/clients/([^/]+)/metadata", ClientMetadataHandler),
    (r"/session/clients/([^/]+)", ClientHandler),
]
