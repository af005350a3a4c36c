"""The OpenAPI 3.1 document, generated from the routes and the pydantic models they use."""

from __future__ import annotations

import inspect
import re
from typing import Any

from pydantic import BaseModel, TypeAdapter

from .. import __version__
from ..engine.ir import Timing
from .models import ErrorDetail, ValidationErrorResponse

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "Malformed JSON or wrong content type",
    401: "Token missing or wrong",
    403: "Origin or host not allowed",
    404: "Not found",
    413: "Body too large",
    422: "Validation error",
    409: "Conflict: a device the request needs is unavailable (no MIDI system), or a file of that name exists",
    503: "Too many subscribers (the SSE cap), or the proxied server is busy",
    502: "The proxied server failed",
    504: "The proxied server did not answer in time",
    507: "Not enough space to store the upload",
}
PATH_EXAMPLES = {"track_id": "kick", "client_id": "user_alice_mars", "change_id": "change_123"}


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, tp: Any) -> dict[str, Any]:
        schema = TypeAdapter(tp).json_schema(ref_template=REF)
        self.components.update(schema.pop("$defs", {}))
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            self.components[tp.__name__] = schema
            return {"$ref": REF.format(model=tp.__name__)}
        return schema


def _openapi_path(pattern: str, handler: type, method: str) -> tuple[str, list[str]]:
    names = [p for p in inspect.signature(getattr(handler, method)).parameters if p != "self"]
    parts = iter(names)
    path = re.sub(r"\([^)]*\)", lambda _: "{" + next(parts) + "}", pattern)
    return path, names


def build_spec(routes: list[tuple[str, type]]) -> dict[str, Any]:
    schemas = _Schemas()
    error_ref = schemas.ref(ErrorDetail)
    validation_ref = schemas.ref(ValidationErrorResponse)
    timing_schema = schemas.ref(Timing)
    paths: dict[str, Any] = {}
    for pattern, handler in routes:
        for method, op in getattr(handler, "OPENAPI", {}).items():
            path, params = _openapi_path(pattern, handler, method)
            operation: dict[str, Any] = {
                "summary": op.summary,
                "operationId": f"{method}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}",
                "tags": [pattern.strip("/").split("/")[0]],
                "parameters": [
                    {"name": n, "in": "path", "required": True, "schema": {"type": "string"}, "example": PATH_EXAMPLES.get(n, "x")}
                    for n in params
                ],
            }
            if op.description:
                operation["description"] = op.description
            if op.body in ("json", "wrapped") and op.request is not None:
                body = schemas.ref(op.request)
                if op.body == "wrapped":
                    body = {
                        "anyOf": [
                            body,
                            {
                                "type": "object",
                                "properties": {"data": body, "timing": timing_schema},
                                "required": ["data"],
                                "additionalProperties": False,
                            },
                        ]
                    }
                operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
            elif op.body == "multipart":
                props = {
                    name: {"type": "string", "format": "binary"} if kind == "file" else {"type": "string"}
                    for name, kind in op.multipart_fields.items()
                }
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {"type": "object", "properties": props, "required": list(props)}
                        }
                    },
                }
            ok: dict[str, Any] = {"description": "OK"}
            if op.response is not None:
                ok["content"] = {op.media_type: {"schema": schemas.ref(op.response)}}
            else:  # an event stream: each event has a type, JSON data and maybe an id
                ok["content"] = {
                    op.media_type: {
                        "schema": {
                            "type": "object",
                            "properties": {"event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"}},
                        }
                    }
                }
            responses: dict[str, Any] = {"200": ok}
            codes = set(op.errors) | {401, 403}  # any request: token, host and origin checks
            if op.body != "none" and method in ("post", "patch"):
                codes |= {400, 413}
            if params:
                codes |= {404}
            for code in sorted(codes):
                ref = validation_ref if code == 422 else error_ref
                responses[str(code)] = {
                    "description": ERROR_TEXT.get(code, "Error"),
                    "content": {"application/json": {"schema": ref}},
                }
            operation["responses"] = responses
            paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Oiduna API (oiduna_nb)",
            "version": __version__,
            "description": "The Oiduna loop engine's HTTP + SSE API, served by oiduna_nb.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{}, {"bearer": []}],
    }
