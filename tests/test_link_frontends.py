"""Ableton Link from every front end: the environment and ``serve --link``, the DSL word,
``%oiduna link`` and the transport widget. The session is the test's (``FakeLink``, a double
of aalink); the engine, its command path and the front ends are real."""

from __future__ import annotations

import asyncio
import sys
from fractions import Fraction

import pytest

from oiduna_nb import cli, dsl
from oiduna_nb.dsl import DslError
from oiduna_nb.engine import Engine, EngineConfig
from oiduna_nb.engine.link import INSTALL_HINT
from oiduna_nb.engine.timeline import BeatClock
from oiduna_nb.magics import OidunaMagics
from oiduna_nb.outputs import link_line
from oiduna_nb.settings import Settings

from .conftest import environ, no_midi
from .link_fake import FakeLink, linked_engine


@pytest.fixture
def fake(clock):
    return FakeLink(clock)


@pytest.fixture
def linked(clock, osc_peer, fake):
    eng = linked_engine(clock, osc_peer, fake)
    dsl.use(eng)
    yield eng
    dsl.use(None)
    eng.close()


def test_link_is_off_unless_asked_by_environment_or_flag(monkeypatch):
    assert Settings().engine_config().link is False
    with environ(OIDUNA_LINK="1", OIDUNA_LINK_START_STOP="true"):
        config = Settings().engine_config()
    assert config.link is True and config.link_start_stop is True
    seen = []
    monkeypatch.setattr(cli, "cmd_serve", lambda args: seen.append(cli._settings(args)) or 0)
    cli.main(["serve", "--link", "--link-start-stop"])
    cli.main(["serve"])
    assert (seen[0].link, seen[0].link_start_stop, seen[1].link) == (True, True, False)


def test_the_dsl_word_joins_leaves_and_says_how_it_is(linked, clock, fake):
    assert dsl.link()["enabled"] is False
    status = dsl.link(True)
    assert status["enabled"] is True and status["tempo"] == 120 and status["quantum"] == 4
    fake.say(BeatClock(Fraction(2), clock.now_ns(), 60e6 / round(60e6 / 97.5)), peers=3)
    status = dsl.link()
    assert status["peers"] == 3 and status["tempo"] == 97.5 and dsl.tempo() == 97.5
    assert dsl.link(start_stop=True)["start_stop_sync"] is True and fake.start_stop_sync is True
    assert dsl.link(False)["enabled"] is False and fake.closed


def test_without_aalink_the_dsl_word_says_how_to_get_it(clock, osc_peer, monkeypatch):
    monkeypatch.setitem(sys.modules, "aalink", None)
    engine = Engine(EngineConfig(osc_port=osc_peer.port), clock=clock, midi=no_midi(), run_thread=False)
    dsl.use(engine)
    try:
        with pytest.raises(DslError, match=r"pip install 'oiduna_nb\[link\]'"):
            dsl.link(True)
        assert dsl.link()["message"] == INSTALL_HINT
        assert link_line(engine) == f"oiduna_nb: Ableton Link is off: {INSTALL_HINT}"  # what serve --link prints
    finally:
        dsl.use(None)
        engine.close()


def test_the_magic_switches_link_and_prints_the_session(linked, fake, capsys):
    OidunaMagics._link(linked, ["on"])
    assert capsys.readouterr().out.strip() == "oiduna_nb: Ableton Link on: 0 peers at 120 bpm, bars of 4 beats"
    OidunaMagics._link(linked, ["start-stop", "on"])
    assert "start/stop shared" in capsys.readouterr().out
    fake.say(fake.mapping, peers=1)
    OidunaMagics._link(linked, [])
    assert "1 peer at 120 bpm" in capsys.readouterr().out
    OidunaMagics._link(linked, ["off"])
    assert capsys.readouterr().out.strip() == "oiduna_nb: Ableton Link is off"


def test_the_transport_widget_shows_peers_and_tempo_and_switches_link(linked, clock, fake):
    from oiduna_nb.widgets.transport import Transport

    async def scenario():
        widget = Transport(linked)
        try:
            assert widget.link.value is False and widget.link_label.value == ""
            widget.link.value = True  # the user presses Link
            assert linked.link.enabled
            fake.say(BeatClock(Fraction(0), clock.now_ns(), 60e6 / round(60e6 / 133)), peers=2)
            await asyncio.sleep(0.05)  # the link event reaches the widget on its loop
            assert widget.link_label.value == "Link: 2 peers · 133 bpm" and widget.bpm.value == 133
            widget.link.value = False
            assert not linked.link.enabled
            await asyncio.sleep(0.05)
            assert widget.link.value is False and widget.link_label.value == ""
        finally:
            widget.close()

    asyncio.run(scenario())
