"""schemathesis over /openapi.json against ``oiduna-nb serve``: no 5xx, and every response
matches its documented schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from .conftest import NO_MIDI_ENV, seed_session_dict
from .server_harness import free_port, wait_until_serving


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path, osc_peer):
    body = seed_session_dict()
    body["tracks_midi"] = {"midi_synth": {"track_id": "midi_synth"}}
    body["scenes"] = {"verse": {"environment": {"bpm": 100}}}
    (tmp_path / "session.json").write_text(json.dumps(body))
    port = free_port()
    env = {**os.environ, "OSC_PORT": str(osc_peer.port), "OIDUNA_ASSETS_DIR": str(tmp_path / "assets"),
           **NO_MIDI_ENV}
    server = subprocess.Popen(
        [sys.executable, "-m", "oiduna_nb.cli", "serve", "--port", str(port), "--session", str(tmp_path / "session.json"), "--play"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(port, server)
        st = shutil.which("schemathesis") or shutil.which("st")
        assert st, "schemathesis is a test dependency (pip install -e '.[test]')"
        result = subprocess.run(
            [st, "run", f"http://127.0.0.1:{port}/openapi.json",
             "--checks", "not_a_server_error,response_schema_conformance",
             "--max-examples", "40", "--request-timeout", "10", "--seed", "7"],
            capture_output=True, text=True, timeout=900, cwd=tmp_path,
        )
        assert result.returncode == 0, result.stdout[-6000:]
        assert server.poll() is None, "the server died under the fuzzer"
    finally:
        server.terminate()
        server.wait(timeout=10)
