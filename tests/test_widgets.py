"""Widgets in a real kernel: the performance view follows HTTP changes within a step, its piano
roll shows what the engine plays cycle by cycle, and a widget change from the browser
reaches the engine while a cell awaits."""

from __future__ import annotations

import time

import httpx
import pytest

from oiduna_nb.engine.timeline import bar_beat_step, position_label
from oiduna_nb.widgets.transport import link_text

from .conftest import NO_MIDI_ENV, eventually
from .kernel_harness import Kernel
from .osc_peer import OscPeer
from .server_harness import free_port

SETUP = """
from oiduna_nb.dsl import *
from oiduna_nb.extension import current
from oiduna_nb.widgets import mixer, perform, transport
eng = current().engine
track("kick", "x...", sound="bd")
track("hat", s("~ hh ~ hh"))
track("bass", note("<0 3> ~ 7 ~").s("superpiano"))
view = perform()
m, t = view.mixer, view.transport
view
"""


@pytest.fixture
def nb(tmp_path):
    peer = OscPeer()
    port = free_port()
    k = Kernel(env={"OSC_PORT": str(peer.port), "API_PORT": str(port), "OIDUNA_ASSETS_DIR": str(tmp_path),
                    **NO_MIDI_ENV})
    k.api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    k.run("%load_ext oiduna_nb")
    assert k.value("__import__('oiduna_nb').__file__").startswith(str(__import__("oiduna_nb").__path__[0]))
    cell = k.run(SETUP)
    assert cell.error is None, cell.error
    assert cell.results and "application/vnd.jupyter.widget-view+json" in cell.results[-1]
    assert cell.results[-1]["text/plain"].startswith("<oiduna_nb performance view")  # not a raw widget repr
    yield k
    k.api.close()
    k.close()
    peer.close()


def browser_update(kernel: Kernel, model_id: str, state: dict) -> None:
    """What the browser sends when a user moves a control (ipywidgets' comm protocol)."""
    content = {"comm_id": model_id, "data": {"method": "update", "state": state, "buffer_paths": []}}
    kernel.kc.shell_channel.send(kernel.kc.session.msg("comm_msg", content))


def test_the_view_has_a_strip_and_a_lane_per_track(nb):
    assert nb.value("list(m.strips)") == ["kick", "hat", "bass"]
    assert nb.value("m.strips['kick'].gain.value") == 1.0
    lanes = nb.value("view.roll.roll['lanes']")
    assert [(lane["id"], lane["source"]) for lane in lanes] == [("kick", "loop"), ("hat", "pattern"), ("bass", "pattern")]
    hat = lanes[1]
    assert hat["rows"] == ["hh"] and [e[:2] for e in hat["events"]] == [[4.0, 4.0], [12.0, 4.0]]
    assert nb.value("view.roll.position") == {"step": 0, "cycle": 0, "label": "1.1.1", "tracks": []}


def test_the_roll_follows_the_cycles_the_engine_plays(nb):
    nb.api.post("/playback/start")
    assert eventually(lambda: nb.value("view.roll.roll['cycle']") >= 1)  # redrawn for the next cycle
    cycle = nb.value("view.roll.roll['cycle']")
    bass = next(lane for lane in nb.value("view.roll.roll['lanes']") if lane["id"] == "bass")
    first = 3 if cycle % 2 else 0  # <0 3>: what the engine plays in that cycle
    assert bass["rows"] == sorted({str(first), "7"}, key=lambda r: -float(r))
    # the same events as the engine's own per-cycle hits for that track
    hits = nb.value(f"sorted(k + h.offset for k, hs in eng.cycles.hits(eng.state.sources['bass'], {cycle}).items()"
                    " for h in hs)")
    assert [e[0] for e in bass["events"]] == hits
    position = nb.value("view.roll.position")
    assert position["label"] == position_label(position["step"])


