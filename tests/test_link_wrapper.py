"""Our aalink wrapper (``engine.link.AbletonLink``) on its real thread and loop, with a stand-in
for the aalink library whose session the test sets: what the wrapper does with a tempo that
came with a loaded session when Link has found peers the engine has not heard of yet (the
window in which a joining engine could impose its file's tempo on everyone: seen in the
two-engine test, tests/test_link_peers.py, about one run in six)."""

from __future__ import annotations

import sys
import time
import types

import pytest

from oiduna_nb.engine.link import AbletonLink, LinkSample, wire_tempo

from .conftest import eventually


class StandInLink:
    """What aalink's ``Link`` offers the wrapper; the session is whatever the test sets."""

    made: list["StandInLink"] = []

    def __init__(self, bpm: float) -> None:
        self.tempo = bpm
        self.num_peers = 0
        self.playing = False
        self.quantum = 4
        self.start_stop_sync_enabled = False
        self.enabled = False
        self._origin = time.monotonic_ns()
        StandInLink.made.append(self)

    @property
    def beat(self) -> float:
        return (time.monotonic_ns() - self._origin) * self.tempo / 60e9


@pytest.fixture
def open_session(monkeypatch):
    """Our wrapper on a stand-in session: (wrapper, the stand-in's Link, the samples heard)."""
    monkeypatch.setitem(sys.modules, "aalink", types.SimpleNamespace(Link=StandInLink))
    StandInLink.made.clear()
    opened: list[AbletonLink] = []

    def open_with(settle: float):
        heard: list[LinkSample] = []
        # a poll of an hour: the wrapper reads Link when it opens and when a tempo is due, only
        peer = AbletonLink(time.monotonic_ns, poll=3600, settle=settle)
        peer.open(120, False, heard.append)
        opened.append(peer)
        return peer, StandInLink.made[-1], heard

    yield open_with
    for peer in opened:
        peer.close()


def test_a_loaded_sessions_tempo_keeps_a_session_found_before_it_is_due(open_session):
    peer, link, heard = open_session(settle=0)
    assert (heard[-1].peers, heard[-1].clock.bpm) == (0, wire_tempo(120))
    link.num_peers, link.tempo = 1, wire_tempo(123.4)  # Link joins between two readings
    peer.push_tempo(90, None, yields=True)  # the engine, still believing it is alone, loads a file
    assert eventually(lambda: heard[-1].adopt, timeout=5)
    assert link.tempo == wire_tempo(123.4)  # never imposed on the session
    found, adopt = heard[-2], heard[-1]
    assert (found.peers, found.clock.bpm, found.own_tempo) == (1, wire_tempo(123.4), False)
    assert (adopt.peers, adopt.clock.bpm, adopt.own_tempo) == (1, wire_tempo(123.4), False)


def test_a_loaded_sessions_tempo_waits_until_link_has_had_time_to_find_the_others(open_session):
    """Set within milliseconds of Link switching on, a tempo can be carried into the session
    Link joins right then: a loaded session's waits for ``settle``, then yields if not alone."""
    # settling for 3 s: the test's own steps below fit in it even on a stalled machine
    peer, link, heard = open_session(settle=3.0)
    peer.push_tempo(90, None, yields=True)
    time.sleep(0.05)
    assert link.tempo == wire_tempo(120)  # not yet
    link.num_peers, link.tempo = 1, wire_tempo(123.4)  # Link finds an established session
    assert eventually(lambda: heard[-1].adopt, timeout=5)
    assert link.tempo == wire_tempo(123.4)


def test_a_loaded_sessions_tempo_goes_out_while_alone(open_session):
    peer, link, heard = open_session(settle=0.2)
    peer.push_tempo(90, None, yields=True)
    assert eventually(lambda: heard[-1].clock.bpm == wire_tempo(90), timeout=5)
    assert link.tempo == wire_tempo(90) and heard[-1].own_tempo and not heard[-1].adopt


def test_a_later_tempo_supersedes_a_loaded_one_still_waiting(open_session):
    peer, link, heard = open_session(settle=0.3)
    peer.push_tempo(90, None, yields=True)
    peer.push_tempo(100, None)  # the user's, right after
    assert eventually(lambda: link.tempo == wire_tempo(100), timeout=5)
    time.sleep(0.5)  # past the settling: the file's tempo never lands over the user's
    assert link.tempo == wire_tempo(100) and heard[-1].clock.bpm == wire_tempo(100)


def test_an_explicit_tempo_goes_out_among_peers(open_session):
    peer, link, heard = open_session(settle=0.2)
    link.num_peers, link.tempo = 1, wire_tempo(123.4)
    peer.push_tempo(90, None)  # a tempo the user set: Link lets any peer turn the session
    assert eventually(lambda: link.tempo == wire_tempo(90), timeout=5)
    assert eventually(lambda: heard[-1].clock.bpm == wire_tempo(90), timeout=5)
    assert heard[-1].own_tempo and not any(sample.adopt for sample in heard)
