"""Playback: session, environment, track params, transport, status."""

from __future__ import annotations

import json

from ..engine import commands as cmd
from ..engine.ir import EnvironmentUpdate, ParamsUpdate, Session, timing_from_name
from .base import ApiError, BaseHandler
from .models import (
    EnvironmentResponse,
    ParamsResponse,
    SessionResponse,
    StatusResponse,
    TransportResponse,
)
from .openapi_ops import Operation

TIMING_ERRORS = (400, 404, 413, 422)


def queued_fields(change) -> dict:
    return {} if change is None else {"change_id": change.id, "apply_at_step": change.apply_at_step}


class SessionHandler(BaseHandler):
    OPENAPI = {
        "post": Operation(
            "Load a complete compiled session",
            SessionResponse,
            Session,
            body="wrapped",
            errors=(400, 413, 422),
            description="The body is the session, or {\"data\": session, \"timing\": {...}}. Without a "
            "timing, apply.timing decides (default: next bar). While playing, the change waits for "
            "its boundary and the response gives its change_id.",
        )
    }

    def post(self) -> None:
        session, timing, given = self.parse_wrapped(Session)
        if not given and session.apply is not None:
            timing = timing_from_name(session.apply.timing)
        change = self.engine.load_session(session, timing)
        message = "Session loaded successfully" if change is None else f"Session queued for step {change.apply_at_step}"
        self.reply(SessionResponse(message=message, **queued_fields(change)))


class EnvironmentHandler(BaseHandler):
    OPENAPI = {
        "patch": Operation(
            "Update global environment settings",
            EnvironmentResponse,
            EnvironmentUpdate,
            body="wrapped",
            errors=TIMING_ERRORS,
        )
    }

    def patch(self) -> None:
        update, timing, _ = self.parse_wrapped(EnvironmentUpdate)
        outcome = self.engine.submit(cmd.UpdateEnvironment(update.changes()), timing)
        # The environment this change produces where it lands, after the changes queued before it.
        self.reply(EnvironmentResponse(environment=outcome.state.environment.model_dump(), **queued_fields(outcome.change)))


class TrackParamsHandler(BaseHandler):
    OPENAPI = {
        "patch": Operation(
            "Update track parameters",
            ParamsResponse,
            ParamsUpdate,
            body="wrapped",
            errors=TIMING_ERRORS,
            description="SuperDirt params for an OSC track; channel, velocity, transpose for a MIDI track.",
        )
    }

    def patch(self, track_id: str) -> None:
        if not self.engine.projected_state().has_track(track_id):
            raise ApiError(404, f"Track not found: {track_id}")
        update, timing, _ = self.parse_wrapped(ParamsUpdate)
        changes = update.changes()
        outcome = self.engine.submit(cmd.UpdateTrackParams(track_id, changes), timing)
        self.reply(ParamsResponse(track_id=track_id, updated_params=changes, **queued_fields(outcome.change)))


class StartHandler(BaseHandler):
    OPENAPI = {"post": Operation("Start playback", TransportResponse, body="none")}

    def post(self) -> None:
        self.engine.start()
        self.reply(TransportResponse(playing=True))


class StopHandler(BaseHandler):
    OPENAPI = {"post": Operation("Stop playback (back to step 0, MIDI notes released)", TransportResponse, body="none")}

    def post(self) -> None:
        self.engine.stop()
        self.reply(TransportResponse(playing=False))


class PauseHandler(BaseHandler):
    OPENAPI = {"post": Operation("Pause playback (resume with /playback/start)", TransportResponse, body="none")}

    def post(self) -> None:
        self.engine.pause()
        state = self.engine.status()["playback_state"]
        self.reply(TransportResponse(playing=state == "playing", paused=state == "paused"))


def status_body(engine) -> bytes:
    """``GET /playback/status`` (also answered as a poll: polls.py)."""
    return json.dumps(engine.status()).encode()


class StatusHandler(BaseHandler):
    OPENAPI = {"get": Operation("Get current playback status", StatusResponse)}

    def get(self) -> None:
        self.finish(status_body(self.engine))


ROUTES = [
    (r"/playback/session", SessionHandler),
    (r"/playback/environment", EnvironmentHandler),
    (r"/playback/tracks/([^/]+)/params", TrackParamsHandler),
    (r"/playback/start", StartHandler),
    (r"/playback/stop", StopHandler),
    (r"/playback/pause", PauseHandler),
    (r"/playback/status", StatusHandler),
]
