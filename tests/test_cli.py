"""The ``oiduna-nb`` command, run as a user runs it."""

from __future__ import annotations

import argparse
import json
import signal
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
    assert "bar   1  at 1.1.1" in result.stdout  # bar.beat.step in the loop, counted from 1
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


def test_version_and_help_for_every_command_and_option():
    from oiduna_nb import __version__
    from oiduna_nb.cli import build_parser

    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"oiduna-nb {__version__}"
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == {"play", "render", "demo", "serve", "midi-ports"}
    listed = {a.dest for a in commands._choices_actions}
    for name, sub in commands.choices.items():
        assert name in listed and sub.description, f"{name} has no description"
        for action in sub._actions:
            if not isinstance(action, argparse._HelpAction):
                assert action.help, f"{name} {action.option_strings or action.dest} has no help"
        shown = run_cli(name, "--help")
        assert shown.returncode == 0 and sub.description.split()[0] in shown.stdout


def test_a_built_in_session_by_name(osc_peer, tmp_path):
    result = subprocess.run([sys.executable, "-m", "oiduna_nb.cli", "play", "seed", "--bars", "1",
                             "--osc-port", str(osc_peer.port)], capture_output=True, text=True, timeout=60,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert {as_dict(m.args)["s"] for m in osc_peer.messages() if m.address == "/dirt/play"} == {"bd"}


def test_ctrl_c_ends_the_line_the_terminal_left_open(osc_peer):
    proc = subprocess.Popen([sys.executable, "-m", "oiduna_nb.cli", "play", "--osc-port", str(osc_peer.port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not any(line.startswith("bar ") for line in lines):  # it plays
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends; a terminal shows "^C" and no newline
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err
    tail = out.splitlines()
    stop = next(i for i, line in enumerate(tail) if line.startswith("stopped after"))
    assert tail[stop - 1] == ""  # "^C" gets a line of its own
