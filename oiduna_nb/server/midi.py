"""MIDI: ports, choosing the output, panic."""

from __future__ import annotations

from ..engine.errors import NotFound
from .base import ApiError, BaseHandler
from .models import MessageResponse, MidiPortBody, MidiPortResponse, MidiPortsResponse
from .openapi_ops import Operation


class PortsHandler(BaseHandler):
    OPENAPI = {"get": Operation("List available MIDI ports", MidiPortsResponse)}

    def get(self) -> None:
        status = self.engine.midi_status()
        self.reply(
            MidiPortsResponse(ports=self.engine.midi_ports(), available=status["available"], message=status["message"])
        )


class PortHandler(BaseHandler):
    OPENAPI = {
        "post": Operation("Select the MIDI output port", MidiPortResponse, MidiPortBody, errors=(400, 404, 413, 422))
    }

    def post(self) -> None:
        body = self.parse(MidiPortBody, self.json_body())
        status = self.engine.midi_status()
        if not status["available"]:
            raise ApiError(404, f"MIDI port not found ({status['message']})")
        try:
            name = self.engine.select_midi_port(body.port_name)
        except NotFound:
            raise ApiError(404, "MIDI port not found") from None
        self.reply(MidiPortResponse(port_name=name))


class PanicHandler(BaseHandler):
    OPENAPI = {"post": Operation("Send MIDI panic (all notes off on all channels)", MessageResponse, body="none")}

    def post(self) -> None:
        self.engine.midi_panic()
        self.reply(MessageResponse(message="MIDI panic sent (all notes off)"))


ROUTES = [
    (r"/midi/ports", PortsHandler),
    (r"/midi/port", PortHandler),
    (r"/midi/panic", PanicHandler),
]
