"""Where the server's own log lines go: a file in the user's data directory, never a notebook
cell (tornado's access log would otherwise print into whatever cell runs). ``%oiduna log``
shows its end."""

from __future__ import annotations

import logging
import logging.handlers
import time
from pathlib import Path

SERVER_LOGGERS = ("tornado.access", "tornado.application", "tornado.general", "oiduna_nb.server")
_configured: dict[str, logging.Handler] = {}


def log_file(data_dir: Path) -> Path:
    return Path(data_dir) / "logs" / "api.log"


def route_server_logs(data_dir: Path) -> Path:
    """Send the server's loggers to ``<data_dir>/logs/api.log`` (rotated) and not beyond."""
    path = log_file(data_dir)
    key = str(path)
    if key not in _configured:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler: logging.Handler = logging.handlers.RotatingFileHandler(path, maxBytes=1 << 20, backupCount=2)
        except OSError:  # a read-only home: drop the lines rather than print them into cells
            handler = logging.NullHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        for existing in _configured.values():
            for name in SERVER_LOGGERS:
                logging.getLogger(name).removeHandler(existing)
        _configured.clear()
        _configured[key] = handler
    handler = _configured[key]
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        logger.propagate = False
        if handler not in logger.handlers:
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return path


def tail(data_dir: Path, lines: int = 40) -> str:
    path = log_file(data_dir)
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log yet at {path})"
    return "\n".join(text.splitlines()[-lines:]) or f"(the log at {path} is empty)"


class AccessLog:
    """Tornado's ``log_function``: one line per request, written in batches (once a second)
    to the log file. Cheap enough to keep on under thousands of requests a second."""

    def __init__(self, data_dir: Path) -> None:
        self.path = log_file(data_dir)
        self._lines: list[str] = []

    def __call__(self, handler) -> None:
        request = handler.request
        status = handler.get_status()
        self._lines.append(
            f"{time.strftime('%Y-%m-%d %H:%M:%S')} access {status} {request.method} {request.uri} "
            f"({request.remote_ip}) {1000.0 * request.request_time():.2f}ms\n"
        )

    def flush(self) -> None:
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as out:
                out.writelines(lines)
        except OSError:  # a full or read-only disk: the access log is not worth an error
            pass
