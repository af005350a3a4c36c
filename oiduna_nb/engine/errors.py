"""Errors the engine raises for bad commands; the server maps them to HTTP statuses."""


class EngineError(Exception):
    """Base of the engine's command errors. The message is meant for the user."""

    status = 400


class InvalidRequest(EngineError):
    status = 422


class NotFound(EngineError):
    status = 404


class Unavailable(EngineError):
    """A device the command needs is not there (no MIDI system, say).

    409, not 503: the server is fine and the request well-formed; this machine's state
    (no MIDI system) is what stands in the way, and a 5xx would read as our failure.
    """

    status = 409
