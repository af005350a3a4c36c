"""MIDI clock through the JACK loopback: out (hardware follows us: 24 pulses a beat on their
frames, start and stop with the transport) and in (we follow another machine's clock)."""

from __future__ import annotations

import pytest

from oiduna_nb.engine import Session
from oiduna_nb.engine.midi_clock import step_pulses, song_position, transport_messages

from .conftest import eventually, run_for, seed_session_dict
from .jack_peer import JackClockSender
from .test_midi_jack import STEP_NS, assert_on_frames, clock, engine, rx  # noqa: F401 (fixtures)


def test_pulses_of_a_step_and_the_transport_messages():
    assert step_pulses(1000, STEP_NS) == [1000 + round(k * STEP_NS / 6) for k in range(6)]
    assert song_position(200) == bytes((0xF2, 200 & 0x7F, 200 >> 7))
    assert transport_messages("start", 0) == [b"\xfa"]
    assert transport_messages("continue", 37) == [song_position(37), b"\xfb"]
    assert transport_messages(None, 5) == []


def test_clock_out_pulses_on_their_frames_with_start_and_stop(engine, rx, clock):
    engine.load_session(Session.model_validate({**seed_session_dict(), "apply": {"timing": "now"}}))
    engine.set_midi_clock_out(True)
    t0 = clock.now_ns() + engine.player.lookahead_ns
    engine.start()
    run_for(engine, clock, 2 * 16 * STEP_NS / 1e9 - 0.15)  # nearly two bars computed, a lookahead ahead
    steps = engine.player.next_tick
    expected = [((0xFA,), t0)] + [((0xF8,), t0 + round(k * STEP_NS / 6)) for k in range(6 * steps)]
    got = [a for a in rx.wait_for(len(expected)) if a.data[0] in (0xF8, 0xFA)]
    assert_on_frames(got[: len(expected)], expected, engine.midi.latency_ns)
    engine.stop()
    assert eventually(lambda: rx.messages()[-1] == (0xFC,))
    assert engine.midi_status()["clock"]["out"] is True


def test_clock_out_after_a_pause_says_where_it_continues(engine, rx, clock):
    engine.load_session(Session.model_validate({**seed_session_dict(), "apply": {"timing": "now"}}))
    engine.set_midi_clock_out(True)
    engine.start()
    run_for(engine, clock, 0.5)
    engine.pause()

    def transport():
        return [m for m in rx.messages() if m[0] != 0xF8]

    assert eventually(lambda: transport() == [(0xFA,), (0xFC,)])
    tick = engine.player.next_tick
    engine.start()
    run_for(engine, clock, 0.3)
    assert eventually(lambda: transport() == [(0xFA,), (0xFC,), tuple(song_position(tick)), (0xFB,)])


@pytest.fixture
def master(jack_server):
    sender = JackClockSender(bpm=133.0)
    yield sender
    sender.close()


def test_clock_in_takes_the_tempo_and_the_transport(jack_server, master, osc_peer):
    from oiduna_nb.engine import Engine, EngineConfig

    eng = Engine(EngineConfig(osc_port=osc_peer.port, midi_api="jack"))  # its own thread, the real clock
    try:
        eng.load_session(Session.model_validate(seed_session_dict()))
        port = eng.follow_midi_clock(None)  # a virtual input others connect to
        inputs = [p for p in master.client.get_ports(is_midi=True, is_input=True) if port in p.name]
        master.client.connect(master.name, inputs[0])
        master.start()
        assert eventually(lambda: eng.status()["playing"], timeout=10)  # its start started us
        assert eventually(lambda: abs(eng.status()["bpm"] - 133.0) < 0.3, timeout=15)
        assert abs(eng.midi_status()["clock"]["tempo"] - 133.0) < 0.3
        master.stop()
        assert eventually(lambda: eng.status()["playback_state"] == "paused", timeout=10)
    finally:
        eng.close()
