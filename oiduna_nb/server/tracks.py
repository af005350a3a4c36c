"""Tracks: list, details, mute, solo."""

from __future__ import annotations

import json

from ..engine.cycles import CycleCache, LoopSource
from ..engine.state import PlayState
from ..engine.timeline import STEPS_PER_BAR
from .base import ApiError, BaseHandler
from .models import MuteBody, MuteResponse, SoloBody, SoloResponse, TrackInfo, TrackList
from .openapi_ops import Operation


def pattern_length(state: PlayState, track_id: str) -> int:
    """Whole bars that hold the track's events (at least one), never past the loop; a loop
    track's own length; a pattern track's cycle (its events vary from cycle to cycle)."""
    source = state.sources.get(track_id)
    if isinstance(source, LoopSource):
        return source.length
    if source is not None:
        return STEPS_PER_BAR
    last = state.last_steps.get(track_id, 0)
    bars = last // STEPS_PER_BAR + 1
    return min(bars * STEPS_PER_BAR, state.environment.loop_steps)


def track_info(state: PlayState, track_id: str, cycle: int = 0, cycles: CycleCache | None = None) -> dict:
    """The reference's track object (the fields of ``TrackInfo``, built without a model: this
    is read on every poll); pattern and loop tracks add what they play in ``cycle``."""
    if track_id in state.tracks:
        track = state.tracks[track_id]
        p = track.params
        info = {"id": track_id, "type": "osc", "sound": p.s, "orbit": p.orbit, "gain": p.gain, "pan": p.pan,
                "muted": track.meta.mute, "solo": track.meta.solo, "length": pattern_length(state, track_id)}
    elif track_id in state.tracks_midi:
        midi = state.tracks_midi[track_id]
        info = {"id": track_id, "type": "midi", "channel": midi.channel, "muted": midi.mute, "solo": midi.solo,
                "length": pattern_length(state, track_id)}
    else:
        raise ApiError(404, f"Track not found: {track_id}")
    source = state.sources.get(track_id)
    if source is not None:
        hits = (cycles or CycleCache()).hits(source, cycle, inline=False)
        info["source"] = "loop" if isinstance(source, LoopSource) else "pattern"
        info["pattern"] = source.text
        info["events"] = [{"step": k, "offset": h.offset, "gate": h.gate, "params": h.params}
                          for k in sorted(hits) for h in hits[k]]
    return info


class TrackListing:
    """``GET /tracks`` encoded once per state and cycle, and each track's part once per
    version of the track: a mute re-encodes that one track, not the whole list (clients
    poll this list while others mute)."""

    def __init__(self) -> None:
        self._listed: tuple[PlayState | None, int, bytes] = (None, -1, b"")
        self._parts: dict[str, tuple[tuple, bytes]] = {}

    def body(self, state: PlayState, cycle: int, cycles: CycleCache) -> bytes:
        seen, seen_cycle, body = self._listed
        if seen is not state or (state.sources and seen_cycle != cycle):
            parts = b", ".join(self._part(state, t, cycle, cycles) for t in state.track_ids())
            body = b'{"tracks": [' + parts + b"]}"
            self._listed = (state, cycle, body)
            ids = state.track_ids()
            if len(self._parts) > 2 * len(ids) + 16:  # tracks long gone: forget them
                self._parts = {t: self._parts[t] for t in ids if t in self._parts}
        return body

    def _part(self, state: PlayState, track_id: str, cycle: int, cycles: CycleCache) -> bytes:
        if track_id in state.sources:  # what it plays differs from cycle to cycle
            return json.dumps(track_info(state, track_id, cycle, cycles)).encode()
        # everything track_info reads of a sequence track (models are never changed in place)
        made_of = (state.tracks.get(track_id) or state.tracks_midi.get(track_id), state.last_steps.get(track_id),
                   state.environment.loop_steps)
        kept = self._parts.get(track_id)
        if kept is None or kept[0][0] is not made_of[0] or kept[0][1:] != made_of[1:]:
            kept = self._parts[track_id] = (made_of, json.dumps(track_info(state, track_id)).encode())
        return kept[1]


LISTING = TrackListing()


def playing_cycle(engine) -> int:
    """The cycle the engine is about to play (its next step's)."""
    return engine.player.next_tick // STEPS_PER_BAR


def list_body(engine) -> bytes:
    """``GET /tracks`` (also answered as a poll: polls.py)."""
    return LISTING.body(engine.state, playing_cycle(engine), engine.cycles)


class TrackListHandler(BaseHandler):
    OPENAPI = {"get": Operation("List all tracks", TrackList)}

    def get(self) -> None:
        self.finish(list_body(self.engine))


class TrackHandler(BaseHandler):
    OPENAPI = {"get": Operation("Get track details", TrackInfo, errors=(404,))}

    def get(self, track_id: str) -> None:
        self.reply(track_info(self.engine.state, track_id, playing_cycle(self.engine), self.engine.cycles))


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
