"""``oiduna-nb serve``: starts, answers, shuts down cleanly on SIGTERM/SIGINT releasing every
MIDI note, and says clearly when its port is taken."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import rtmidi

from .conftest import seed_session_dict
from .server_harness import free_port, wait_until_serving


def start_serve(port: int, *extra: str, env_extra: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "oiduna_nb.cli", "serve", "--port", str(port), *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_clean_shutdown_releases_midi_notes(sig, jack_server, osc_peer, tmp_path):
    sink = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="held")
    sink.open_virtual_port("in")
    body = seed_session_dict()
    body["tracks_midi"] = {"pad": {"track_id": "pad", "channel": 4}}
    body["sequences"]["pad"] = {"track_id": "pad", "events": [{"step": 0, "note": 57, "gate": 200}]}
    body["apply"]["timing"] = "now"
    session = tmp_path / "s.json"
    session.write_text(json.dumps(body))
    port = free_port()
    proc = start_serve(port, "--session", str(session), "--play", "--midi-api", "jack", "--midi-port", "held:in",
                       "--osc-port", str(osc_peer.port))
    try:
        wait_until_serving(port, proc)
        got, deadline = [], time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            msg = sink.get_message()
            got += [msg[0]] if msg else []
            time.sleep(0.005)
        assert got == [[0x94, 57, 127]]  # the long note sounds (track velocity 127)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "shutting down" in out
        time.sleep(0.1)
        rest = []
        while (msg := sink.get_message()) is not None:
            rest.append(msg[0])
        assert [0x84, 57, 0] in rest  # released on the way out
    finally:
        if proc.poll() is None:
            proc.kill()
        sink.delete()
    with socket.socket() as s:  # and the port is free again
        s.bind(("127.0.0.1", port))


def test_a_taken_port_is_a_clear_message(osc_peer):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        proc = start_serve(port, "--osc-port", str(osc_peer.port))
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert f"Port {port} on 127.0.0.1 is already in use" in err and "--port" in err
    assert "Traceback" not in err
