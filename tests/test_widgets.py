"""Widgets in a real kernel: a change over HTTP shows in the widget within a step, and a
widget change from the browser reaches the engine while a cell awaits."""

from __future__ import annotations

import time

import httpx
import pytest

from .conftest import NO_MIDI_ENV, eventually
from .kernel_harness import Kernel
from .osc_peer import OscPeer
from .server_harness import free_port


@pytest.fixture
def nb(tmp_path):
    peer = OscPeer()
    port = free_port()
    k = Kernel(env={"OSC_PORT": str(peer.port), "API_PORT": str(port), "OIDUNA_ASSETS_DIR": str(tmp_path),
                    **NO_MIDI_ENV})
    k.api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    k.run("%load_ext oiduna_nb")
    cell = k.run('from oiduna_nb.dsl import *\nfrom oiduna_nb.widgets import mixer, transport\n'
                 'track("kick", "x...", sound="bd")\ntrack("hat", "..x.", sound="hh")\nm = mixer()\nt = transport()\nm')
    assert cell.error is None, cell.error
    yield k
    k.api.close()
    k.close()
    peer.close()


def browser_update(kernel: Kernel, model_id: str, state: dict) -> None:
    """What the browser sends when a user moves a control (ipywidgets' comm protocol)."""
    content = {"comm_id": model_id, "data": {"method": "update", "state": state, "buffer_paths": []}}
    kernel.kc.shell_channel.send(kernel.kc.session.msg("comm_msg", content))


def test_mixer_renders_a_strip_per_track(nb):
    assert nb.value("list(m.strips)") == ["kick", "hat"]
    assert nb.value("m.strips['kick'].gain.value") == 1.0


def test_http_changes_show_in_the_widgets(nb):
    nb.api.patch("/playback/tracks/kick/params", json={"data": {"gain": 0.3}, "timing": {"type": "now"}})
    nb.api.post("/tracks/hat/mute", json={"muted": True})
    nb.api.post("/playback/start")
    assert eventually(lambda: nb.value("m.strips['kick'].gain.value") == 0.3)
    assert nb.value("m.strips['hat'].mute.value") is True
    assert eventually(lambda: nb.value("t.state_label.value") == "playing · superdirt")
    assert eventually(lambda: nb.value("t.position.step") > 0)
    assert eventually(lambda: nb.value("m.strips['kick'].light.count") > 0)  # the trigger light flashed
    assert nb.value("m.strips['hat'].light.count") == 0  # a muted track does not


def test_widget_changes_reach_the_engine_while_a_cell_awaits(nb):
    gain_id = nb.value("m.strips['kick'].gain.model_id")
    solo_id = nb.value("m.strips['hat'].solo.model_id")
    bpm_id = nb.value("t.bpm.model_id")
    nb.kc.execute("import asyncio\nawait asyncio.sleep(4)")  # a cell that awaits; not waited for
    time.sleep(0.5)
    browser_update(nb, gain_id, {"value": 0.42})
    browser_update(nb, solo_id, {"value": True})
    browser_update(nb, bpm_id, {"value": 133.0})
    # each message is handled in turn while the cell still awaits (it lasts 4 s)
    assert eventually(lambda: nb.api.get("/tracks/kick").json()["gain"] == 0.42, timeout=3)
    assert eventually(lambda: nb.api.get("/tracks/hat").json()["solo"] is True, timeout=3)
    assert eventually(lambda: nb.api.get("/playback/status").json()["bpm"] == 133.0, timeout=3)
