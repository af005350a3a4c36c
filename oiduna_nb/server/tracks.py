"""Tracks: list, details, mute, solo."""

from __future__ import annotations

import json

from ..engine.state import PlayState
from ..engine.timeline import STEPS_PER_BAR
from .base import ApiError, BaseHandler
from .models import MuteBody, MuteResponse, SoloBody, SoloResponse, TrackInfo, TrackList
from .openapi_ops import Operation


def pattern_length(state: PlayState, track_id: str) -> int:
    """Whole bars that hold the track's events (at least one), never past the loop."""
    last = state.last_steps.get(track_id, 0)
    bars = last // STEPS_PER_BAR + 1
    return min(bars * STEPS_PER_BAR, state.environment.loop_steps)


def track_info(state: PlayState, track_id: str) -> dict:
    """The reference's track object (the fields of ``TrackInfo``, built without a model: this
    is read on every poll)."""
    if track_id in state.tracks:
        track = state.tracks[track_id]
        p = track.params
        return {"id": track_id, "type": "osc", "sound": p.s, "orbit": p.orbit, "gain": p.gain, "pan": p.pan,
                "muted": track.meta.mute, "solo": track.meta.solo, "length": pattern_length(state, track_id)}
    if track_id in state.tracks_midi:
        midi = state.tracks_midi[track_id]
        return {"id": track_id, "type": "midi", "channel": midi.channel, "muted": midi.mute, "solo": midi.solo,
                "length": pattern_length(state, track_id)}
    raise ApiError(404, f"Track not found: {track_id}")


_listed: tuple[PlayState | None, bytes] = (None, b"")


def track_list(state: PlayState) -> bytes:
    """``GET /tracks`` of a state, encoded once per state (states are immutable)."""
    global _listed
    seen, body = _listed
    if seen is not state:
        body = json.dumps({"tracks": [track_info(state, t) for t in state.track_ids()]}).encode()
        _listed = (state, body)
    return body


class TrackListHandler(BaseHandler):
    OPENAPI = {"get": Operation("List all tracks", TrackList)}

    def get(self) -> None:
        self.finish(track_list(self.engine.state))


class TrackHandler(BaseHandler):
    OPENAPI = {"get": Operation("Get track details", TrackInfo, errors=(404,))}

    def get(self, track_id: str) -> None:
        self.reply(track_info(self.engine.state, track_id))


class MuteHandler(BaseHandler):
    OPENAPI = {"post": Operation("Mute or unmute a track", MuteResponse, MuteBody, errors=(400, 404, 413, 422))}

    def post(self, track_id: str) -> None:
        body = self.parse(MuteBody, self.json_body())
        self.engine.set_mute(track_id, body.muted)
        self.reply({"status": "ok", "track_id": track_id, "muted": body.muted})


class SoloHandler(BaseHandler):
    OPENAPI = {"post": Operation("Solo or unsolo a track", SoloResponse, SoloBody, errors=(400, 404, 413, 422))}

    def post(self, track_id: str) -> None:
        body = self.parse(SoloBody, self.json_body())
        self.engine.set_solo(track_id, body.solo)
        self.reply(SoloResponse(track_id=track_id, solo=body.solo))


ROUTES = [
    (r"/tracks", TrackListHandler),
    (r"/tracks/([^/]+)", TrackHandler),
    (r"/tracks/([^/]+)/mute", MuteHandler),
    (r"/tracks/([^/]+)/solo", SoloHandler),
]
