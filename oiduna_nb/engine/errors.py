"""Errors the engine raises for bad commands; the server maps them to HTTP statuses."""


class EngineError(Exception):
    """Base of the engine's command errors. The message is meant for the user."""

    status = 400


class InvalidRequest(EngineError):
    status = 422


class NotFound(EngineError):
    status = 404


class Unavailable(EngineError):
    """A device or peer the command needs is not there (no MIDI system, say)."""

    status = 503
