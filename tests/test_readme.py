"""The README's examples run as written: the demo, serving the API (with its curl lines), the
notebook block in a real kernel, and the engine from Python. Only the port is ours (a free
one, given as API_PORT), so the tests bind free ports; the install lines are CI's own."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import NO_MIDI_ENV
from .kernel_harness import Kernel
from .osc_peer import OscPeer
from .server_harness import free_port

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
WORKTREE_PATH = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def block(language: str, containing: str) -> str:
    """The README's ``language`` code block holding ``containing``."""
    found = [b for b in re.findall(rf"```{language}\n(.*?)```", README, re.S) if containing in b]
    assert len(found) == 1, f"one {language} block with {containing!r}"
    return found[0]


def command_lines(text: str) -> list[str]:
    """The commands of a shell block, without their comments."""
    return [line.split("  #")[0].strip() for line in text.strip().splitlines() if line.strip()]


def shell(line: str, **kw) -> subprocess.Popen:
    """``oiduna-nb ...`` as the installed command does it (this interpreter, this worktree)."""
    words = line.split()
    if words[0] == "oiduna-nb":
        words = [sys.executable, "-m", "oiduna_nb.cli", *words[1:]]
    return subprocess.Popen(words, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_the_demo_line(tmp_path):
    demo = command_lines(block("bash", "oiduna-nb demo"))[0].split("&& ")[-1]
    assert demo == "oiduna-nb demo"
    peer = OscPeer()  # a SuperDirt port that does not answer: the demo plays on whatever can sound
    try:
        proc = shell(demo, cwd=tmp_path, env={**os.environ, **WORKTREE_PATH, **NO_MIDI_ENV,
                                              "OSC_PORT": str(peer.port)})
        out, err = proc.communicate(timeout=300)
    finally:
        peer.close()
    assert proc.returncode == 0, err
    assert "playing the demo live" in out or (tmp_path / "oiduna-demo.wav").stat().st_size > 100_000


def test_serving_the_api_as_written(tmp_path):
    serve, status, stream = command_lines(block("bash", "oiduna-nb serve"))
    port = free_port()
    peer = OscPeer()
    env = {**os.environ, **WORKTREE_PATH, **NO_MIDI_ENV, "API_PORT": str(port), "OSC_PORT": str(peer.port),
           "OIDUNA_DATA_DIR": str(tmp_path / "data")}
    server = shell(serve, cwd=tmp_path, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:  # up, and --play has started the session (after choosing the output)
                if httpx.get(f"{base}/playback/status", timeout=2).json()["playing"]:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, server.stderr.read()
            time.sleep(0.2)
        answer = subprocess.run(status.replace("57122", str(port)).split(), capture_output=True, text=True, timeout=30)
        assert answer.returncode == 0 and '"playing": true' in answer.stdout  # --play played the demo
        curl = subprocess.Popen(stream.replace("57122", str(port)).split(), stdout=subprocess.PIPE, text=True)
        try:
            seen = [curl.stdout.readline() for _ in range(40)]
        finally:
            curl.kill()
            curl.wait()
        assert "event: position\n" in seen and "event: status\n" in seen
        server.send_signal(signal.SIGINT)  # Ctrl-C stops
        out, err = server.communicate(timeout=30)
        assert server.returncode == 0 and "Traceback" not in err
        assert "\noiduna_nb: shutting down" in out
        assert any(m.address == "/dirt/play" for m in peer.messages())
    finally:
        if server.poll() is None:
            server.kill()
        peer.close()


def test_the_notebook_block_in_a_kernel(tmp_path):
    code = block("python", "%load_ext oiduna_nb")
    peer = OscPeer()
    port = free_port()
    kernel = Kernel(env={**WORKTREE_PATH, **NO_MIDI_ENV, "OSC_PORT": str(peer.port), "API_PORT": str(port),
                         "OIDUNA_DATA_DIR": str(tmp_path / "data")}, cwd=str(tmp_path))
    try:
        cell = kernel.run(code)
        assert cell.error is None, cell.error
        view = cell.results[-1]  # the view is the cell's result: it is displayed
        assert "application/vnd.jupyter.widget-view+json" in view
        assert view["text/plain"].startswith("<oiduna_nb performance view")
        assert kernel.value("sorted(state().track_ids())") == ["bass", "hats", "keys", "kick", "snare"]
        assert kernel.value("status()['playing']") is True
        assert httpx.get(f"http://127.0.0.1:{port}/tracks/kick", timeout=10).json()["source"] == "pattern"
    finally:
        kernel.close()
        peer.close()


def test_the_engine_from_python(tmp_path):
    code = block("python", "from oiduna_nb.engine import")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={**os.environ, **WORKTREE_PATH, **NO_MIDI_ENV})
    assert result.returncode == 0, result.stderr
    assert "'playback_state': 'playing'" in result.stdout
