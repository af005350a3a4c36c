"""Scenes: activate one on a timing boundary."""

from __future__ import annotations

from ..engine.ir import timing_from_name
from ..engine.timeline import Position
from .base import BaseHandler
from .models import SceneActivate, SceneResponse
from .openapi_ops import Operation
from .playback import queued_fields


class SceneActivateHandler(BaseHandler):
    OPENAPI = {
        "post": Operation(
            "Activate a scene (timing: now, beat, bar, seq or a timing object; default bar)",
            SceneResponse,
            SceneActivate,
            errors=(400, 404, 413, 422),
        )
    }

    def post(self) -> None:
        body = self.parse(SceneActivate, self.json_body())
        timing = timing_from_name(body.timing) if isinstance(body.timing, str) else body.timing
        change = self.engine.activate_scene(body.scene_id, timing)
        step = change.apply_at_step if change else self.engine.status()["position"]["step"]
        at = Position.of(step)
        self.reply(
            SceneResponse(scene_id=body.scene_id, applied_at={"step": at.step, "beat": at.beat}, **queued_fields(change))
        )


ROUTES = [(r"/scene/activate", SceneActivateHandler)]