def test_http_changes_show_in_the_view(nb):
    nb.api.patch("/playback/tracks/kick/params", json={"data": {"gain": 0.3}, "timing": {"type": "now"}})
    nb.api.post("/tracks/hat/mute", json={"muted": True})
    nb.api.post("/playback/start")
    assert eventually(lambda: nb.value("m.strips['kick'].gain.value") == 0.3)
    assert nb.value("m.strips['hat'].mute.value") is True
    assert nb.value("m.strips['hat'].mute.button_style") == "danger"  # a muted strip shows it
    assert "oiduna-muted" in nb.value("m.strips['hat']._dom_classes")
    assert nb.value("[l['muted'] for l in view.roll.roll['lanes'] if l['id'] == 'hat']") == [True]
    assert eventually(lambda: nb.value("t.state_label.value") == "playing · superdirt")
    assert nb.value("t.play.button_style") == "success"
    assert eventually(lambda: nb.value("view.roll.position['step']") > 0)
    assert eventually(lambda: nb.value("m.strips['kick'].light.count") > 0)  # the trigger light flashed
    assert eventually(lambda: "kick" in nb.value("view.roll.position['tracks']"))  # the roll's lane flashes
    assert nb.value("m.strips['hat'].light.count") == 0  # a muted track does not
    nb.api.post("/tracks/bass/solo", json={"solo": True})
    assert eventually(lambda: nb.value("m.strips['bass'].solo.button_style") == "warning")
    assert "oiduna-silent" in nb.value("m.strips['kick']._dom_classes")


def test_an_http_sequence_track_shows_its_loop_bar(nb):
    """A track posted as a sequence shows the events of the loop's bar that plays."""
    session = {
        "tracks": {"hh": {"meta": {"track_id": "hh"}, "params": {"s": "hh"}}},
        "sequences": {"hh": {"track_id": "hh", "events": [{"step": 2}, {"step": 6, "velocity": 0.5},
                                                         {"step": 18}]}},
        "apply": {"timing": "now", "track_ids": ["hh"]},
    }
    assert nb.api.post("/playback/session", json=session).status_code == 200
    assert eventually(lambda: "hh" in nb.value("list(m.strips)"))
    lane = next(lane for lane in nb.value("view.roll.roll['lanes']") if lane["id"] == "hh")
    assert lane["source"] == "sequence" and lane["events"] == [[2.0, 1.0, 0, 1.0], [6.0, 1.0, 0, 0.5]]


def test_a_strip_reused_for_an_osc_track_can_be_played_again(nb):
    """A MIDI track's strip has no gain or pan; the same name as an OSC track has both again."""
    assert nb.run('midi("kick", note("0 4"), at="now")').error is None
    assert eventually(lambda: nb.value("m.strips['kick'].gain.disabled") is True)
    assert nb.value("m.strips['kick'].pan.disabled") is True
    assert nb.run('track("kick", s("bd*2"), at="now")').error is None
    assert eventually(lambda: nb.value("m.strips['kick'].gain.disabled") is False)
    assert nb.value("m.strips['kick'].pan.disabled") is False


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


def test_mixer_and_transport_alone_still_work(nb):
    cell = nb.run("mixer()")
    assert cell.error is None and cell.results[-1]["text/plain"].startswith("<oiduna_nb mixer: 3 tracks")
    cell = nb.run("transport()")
    assert cell.error is None and cell.results[-1]["text/plain"].startswith("<oiduna_nb transport")


def test_counting_from_one_within_the_bar():
    assert [bar_beat_step(s) for s in (0, 3, 4, 15, 16, 21, 255)] == [
        (1, 1, 1), (1, 1, 4), (1, 2, 1), (1, 4, 4), (2, 1, 1), (2, 2, 2), (16, 4, 4)]
    assert position_label(21) == "2.2.2"


def test_link_shows_when_the_status_has_it():
    assert link_text(None) == ""  # an engine without Link: nothing shown
    assert link_text({"enabled": False, "peers": 0, "tempo": None, "message": None}) == ""
    assert link_text({"enabled": True, "peers": 2, "tempo": 121.5, "message": None}) == "Link: 2 peers · 121.5 bpm"
    assert link_text({"enabled": True, "peers": 1, "tempo": None}) == "Link: 1 peer"
    assert link_text({"enabled": False, "message": "aalink is not installed"}) == "Link: aalink is not installed"
