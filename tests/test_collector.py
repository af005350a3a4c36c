"""The hosts' collector policy: sessions are left out of full collections while they play, and
what died meanwhile is reclaimed when the transport stops."""

from __future__ import annotations

import gc
import weakref

import pytest

from oiduna_nb.engine import Session
from oiduna_nb.engine.collector import SessionCollector

from .conftest import seed_session_dict


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture
def collected(engine):
    engine.collector = SessionCollector()
    yield engine
    gc.unfreeze()  # the test process gets Python's own policy back


def test_a_loaded_session_is_left_out_of_full_collections(collected):
    before = gc.get_freeze_count()
    collected.load_session(Session.model_validate(seed_session_dict()))
    assert gc.get_freeze_count() > before
    gc.collect()
    assert gc.get_freeze_count() > before  # a full collection walks none of it


def test_cycles_that_died_while_frozen_are_reclaimed_at_stop(collected):
    node = Node()
    dead = weakref.ref(node)
    collected.load_session(Session.model_validate(seed_session_dict()))  # freezes the node too
    del node
    gc.collect()
    assert dead() is not None  # frozen: waits, the walk would have cost the music
    collected.stop()
    assert dead() is None  # nothing plays: reclaimed


def test_without_a_collector_the_engine_freezes_nothing(engine):
    before = gc.get_freeze_count()
    engine.load_session(Session.model_validate(seed_session_dict()))
    engine.stop()
    assert gc.get_freeze_count() == before
