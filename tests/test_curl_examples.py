"""The reference's curl examples, as written, against ``oiduna-nb serve``. The examples name
port 57122; the server here listens on a free port (another run may hold 57122) and each
command is run with only the port changed to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import pytest

from .audio_files import synthdef_bytes, wav_bytes
from .conftest import NO_MIDI_ENV, seed_session_dict
from .server_harness import free_port, wait_until_serving

# Copied from the API reference (its "Example" blocks), in its order.
EXAMPLES = [
    """curl -X POST http://localhost:57122/playback/session \\
  -H "Content-Type: application/json" \\
  -d @session.json""",
    """curl -X PATCH http://localhost:57122/playback/environment \\
  -H "Content-Type: application/json" \\
  -d '{"bpm": 140.0}'""",
    """curl -X PATCH http://localhost:57122/playback/tracks/kick/params \\
  -H "Content-Type: application/json" \\
  -d '{"gain": 0.8}'""",
    "curl -X POST http://localhost:57122/playback/start",
    "curl -X POST http://localhost:57122/playback/stop",
    "curl -X POST http://localhost:57122/playback/pause",
    "curl http://localhost:57122/playback/status",
    """curl -X POST http://localhost:57122/playback/trigger/osc \\
  -H "Content-Type: application/json" \\
  -d '{"track_id": "kick", "velocity": 1.0}'""",
    """curl -X POST http://localhost:57122/playback/trigger/midi \\
  -H "Content-Type: application/json" \\
  -d '{"track_id": "midi_synth", "note": 60, "velocity": 100}'""",
    "curl -X DELETE http://localhost:57122/playback/changes/change_123",
    "curl http://localhost:57122/playback/changes/pending",
    "curl -X POST http://localhost:57122/playback/changes/cancel-all",
    """curl -X POST http://localhost:57122/session/clients/user_alice_mars/metadata \\
  -H "Content-Type: application/json" \\
  -d '{"scale": "C_major", "chord_position": 0}'""",
    "curl http://localhost:57122/session/clients",
    "curl http://localhost:57122/session/clients/user_alice_mars",
    "curl -X DELETE http://localhost:57122/session/clients/user_alice_mars",
    "curl http://localhost:57122/tracks",
    "curl http://localhost:57122/tracks/kick",
    """curl -X POST http://localhost:57122/tracks/kick/mute \\
  -H "Content-Type: application/json" \\
  -d '{"muted": true}'""",
    """curl -X POST http://localhost:57122/tracks/kick/solo \\
  -H "Content-Type: application/json" \\
  -d '{"solo": true}'""",
    """curl -X POST http://localhost:57122/scene/activate \\
  -H "Content-Type: application/json" \\
  -d '{"scene_id": "verse"}'""",
    "curl http://localhost:57122/midi/ports",
    """curl -X POST http://localhost:57122/midi/port \\
  -H "Content-Type: application/json" \\
  -d '{"port_name": "IAC Driver Bus 1"}'""",
    "curl -X POST http://localhost:57122/midi/panic",
    """curl -X POST http://localhost:57122/assets/samples \\
  -F "file=@my_kick.wav" \\
  -F "category=kicks\"""",
    "curl http://localhost:57122/assets/samples",
    """curl -X POST http://localhost:57122/assets/synthdefs \\
  -F "file=@mysynth.scsyndef" \\
  -F "name=mysynth\"""",
    """curl -X PATCH http://localhost:57122/playback/environment \\
  -H "Content-Type: application/json" \\
  -d '{"bpm": -10}'""",
]


# Where this machine answers otherwise than 200, and why.
EXPECTED_STATUS = {
    "/playback/changes/change_123": 404,  # there is no such pending change: the documented 404
    "/midi/port": 404,  # no MIDI system here, so no such port (the detail says why)
    "/playback/trigger/midi": 409,  # no MIDI system here: said clearly
}


@pytest.fixture
def served(tmp_path, osc_peer):
    """``oiduna-nb serve`` on a free port, in a folder with the example files."""
    body = seed_session_dict()
    body["tracks_midi"] = {"midi_synth": {"track_id": "midi_synth", "channel": 0}}
    body["scenes"] = {"verse": {"environment": {"bpm": 100}}}
    (tmp_path / "session.json").write_text(json.dumps(body))
    (tmp_path / "my_kick.wav").write_bytes(wav_bytes())
    (tmp_path / "mysynth.scsyndef").write_bytes(synthdef_bytes())
    port = free_port()
    env = {**os.environ, "OSC_PORT": str(osc_peer.port), "OIDUNA_ASSETS_DIR": str(tmp_path / "assets"),
           "API_PORT": str(port), **NO_MIDI_ENV}
    proc = subprocess.Popen([sys.executable, "-m", "oiduna_nb.cli", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_until_serving(port, proc)
    yield tmp_path, port
    proc.terminate()
    proc.wait(timeout=10)


def run(command: str, served) -> tuple[int, dict]:
    # pasted into a shell as a user would, with only the status code asked for on top
    cwd, port = served
    command = command.replace("localhost:57122", f"localhost:{port}")
    out = subprocess.run(["bash", "-c", command + ' -s -w "\\n%{http_code}"'], cwd=cwd, capture_output=True, text=True, timeout=30)
    body, _, code = out.stdout.rpartition("\n")
    return int(code), json.loads(body) if body.strip() else {}


def test_every_curl_example_works_as_written(served):
    results = [(cmd, *run(cmd, served)) for cmd in EXAMPLES]
    for cmd, code, body in results:
        path = cmd.split("http://localhost:57122")[1].split()[0]
        want = 422 if '"bpm": -10' in cmd else EXPECTED_STATUS.get(path, 200)
        assert code == want, (cmd, code, body)
        if code != 200:
            assert "detail" in body, (cmd, body)
    by_path = {cmd.split("http://localhost:57122")[1].split()[0]: body for cmd, _, body in results}
    assert by_path["/playback/status"]["bpm"] == 140.0  # the PATCH example applied at once (stopped)
    assert by_path["/assets/samples"] == {"samples": {"kicks": ["my_kick.wav"]}}
    assert by_path["/scene/activate"]["scene_id"] == "verse"


def test_the_stream_example(served):
    _, port = served
    out = subprocess.run(["timeout", "2", "curl", "-N", f"http://localhost:{port}/stream"], capture_output=True, text=True)
    assert "event: connected" in out.stdout and "event: status" in out.stdout
