"""The extension in a real kernel: load, play, errors, a blocked cell, reload, unload."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from oiduna_nb.engine.outputs.osc import timetag_to_unix_ns

from .conftest import NO_MIDI_ENV
from .kernel_harness import Kernel
from .osc_peer import OscPeer, as_dict
from .server_harness import free_port


@pytest.fixture
def peer():
    p = OscPeer(record_arrivals=True)
    yield p
    p.close()


@pytest.fixture
def kernel(peer, tmp_path):
    port = free_port()
    k = Kernel(
        env={"OSC_PORT": str(peer.port), "API_PORT": str(port), "OIDUNA_ASSETS_DIR": str(tmp_path),
             "OIDUNA_DATA_DIR": str(tmp_path / "data"), **NO_MIDI_ENV},
        cwd=str(tmp_path),
    )
    k.api_port = port
    yield k
    k.close()


def metronomes(kernel) -> int:
    return kernel.value("sum(t.name == 'oiduna-metronome' for t in __import__('threading').enumerate())")


def test_load_prints_one_status_line_and_serves_the_api(kernel):
    cell = kernel.run("%load_ext oiduna_nb")
    assert cell.error is None, cell.error
    lines = cell.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"oiduna_nb: API at http://127.0.0.1:{kernel.api_port}")
    assert "SuperDirt at 127.0.0.1" in lines[0] and "not answering" in lines[0] and "MIDI unavailable" in lines[0]
    again = kernel.run("%load_ext oiduna_nb")
    assert "already loaded" in again.stdout or again.stdout == ""
    assert metronomes(kernel) == 1
    r = httpx.get(f"http://127.0.0.1:{kernel.api_port}/playback/status", timeout=10)
    assert r.json()["playback_state"] == "stopped"
    # what the kernel had loaded is left out of full collections (each would stall every thread)
    frozen = kernel.run("import gc; print(gc.get_freeze_count())")
    assert int(frozen.stdout) > 50_000


def test_dsl_plays_through_the_engine_and_http_sees_it(kernel, peer):
    kernel.run("%load_ext oiduna_nb")
    cell = kernel.run('from oiduna_nb.dsl import *\ntrack("kick", "x... x... x... x...", sound="bd")')
    assert cell.error is None, cell.error
    assert cell.results[0]["text/plain"] == "<osc track 'kick': 4 events over 1 bar>"
    kernel.run("play()")
    tracks = httpx.get(f"http://127.0.0.1:{kernel.api_port}/tracks", timeout=10).json()["tracks"]
    assert [t["id"] for t in tracks] == ["kick"]
    deadline = time.monotonic() + 10
    while len([m for m in peer.messages() if m.address == "/dirt/play"]) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert {as_dict(m.args)["s"] for m in peer.messages() if m.address == "/dirt/play"} == {"bd"}


def test_a_cell_error_does_not_stop_the_clock(kernel, peer):
    kernel.run("%load_ext oiduna_nb")
    kernel.run('from oiduna_nb.dsl import *\ntrack("hat", "x" * 16, sound="hh", bars=1)\nplay()')
    time.sleep(0.5)
    bad = kernel.run('track("hat", "hh [sn")')
    assert bad.error is not None and bad.error["ename"] == "DslError"
    assert "mini-notation" in bad.error["evalue"]
    bad2 = kernel.run("1 / 0")
    assert bad2.error["ename"] == "ZeroDivisionError"
    time.sleep(1.0)
    ticks = sorted(round(as_dict(m.args)["cycle"] * 16) for m in peer.messages() if m.address == "/dirt/play")
    assert len(ticks) >= 10 and ticks == list(range(ticks[0], ticks[0] + len(ticks)))  # no step missed
    status = httpx.get(f"http://127.0.0.1:{kernel.api_port}/playback/status", timeout=10).json()
    assert status["playing"] is True


def test_a_sleeping_cell_causes_no_late_bundle(kernel, peer):
    kernel.run("%load_ext oiduna_nb")
    kernel.run('from oiduna_nb.dsl import *\ntrack("hat", "xxxxxxxxxxxxxxxx", sound="hh")\nplay()')
    time.sleep(0.3)
    kernel.run("import time; time.sleep(2)")
    kernel.run("x = 0\nfor i in range(3_000_000): x += i")  # and a busy one
    time.sleep(0.3)
    bundles = peer.bundles()
    assert len(bundles) >= 20
    late = [b for b in bundles if timetag_to_unix_ns(b[1]) < b[0]]
    assert late == [], f"{len(late)} bundles arrived after their time"


def test_reload_keeps_what_plays_and_the_widgets(kernel, peer):
    kernel.run("%load_ext oiduna_nb")
    kernel.run('from oiduna_nb.dsl import *\ntrack("kick", "x...", sound="bd")\ntempo(133, at="now")\nplay()')
    kernel.run("import oiduna_nb.widgets as w\nm = w.mixer()")
    reload = kernel.run("%reload_ext oiduna_nb")
    assert reload.error is None, reload.error
    assert "the session plays on" in reload.stdout
    assert metronomes(kernel) == 1
    status = httpx.get(f"http://127.0.0.1:{kernel.api_port}/playback/status", timeout=10).json()
    assert status["playing"] is True and status["bpm"] == 133 and status["active_tracks"] == ["kick"]
    assert kernel.value("m.closed") is False and kernel.value("list(m.strips)") == ["kick"]
    before = len(peer.messages())
    time.sleep(0.6)
    assert len(peer.messages()) > before  # it never stopped
    kernel.run('mute("kick")')  # the widgets on screen still follow the engine
    assert kernel.value("m.strips['kick'].mute.value") is True


def test_unload_and_reload_leave_nothing_behind(kernel):
    kernel.run("%load_ext oiduna_nb")
    kernel.run('from oiduna_nb.dsl import *\ntrack("kick", "x...", sound="bd")\nplay()')
    kernel.run("import oiduna_nb.widgets as w\nm = w.mixer()")
    reload = kernel.run("%reload_ext oiduna_nb")
    assert reload.error is None, reload.error
    assert metronomes(kernel) == 1
    assert httpx.get(f"http://127.0.0.1:{kernel.api_port}/health", timeout=10).status_code == 200
    kernel.run("%unload_ext oiduna_nb")
    time.sleep(0.2)
    assert metronomes(kernel) == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{kernel.api_port}/health", timeout=2)
    assert kernel.value("m.closed")  # the widgets were closed with the instrument
    with socket.socket() as s:  # the port is free again
        s.bind(("127.0.0.1", kernel.api_port))
    tasks = kernel.value("sorted(t.get_coro().__qualname__ for t in __import__('asyncio').all_tasks() if 'oiduna' in repr(t.get_coro()) or '_watch_superdirt' in repr(t.get_coro()))")
    assert tasks == []
    err = kernel.run('from oiduna_nb.dsl import *\ntrack("kick", "x...", sound="bd")')
    assert err.error["ename"] == "DslError" and "%load_ext oiduna_nb" in err.error["evalue"]


def test_a_taken_port_says_how_to_choose_another(peer, tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        k = Kernel(env={"OSC_PORT": str(peer.port), "API_PORT": str(port), "OIDUNA_ASSETS_DIR": str(tmp_path),
                        **NO_MIDI_ENV})
        try:
            cell = k.run("%load_ext oiduna_nb")
            assert cell.error is None
            assert f"Port {port} on 127.0.0.1 is already in use" in cell.stderr
            assert f"%oiduna serve {port + 1}" in cell.stderr
            other = free_port()
            fixed = k.run(f"%oiduna serve {other}")
            assert f"API at http://127.0.0.1:{other}" in fixed.stdout
            assert httpx.get(f"http://127.0.0.1:{other}/health", timeout=10).status_code == 200
        finally:
            k.close()


def test_background_errors_show_up_in_the_notebook(peer, tmp_path):
    # sending to the broadcast address without permission fails in the metronome thread
    k = Kernel(env={"OSC_HOST": "255.255.255.255", "API_PORT": str(free_port()), "OIDUNA_ASSETS_DIR": str(tmp_path),
                    **NO_MIDI_ENV})
    try:
        k.run("%load_ext oiduna_nb")
        cell = k.run('from oiduna_nb.dsl import *\nimport asyncio\ntrack("k", "xxxx", sound="bd")\nplay()\nawait asyncio.sleep(0.6)')
        assert cell.error is None, cell.error
        assert "oiduna_nb: OSC send failed" in cell.stderr
        assert k.value("status()['playing']") is True  # and the clock plays on
    finally:
        k.close()


def test_loaded_from_ipython_config_before_the_loop_runs(peer, tmp_path):
    ipython_dir = tmp_path / "ipython"
    (ipython_dir / "profile_default").mkdir(parents=True)
    (ipython_dir / "profile_default" / "ipython_kernel_config.py").write_text(
        "c.InteractiveShellApp.extensions = ['oiduna_nb']\n"
    )
    port = free_port()
    k = Kernel(env={"IPYTHONDIR": str(ipython_dir), "OSC_PORT": str(peer.port), "API_PORT": str(port),
                    "OIDUNA_ASSETS_DIR": str(tmp_path), **NO_MIDI_ENV})
    try:
        # no cell has run yet: the API already answers from the kernel's loop
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).json()["status"] == "ok"
        cell = k.run('from oiduna_nb.dsl import *\ntrack("kick", "x...", sound="bd")\nplay()')
        assert cell.error is None, cell.error
        assert httpx.get(f"http://127.0.0.1:{port}/playback/status", timeout=10).json()["active_tracks"] == ["kick"]
        assert "already loaded" in k.run("%load_ext oiduna_nb").stdout
    finally:
        k.close()


def test_after_a_kernel_crash_restore_brings_the_session_back(peer, tmp_path):
    env = {"OSC_PORT": str(peer.port), "OIDUNA_ASSETS_DIR": str(tmp_path), "OIDUNA_DATA_DIR": str(tmp_path / "data"),
           **NO_MIDI_ENV}
    first = Kernel(env={**env, "API_PORT": str(free_port())})
    try:
        first.run("%load_ext oiduna_nb")
        first.run('from oiduna_nb.dsl import *\ntrack("kick", "x...", sound="bd")\ntempo(133, at="now")\nplay()')
        saved = tmp_path / "data" / "sessions" / "autosave.json"
        deadline = time.monotonic() + 10
        while not (saved.exists() and '"playing": true' in saved.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        first.kc.execute("import os; os._exit(1)")  # the kernel dies mid-performance
        deadline = time.monotonic() + 10
        while first.km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not first.km.is_alive()
    finally:
        first.kc.stop_channels()
    port = free_port()
    second = Kernel(env={**env, "API_PORT": str(port)})
    try:
        loaded = second.run("%load_ext oiduna_nb")
        assert "a saved session exists (1 track at 133 bpm" in loaded.stdout
        assert "%oiduna restore" in loaded.stdout
        second.run('from oiduna_nb.dsl import *\ntrack("other", "x...", sound="sn")')  # before restoring
        restored = second.run("%oiduna restore")
        assert "restored 1 track at 133 bpm" in restored.stdout and "playing" in restored.stdout
        status = httpx.get(f"http://127.0.0.1:{port}/playback/status", timeout=10).json()
        assert status["active_tracks"] == ["kick"] and status["bpm"] == 133 and status["playing"] is True
    finally:
        second.close()


def test_the_access_log_never_prints_into_a_cell(kernel):
    kernel.run("%load_ext oiduna_nb")
    msg_id = kernel.kc.execute("import asyncio\nawait asyncio.sleep(1.5)\nprint('done')")
    for _ in range(5):
        assert httpx.get(f"http://127.0.0.1:{kernel.api_port}/playback/status", timeout=10).status_code == 200
    httpx.get(f"http://127.0.0.1:{kernel.api_port}/no/such/path", timeout=10)
    out = ""
    while True:
        msg = kernel.kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out += msg["content"]["text"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    assert out == "done\n"
    log = kernel.run("%oiduna log 20").stdout
    assert "GET /playback/status" in log and "404 GET /no/such/path" in log


def test_magics_say_what_they_did(kernel):
    kernel.run("%load_ext oiduna_nb")
    assert "MIDI panic sent" in kernel.run("%oiduna panic").stdout
    assert "hushed" in kernel.run("%oiduna hush").stdout
    stopped = kernel.run("%oiduna stop-server").stdout
    assert "no HTTP API (stopped)" in stopped
    served = kernel.run(f"%oiduna serve {kernel.api_port}").stdout
    assert f"API at http://127.0.0.1:{kernel.api_port}" in served
    assert "'playback_state': 'stopped'" in kernel.run("%oiduna").stdout  # the status line, then the status
    assert kernel.run("%oiduna restore").stdout.startswith("oiduna_nb: ")
    assert "%oiduna panic" in kernel.run("%oiduna no-such-thing").stdout  # what it can do


def test_the_api_answers_while_a_cell_blocks(kernel):
    """The API has its own thread and loop: a cell blocking the kernel's loop holds up no reply
    and no SSE event (they arrive while the cell is still running)."""
    kernel.run("%load_ext oiduna_nb")
    kernel.run('from oiduna_nb.dsl import *\ntrack("hat", "xxxxxxxxxxxxxxxx", sound="hh")\nplay()')
    base = f"http://127.0.0.1:{kernel.api_port}"
    with httpx.stream("GET", f"{base}/stream?types=position", timeout=10) as sse:
        lines = sse.iter_lines()
        msg_id = kernel.kc.execute("import time\ntime.sleep(3)")
        while True:  # the cell has started: the kernel says it is busy with it
            msg = kernel.kc.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
                break
        replies = [httpx.get(f"{base}/playback/status", timeout=10).json() for _ in range(5)]
        positions = []
        while len(positions) < 5:
            line = next(lines)
            if line.startswith("data: "):
                positions.append(line)
        busy = True  # nothing from the cell's end may have arrived yet
        try:
            while True:
                msg = kernel.kc.get_iopub_msg(timeout=0.01)
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" \
                        and msg["content"]["execution_state"] == "idle":
                    busy = False
        except Exception:  # queue.Empty: the cell is still sleeping
            pass
    assert busy, "the replies only came once the cell had finished"
    assert all(r["playing"] for r in replies) and len(positions) == 5


def test_a_dsl_mistake_shows_as_its_message_with_the_caret(kernel):
    kernel.run("%load_ext oiduna_nb")
    cell = kernel.run('from oiduna_nb.dsl import *\ntrack("drums", s("bd [sn hh"))')
    assert cell.error["ename"] == "DslError"
    shown = "\n".join(cell.error["traceback"])
    assert "expected ']'" in shown and "bd [sn hh" in shown and "^" in shown
    assert len(cell.error["traceback"]) <= 4 and "site-packages" not in shown and "File " not in shown
