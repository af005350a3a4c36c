"""The rtmidi fallback (sent when due, no timestamps) through a real loopback: the
engine's rtmidi output on rtmidi's JACK API into an rtmidi input on the dummy JACK
server that the fixture starts. The timestamped JACK path is in test_midi_jack.py."""

from __future__ import annotations

import time

import pytest
import rtmidi

from oiduna_nb.engine import Engine, EngineConfig, Session
from oiduna_nb.engine.errors import InvalidRequest, NotFound

from .conftest import no_midi, run_for, seed_session_dict

NOTE_ON, NOTE_OFF, CC = 0x90, 0x80, 0xB0


class MidiSink:
    """An rtmidi input port on the JACK server; collects what arrives."""

    def __init__(self, name: str) -> None:
        self.port = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=name)
        self.port.open_virtual_port("in")
        self.received: list[list[int]] = []

    def take(self, count: int, timeout: float = 5.0) -> list[list[int]]:
        """Wait for ``count`` messages to be delivered (JACK hands them over each period)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            message = self.port.get_message()
            if message:
                self.received.append(message[0])
            else:
                time.sleep(0.002)
        time.sleep(0.03)  # and anything more that was sent: none is expected
        while (message := self.port.get_message()) is not None:
            self.received.append(message[0])
        out, self.received = self.received, []
        return out

    def close(self) -> None:
        self.port.close_port()
        self.port.delete()


@pytest.fixture
def sink(jack_server):
    s = MidiSink("sink")
    yield s
    s.close()


@pytest.fixture
def midi_engine(jack_server, sink, clock, osc_peer):
    eng = Engine(
        EngineConfig(osc_port=osc_peer.port, midi_api="rtmidi-jack", midi_port="sink:in", lookahead=0.1),
        clock=clock,
        run_thread=False,
    )
    status = eng.midi_status()
    assert status["available"] and status["port"] == "sink:in"
    assert status["path"] == "rtmidi jack, sent at due time" and status["timestamped"] is False
    yield eng
    eng.close()


def midi_session(events, channel=2, velocity=100, transpose=0) -> Session:
    body = seed_session_dict()
    body["tracks_midi"] = {
        "lead": {"track_id": "lead", "channel": channel, "velocity": velocity, "transpose": transpose}
    }
    body["sequences"]["lead"] = {"track_id": "lead", "events": events}
    return Session.model_validate(body)


def test_notes_on_at_their_step_and_off_after_their_gate(midi_engine, clock, sink):
    midi_engine.load_session(midi_session([{"step": 0, "note": 60, "velocity": 1.0, "gate": 2}]))
    start = clock.now_ns()
    midi_engine.start()
    run_for(midi_engine, clock, 0.099)  # one lookahead: the step is computed, not yet due
    assert sink.take(0) == []
    clock.t = start + 100_000_000  # the step's time
    midi_engine.metronome.run_due(clock.t)
    assert sink.take(1) == [[NOTE_ON | 2, 60, 100]]
    clock.t = start + 100_000_000 + 249_000_000  # just before gate (2 steps of 125 ms)
    midi_engine.metronome.run_due(clock.t)
    assert sink.take(0) == []
    clock.t = start + 100_000_000 + 250_000_000
    midi_engine.metronome.run_due(clock.t)
    assert sink.take(1) == [[NOTE_OFF | 2, 60, 0]]


def test_velocity_scaling_transpose_and_clamping(midi_engine, clock, sink):
    midi_engine.load_session(
        midi_session(
            [{"step": 0, "note": 120, "velocity": 0.5}, {"step": 1, "note": 3, "velocity": 1.0}],
            channel=0,
            velocity=90,
            transpose=12,
        )
    )
    midi_engine.start()
    run_for(midi_engine, clock, 0.4)
    got = sink.take(4)
    ons = [m for m in got if m[0] == NOTE_ON]
    assert ons == [[NOTE_ON, 127, 45], [NOTE_ON, 15, 90]]  # 120+12 clamps to 127


def test_a_retriggered_sounding_note_gets_its_note_off_first(midi_engine, clock, sink):
    # a long note on step 0, the same note again on step 1: off, on, and one final off
    midi_engine.load_session(
        midi_session([{"step": 0, "note": 64, "gate": 8}, {"step": 1, "note": 64, "gate": 1}], channel=1)
    )
    midi_engine.start()
    run_for(midi_engine, clock, 2.0)
    assert sink.take(4) == [
        [NOTE_ON | 1, 64, 100],
        [NOTE_OFF | 1, 64, 0],
        [NOTE_ON | 1, 64, 100],
        [NOTE_OFF | 1, 64, 0],
    ]


def test_stop_releases_every_sounding_note(midi_engine, clock, sink):
    midi_engine.load_session(midi_session([{"step": 0, "note": 50, "gate": 64}, {"step": 0, "note": 53, "gate": 64}]))
    midi_engine.start()
    run_for(midi_engine, clock, 0.2)
    assert len(sink.take(2)) == 2
    assert midi_engine.midi.sounding() == [(2, 50), (2, 53)]
    midi_engine.stop()
    assert sorted(sink.take(2)) == [[NOTE_OFF | 2, 50, 0], [NOTE_OFF | 2, 53, 0]]
    assert midi_engine.midi.sounding() == []
    run_for(midi_engine, clock, 10.0)  # nothing left scheduled
    assert sink.take(0) == []


def test_panic_sends_notes_off_and_all_sound_off_on_16_channels(midi_engine, clock, sink):
    midi_engine.load_session(midi_session([{"step": 0, "note": 70, "gate": 64}], channel=5))
    midi_engine.start()
    run_for(midi_engine, clock, 0.2)
    sink.take(1)
    midi_engine.midi_panic()
    got = sink.take(1 + 32)
    assert got[0] == [NOTE_OFF | 5, 70, 0]
    ccs = got[1:]
    assert sorted(ccs) == sorted([[CC | ch, 123, 0] for ch in range(16)] + [[CC | ch, 120, 0] for ch in range(16)])


def test_trigger_midi_now_with_a_duration(midi_engine, clock, sink):
    midi_engine.load_session(midi_session([], channel=3, transpose=-2))
    midi_engine.trigger_midi("lead", note=60, velocity=100, duration_ms=500)
    midi_engine.metronome.run_due(clock.t)
    assert sink.take(1) == [[NOTE_ON | 3, 58, 100]]
    clock.advance(0.499)
    midi_engine.metronome.run_due(clock.t)
    assert sink.take(0) == []
    clock.advance(0.001)
    midi_engine.metronome.run_due(clock.t)
    assert sink.take(1) == [[NOTE_OFF | 3, 58, 0]]
    with pytest.raises(InvalidRequest):
        midi_engine.trigger_midi("kick", note=60)
    with pytest.raises(NotFound):
        midi_engine.trigger_midi("ghost", note=60)


def test_ports_are_listed_and_selected_by_name(midi_engine, sink, jack_server):
    listener = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="keyboard")
    listener.open_virtual_port("out")
    try:
        ports = midi_engine.midi_ports()
        assert {"name": "sink:in", "is_input": False, "is_output": True} in ports
        assert {"name": "keyboard:out", "is_input": True, "is_output": False} in ports
        assert midi_engine.select_midi_port("sink") == "sink:in"  # by prefix
        with pytest.raises(NotFound):
            midi_engine.select_midi_port("no such synth")
    finally:
        listener.delete()


def test_without_a_chosen_port_a_virtual_port_is_offered(jack_server, clock, osc_peer):
    eng = Engine(EngineConfig(osc_port=osc_peer.port, midi_api="rtmidi-jack"), clock=clock, run_thread=False)
    try:
        assert eng.midi_status()["port"] == "oiduna_nb out"
        probe = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="probe")
        assert any("oiduna_nb out" in p for p in probe.get_ports())
        probe.delete()
    finally:
        eng.close()


def test_no_midi_system_is_reported_clearly():
    out = no_midi()
    assert not out.available
    assert "MIDI is unavailable" in out.unavailable_reason
    assert "OSC keeps playing" in out.unavailable_reason
    out.note_on(0, 60, 100)  # a no-op, never an exception
    out.panic()
