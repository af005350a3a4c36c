"""How a handler describes its operations for the OpenAPI document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Operation:
    summary: str
    response: type | None = None  # a pydantic model; None for non-JSON (SSE, HTML)
    request: Any = None  # a pydantic model or type; None for no body
    body: str = "json"  # json | wrapped (bare or {data, timing}) | multipart | none
    multipart_fields: dict[str, str] = field(default_factory=dict)  # name -> "file" | "string"
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"
    description: str = ""
