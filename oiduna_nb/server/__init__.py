"""The Oiduna HTTP + SSE API on tornado, one handler module per section of the reference."""

from .app import ApiServer, PortInUse, api_routes, make_app

__all__ = ["ApiServer", "PortInUse", "api_routes", "make_app"]
