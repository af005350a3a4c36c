"""Realtime triggers: a track's sound or a MIDI note now, outside the sequence."""

from __future__ import annotations

from .base import BaseHandler
from .models import MessageResponse, TriggerMidi, TriggerOsc
from .openapi_ops import Operation


class OscTriggerHandler(BaseHandler):
    OPENAPI = {
        "post": Operation("Trigger a track's SuperDirt sound now", MessageResponse, TriggerOsc, errors=(400, 404, 413, 422))
    }

    def post(self) -> None:
        body = self.parse(TriggerOsc, self.json_body())
        self.engine.trigger_osc(body.track_id, body.velocity, body.note)
        self.reply(MessageResponse(message="OSC trigger sent"))


class MidiTriggerHandler(BaseHandler):
    OPENAPI = {
        "post": Operation(
            "Trigger a MIDI note now on a MIDI track's channel",
            MessageResponse,
            TriggerMidi,
            errors=(400, 404, 409, 413, 422),
        )
    }

    def post(self) -> None:
        body = self.parse(TriggerMidi, self.json_body())
        self.engine.trigger_midi(body.track_id, body.note, body.velocity, body.duration_ms)
        self.reply(MessageResponse(message="MIDI trigger sent"))


ROUTES = [
    (r"/playback/trigger/osc", OscTriggerHandler),
    (r"/playback/trigger/midi", MidiTriggerHandler),
]
