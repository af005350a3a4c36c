"""The metronome thread on the real clock, into a real UDP peer; and the handshake."""

from __future__ import annotations

import time

from oiduna_nb.engine import Engine, EngineConfig, Session
from oiduna_nb.engine.outputs.superdirt import handshake

from .conftest import no_midi, seed_session_dict
from .osc_peer import OscPeer


def test_thread_sends_bundles_on_the_exact_grid_ahead_of_time():
    peer = OscPeer()
    engine = Engine(EngineConfig(osc_port=peer.port, lookahead=0.1), midi=no_midi())
    try:
        body = seed_session_dict()
        body["environment"]["bpm"] = 140
        body["sequences"]["kick"]["events"] = [{"step": s} for s in range(256)]
        engine.load_session(Session.model_validate(body))
        engine.start()
        time.sleep(1.0)
        engine.stop()
    finally:
        engine.close()
        messages = peer.messages()
        peer.close()
    assert len(messages) >= 6
    tags = [m.timetag for m in messages]
    step = 15e9 / 140
    for i, tag in enumerate(tags):  # every timetag sits on the grid of the first one
        assert abs((tag - tags[0]) * 1e9 / 2**32 - i * step) < 1.0  # within 1 ns
    # how early they arrive is a figure of the benchmark (bench/engine_timing.py), not a test


def test_handshake_tells_whether_superdirt_answers():
    peer = OscPeer(answer_handshake=True)
    try:
        assert handshake("127.0.0.1", peer.port, timeout=2.0) is True
    finally:
        peer.close()
    silent = OscPeer()
    try:
        assert handshake("127.0.0.1", silent.port, timeout=0.2) is False
    finally:
        silent.close()


def test_engine_close_leaves_no_thread():
    import threading

    engine = Engine(EngineConfig(osc_port=9), midi=no_midi())
    engine.start()
    assert any(t.name == "oiduna-metronome" for t in threading.enumerate())
    engine.close()
    engine.close()  # twice is fine
    assert not any(t.name == "oiduna-metronome" for t in threading.enumerate())
