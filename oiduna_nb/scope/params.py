"""What Scope is told: pipeline load parameters and the ``parameters`` data channel's state."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Prompt(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)
    weight: float = Field(1.0, ge=0, le=10)


class Transition(BaseModel):
    """Blend to ``target_prompts`` over ``num_steps`` generated chunks (0: at once), as the
    server defines it: 4 steps and ``linear`` unless told otherwise."""

    model_config = ConfigDict(extra="forbid")
    target_prompts: list[Prompt] = Field(min_length=1)
    num_steps: int = Field(4, ge=0, le=256)
    temporal_interpolation_method: Literal["linear", "slerp"] = "linear"


class LoadParams(BaseModel):
    model_config = ConfigDict(extra="allow")
    width: int = Field(512, gt=0, le=4096)
    height: int = Field(512, gt=0, le=4096)

    @field_validator("width", "height")
    @classmethod
    def _multiple_of_64(cls, value: int) -> int:
        if value % 64:
            raise ValueError(f"must be a multiple of 64 (the pipelines work in 64-pixel blocks), not {value}")
        return value


class Parameters(BaseModel):
    """Every key is optional: a message carries only what changes."""

    model_config = ConfigDict(extra="allow")  # pipelines have keys of their own
    prompts: list[Prompt] | None = None
    denoising_step_list: list[int] | None = None
    noise_scale: float | None = Field(None, ge=0, le=1)
    manage_cache: bool | None = None
    paused: bool | None = None
    transition: Transition | None = None
    # beat state from the music
    bpm: float | None = None
    beat_phase: float | None = None
    bar_position: float | None = None
    beat_count: int | None = None
    is_playing: bool | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, mode="json")


def prompts(*items: str | tuple[str, float] | dict) -> list[dict[str, Any]]:
    """``prompts("neon city", ("rain", 0.5))`` -> the wire form, checked."""
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(Prompt(text=item))
        elif isinstance(item, tuple):
            out.append(Prompt(text=item[0], weight=item[1]))
        else:
            out.append(Prompt.model_validate(item))
    return [p.model_dump() for p in out]
