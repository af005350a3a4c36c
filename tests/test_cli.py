"""The ``oiduna-nb`` command, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from .osc_peer import as_dict


def run_cli(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "oiduna_nb.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def test_play_the_demo_for_one_bar_into_a_real_peer(osc_peer):
    result = run_cli("play", "--bars", "1", "--osc-port", str(osc_peer.port), "--midi-api", "jack")
    assert result.returncode == 0, result.stderr
    assert "not answering (sending anyway)" in result.stdout
    assert "bar   1  step    0" in result.stdout
    assert "late bundles: 0" in result.stdout
    sounds = {as_dict(m.args)["s"] for m in osc_peer.messages() if m.address == "/dirt/play"}
    assert {"bd", "sn", "hh", "superpiano"} <= sounds


def test_play_a_session_file(osc_peer, tmp_path):
    from .conftest import seed_session_dict

    path = tmp_path / "session.json"
    path.write_text(json.dumps({"data": seed_session_dict(), "timing": {"type": "boundary", "unit": "bar"}}))
    result = run_cli("play", str(path), "--bars", "1", "--osc-port", str(osc_peer.port))
    assert result.returncode == 0, result.stderr
    assert {as_dict(m.args)["s"] for m in osc_peer.messages() if m.address == "/dirt/play"} == {"bd"}


def test_a_bad_session_file_is_a_clear_message_not_a_traceback(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"environment": {"bpm": -1}}))
    result = run_cli("play", str(path))
    assert result.returncode != 0
    assert "is not a valid session" in result.stderr and "greater than 0" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run_cli("play", str(tmp_path / "nope.json"))
    assert "cannot read" in missing.stderr and "Traceback" not in missing.stderr


def test_demo_plays_live_when_superdirt_answers():
    from .osc_peer import OscPeer

    dirt = OscPeer(answer_handshake=True)
    try:
        result = run_cli("demo", "--bars", "1", "--osc-port", str(dirt.port))
        assert result.returncode == 0, result.stderr
        assert "playing the demo live (superdirt)" in result.stdout and "answering" in result.stdout
        assert "late bundles: 0" in result.stdout
        plays = [m for m in dirt.messages() if m.address == "/dirt/play"]
        assert {as_dict(m.args)["s"] for m in plays} >= {"bd", "sn", "hh"}
    finally:
        dirt.close()
