"""nbval runs these notebooks in kernels started from this process's environment: give them a
free port for the API, no MIDI system and a data folder of their own, so a run never takes
57122 (or a saved session) from anybody else on the machine. The environment is set only
while a notebook's cells run (its kernel starts then), not for the other tests."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def notebook_env() -> dict[str, str]:
    data = tempfile.mkdtemp(prefix="oiduna-notebooks-")
    atexit.register(shutil.rmtree, data, True)
    return {"API_PORT": str(_free_port()), "OSC_PORT": str(_free_port()), "OIDUNA_DATA_DIR": data,
            "OIDUNA_MIDI_API": "jack", "JACK_DEFAULT_SERVER": "no-such-server"}


_env: dict[str, str] = {}
_saved: dict[str, str | None] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    if HERE in Path(str(item.fspath)).resolve().parents:
        if not _env:
            _env.update(notebook_env())
        for key, value in _env.items():
            _saved.setdefault(key, os.environ.get(key))
            os.environ[key] = value


def pytest_runtest_teardown(item, nextitem) -> None:
    for key, value in _saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _saved.clear()
