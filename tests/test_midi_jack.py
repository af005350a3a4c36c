"""The timestamped JACK MIDI path through a real loopback: the engine's JACK client into
a JACK receiver (tests/jack_peer.py) on the dummy JACK server the fixture starts.

Every frame is checked against the frame JACK's own time base gives the intended time
(plus the stated latency), read in the cycle the message arrived in: never against
wall-clock latencies, so a busy machine cannot make these fail. The engine runs on a
manual clock on the real monotonic time base, started a margin ahead of it: the test
computes the steps at once, and JACK plays them when their time comes.
"""

from __future__ import annotations

import contextlib
import time

import pytest

from oiduna_nb.engine import Engine, EngineConfig, ManualClock, Session
from oiduna_nb.engine.errors import NotFound
from oiduna_nb.engine.outputs.jack_midi import JackMidiOutput
from oiduna_nb.engine.outputs.midi_choice import open_midi_output
from oiduna_nb.engine.realtime import DEFAULT_PRIORITY
from oiduna_nb.engine.sequencer import MidiNote

from .conftest import environ, eventually, run_for, seed_session_dict
from .jack_peer import JackReceiver

NOTE_ON, NOTE_OFF, CC = 0x90, 0x80, 0xB0
MARGIN_NS = 1_500_000_000  # how far the manual clock starts ahead of the real one
LOOKAHEAD_NS = 100_000_000
STEP_NS = 125_000_000  # a 16th at 120 bpm (the seed session's tempo)


@pytest.fixture
def rx(jack_server):
    receiver = JackReceiver("rx")
    yield receiver
    receiver.close()


@pytest.fixture
def clock():
    return ManualClock(start_ns=time.monotonic_ns() + MARGIN_NS)


def make_engine(clock, osc_peer, **config) -> Engine:
    config.setdefault("lookahead", LOOKAHEAD_NS / 1e9)
    return Engine(EngineConfig(osc_port=osc_peer.port, midi_api="jack", **config), clock=clock, run_thread=False)


@contextlib.contextmanager
def engine_into_rx(osc_peer, clock: ManualClock | None = None):
    """An engine whose MIDI goes to rx:in, on a manual clock a margin ahead of real time. The
    margin is set once the engine is open: its JACK helper can take seconds to start."""
    clock = clock or ManualClock(start_ns=time.monotonic_ns() + MARGIN_NS)
    eng = make_engine(clock, osc_peer, midi_port="rx:in")
    clock.t = time.monotonic_ns() + MARGIN_NS
    try:
        yield eng, clock
    finally:
        eng.close()


@pytest.fixture
def engine(jack_server, rx, clock, osc_peer):
    with engine_into_rx(osc_peer, clock) as (eng, _):
        yield eng


def midi_session(events, channel=2) -> Session:
    body = seed_session_dict()
    body["sequences"]["kick"]["events"] = []
    body["tracks_midi"] = {"lead": {"track_id": "lead", "channel": channel, "velocity": 100}}
    body["sequences"]["lead"] = {"track_id": "lead", "events": events}
    body["apply"] = {"timing": "now"}
    return Session.model_validate(body)


def sleep_until(mono_ns: int) -> None:
    """Let real time pass a point (to check that nothing more arrives after it)."""
    time.sleep(max(0.0, (mono_ns - time.monotonic_ns()) / 1e9))


def assert_on_frames(arrivals, expected, latency_ns):
    """Each arrival is the expected message, on the frame of its intended time + latency."""
    assert [a.data for a in arrivals] == [data for data, _ in expected]
    for arrival, (data, intended_ns) in zip(arrivals, expected):
        meant = arrival.frame_of(intended_ns + latency_ns)
        assert abs(arrival.frame - meant) <= 1, (data, arrival.frame, meant)


def assert_placed_while_jack_kept_time(rx, scenario, attempts: int = 4):
    """Run ``scenario()`` (it plays, waits for what it expects and returns ``(arrivals,
    expected, latency_ns)``) until it ran while JACK's time base ran steadily, and check
    that run's frames. A stall of the dummy server (not real-time, on a busy machine) makes
    every message due in it late, whoever wrote it: that run says nothing of our placement."""
    for _ in range(attempts):
        rx.wait_steady()
        rx.arrivals.clear()
        arrivals, expected, latency_ns = scenario()
        if arrivals and rx.kept_time(min(a.cycle_frame for a in arrivals), max(a.frame for a in arrivals)):
            assert_on_frames(arrivals, expected, latency_ns)
            return
    pytest.fail(f"JACK's dummy server stalled in each of {attempts} runs: frames cannot be checked")


def test_status_says_timestamped_jack_and_its_latency(engine):
    status = engine.midi_status()
    assert status["available"] and status["api"] == "jack" and status["port"] == "rx:in"
    assert status["timestamped"] is True
    assert status["latency_ms"] == pytest.approx(256 / 48000 * 1000, abs=0.001)  # one period
    assert status["path"] == "jack, timestamped, latency 5.3 ms"
    assert status["jack_clock"] in ("CLOCK_MONOTONIC_RAW", "CLOCK_MONOTONIC", "JACK's own clock")
    assert status["thread"] == "normal (thread not started)"  # run_thread=False


def test_notes_land_on_their_frames_and_offs_after_their_gate(jack_server, rx, osc_peer):
    def scenario():
        with engine_into_rx(osc_peer) as (engine, clock):
            engine.load_session(
                midi_session(
                    [
                        {"step": 0, "note": 60, "gate": 2},
                        {"step": 1, "note": 62, "gate": 0.5, "offset": 0.25},
                        {"step": 3, "note": 64, "gate": 1, "velocity": 0.5},
                    ]
                )
            )
            start = clock.now_ns()
            engine.start()
            run_for(engine, clock, 0.6)  # every step computed now, a margin before JACK plays it
            t0 = start + LOOKAHEAD_NS
            expected = [
                ((NOTE_ON | 2, 60, 100), t0),
                ((NOTE_ON | 2, 62, 100), t0 + STEP_NS + STEP_NS // 4),
                ((NOTE_OFF | 2, 62, 0), t0 + STEP_NS + STEP_NS // 4 + STEP_NS // 2),
                ((NOTE_OFF | 2, 60, 0), t0 + 2 * STEP_NS),
                ((NOTE_ON | 2, 64, 50), t0 + 3 * STEP_NS),
                ((NOTE_OFF | 2, 64, 0), t0 + 4 * STEP_NS),
            ]
            got = rx.wait_for(len(expected))
            return got, expected, engine.midi.latency_ns

    assert_placed_while_jack_kept_time(rx, scenario)


def test_a_retriggered_note_is_released_first_in_time_order(jack_server, rx, osc_peer):
    # a long note on step 0; the same note again on step 1, queued before the first one's
    # note-off is due: off and on at step 1, one final off, and the long note's off dropped
    def scenario():
        with engine_into_rx(osc_peer) as (engine, clock):
            engine.load_session(midi_session([{"step": 0, "note": 64, "gate": 8}, {"step": 1, "note": 64, "gate": 1}], 1))
            start = clock.now_ns()
            engine.start()
            run_for(engine, clock, 1.2)
            t0 = start + LOOKAHEAD_NS
            expected = [
                ((NOTE_ON | 1, 64, 100), t0),
                ((NOTE_OFF | 1, 64, 0), t0 + STEP_NS),
                ((NOTE_ON | 1, 64, 100), t0 + STEP_NS),
                ((NOTE_OFF | 1, 64, 0), t0 + 2 * STEP_NS),
            ]
            rx.wait_for(len(expected))
            sleep_until(t0 + 8 * STEP_NS + engine.midi.latency_ns + 200_000_000)
            assert engine.midi.sounding() == []
            return list(rx.arrivals), expected, engine.midi.latency_ns  # nothing more at step 8

    assert_placed_while_jack_kept_time(rx, scenario)


def sounding_then(engine, clock, rx, action):
    """Two long notes sound, a later one is queued; ``action`` stops them all at one frame."""
    engine.load_session(
        midi_session([{"step": 0, "note": 50, "gate": 64}, {"step": 0, "note": 53, "gate": 64},
                      {"step": 12, "note": 55}])
    )
    start = clock.now_ns()
    engine.start()
    run_for(engine, clock, 1.6)  # step 12 (1.5 s after step 0) is queued too
    rx.wait_for(2)
    assert engine.midi.sounding() == [(2, 50), (2, 53)]
    action()
    return start + LOOKAHEAD_NS + 12 * STEP_NS + engine.midi.latency_ns + 200_000_000


def test_stop_releases_sounding_notes_and_drops_queued_ones(engine, clock, rx):
    after_step_12 = sounding_then(engine, clock, rx, engine.stop)
    got = rx.wait_for(4)
    assert [a.data for a in got[2:]] == [(NOTE_OFF | 2, 50, 0), (NOTE_OFF | 2, 53, 0)]
    assert got[2].frame == got[3].frame > got[0].frame
    sleep_until(after_step_12)  # its note was dropped with the queue
    assert len(rx.arrivals) == 4 and engine.midi.sounding() == []


def test_panic_through_the_same_path(engine, clock, rx):
    after_step_12 = sounding_then(engine, clock, rx, engine.midi_panic)
    got = rx.wait_for(2 + 2 + 32)
    offs, ccs = got[2:4], got[4:]
    assert [a.data for a in offs] == [(NOTE_OFF | 2, 50, 0), (NOTE_OFF | 2, 53, 0)]
    assert sorted(a.data for a in ccs) == sorted(
        [(CC | ch, 123, 0) for ch in range(16)] + [(CC | ch, 120, 0) for ch in range(16)]
    )
    frames = [a.frame for a in got]
    assert frames == sorted(frames) and frames[2] > frames[0]  # after the notes, in order
    sleep_until(after_step_12)  # the queued note was dropped
    assert len(rx.arrivals) == 36


def test_clock_pulses_and_transport_messages_on_their_frames(jack_server, rx):
    def scenario():
        out = JackMidiOutput()
        try:
            out.select("rx")
            t0 = time.monotonic_ns() + 300_000_000
            pulse = round(60e9 / 120 / 24)  # 24 per quarter note at 120 bpm
            expected = [((0xF2, 0, 0), t0 - pulse), ((0xFA,), t0)]
            expected += [((0xF8,), t0 + k * pulse) for k in range(48)]
            expected += [((0xFC,), t0 + 48 * pulse)]
            for data, at in expected:
                out.send_at(at, list(data))
            return rx.wait_for(len(expected)), expected, out.latency_ns
        finally:
            out.close()

    assert_placed_while_jack_kept_time(rx, scenario)


def test_our_own_port_for_others_to_connect_to(jack_server, clock, osc_peer, rx):
    def scenario():
        eng = make_engine(clock, osc_peer)
        try:
            own = eng.midi_status()["port"]
            assert own.endswith(":out") and own.startswith("oiduna_nb")
            rx.client.connect(own, rx.name)  # a synth connects itself to us
            eng.load_session(midi_session([], channel=3))
            clock.t = time.monotonic_ns() + 500_000_000  # each attempt: now a margin ahead of real time
            eng.trigger_midi("lead", note=60, duration_ms=100)
            now = clock.now_ns()
            expected = [((NOTE_ON | 3, 60, 100), now), ((NOTE_OFF | 3, 60, 0), now + 100_000_000)]
            return rx.wait_for(2), expected, eng.midi.latency_ns
        finally:
            eng.close()

    assert_placed_while_jack_kept_time(rx, scenario)


def test_ports_listed_and_selected_by_name(engine, clock, rx):
    other = JackReceiver("synth", "midi_in")
    keyboard = JackReceiver("keys")  # stands in for a source: we list its ports too
    source = keyboard.client.midi_outports.register("out")
    try:
        ports = engine.midi_ports()
        assert {"name": "rx:in", "is_input": False, "is_output": True} in ports
        assert {"name": "synth:midi_in", "is_input": False, "is_output": True} in ports
        assert {"name": source.name, "is_input": True, "is_output": False} in ports
        assert not any(p["name"].startswith("oiduna_nb") for p in ports)  # not our own
        engine.load_session(midi_session([{"step": 0, "note": 48, "gate": 64}]))  # 4 bars long

        def switch_while_the_note_sounds() -> tuple[list, bool]:
            engine.select_midi_port("rx:in")
            rx.wait_steady()
            rx.arrivals.clear()
            engine.stop()
            engine.start()
            run_for(engine, clock, 0.2)
            assert [a.data for a in rx.wait_for(1)] == [(NOTE_ON | 2, 48, 100)]
            first = rx.cycles[-1][0]
            assert engine.select_midi_port("synth") == "synth:midi_in"  # by prefix
            got = [a.data for a in rx.wait_for(2, timeout=5)]
            return got, rx.kept_time(first, rx.cycles[-1][0])

        # The switch waits (boundedly: it holds the engine) for the release to be written; a
        # stall of the dummy server (not real-time, on a busy machine) can outlast that wait.
        for _ in range(4):
            got, kept_time = switch_while_the_note_sounds()
            if kept_time:
                break
        # the note sounding on the old port was released there before the switch
        assert got == [(NOTE_ON | 2, 48, 100), (NOTE_OFF | 2, 48, 0)]
        assert engine.midi_status()["port"] == "synth:midi_in"
        with pytest.raises(NotFound):
            engine.select_midi_port("no such synth")
    finally:
        other.close()
        keyboard.close()


def test_a_latency_setting_longer_than_a_period_is_used_as_it_is(jack_server, rx):
    def scenario():
        out = JackMidiOutput(latency=0.05)
        try:
            assert out.latency_ns == 50_000_000 and out.path == "jack, timestamped, latency 50.0 ms"
            out.select("rx:in")
            t = time.monotonic_ns() + 200_000_000
            out.send_at(t, [0xB0, 1, 64])
            return rx.wait_for(1), [((0xB0, 1, 64), t)], out.latency_ns
        finally:
            out.close()

    assert_placed_while_jack_kept_time(rx, scenario)


def test_without_a_jack_server_auto_falls_back_to_rtmidi_and_says_why():
    with environ(JACK_DEFAULT_SERVER="no-such-server"):
        out = open_midi_output("auto")
        jack_only = open_midi_output("jack")
    assert not out.timestamped and "no JACK server answered" in out.jack_unavailable
    # rtmidi finds a MIDI system or reports none (this machine has no ALSA sequencer)
    assert out.path.startswith("rtmidi ") if out.available else "MIDI is unavailable" in out.unavailable_reason
    out.close()
    assert not jack_only.available and "no JACK server answered" in jack_only.unavailable_reason
    jack_only.schedule_note(MidiNote(time_ns=0, off_ns=1, track_id="t", channel=0, note=60, velocity=1))
    jack_only.panic()  # no-ops, never exceptions: the music plays on without MIDI


def test_engine_status_when_the_fallback_is_used(osc_peer, clock):
    with environ(JACK_DEFAULT_SERVER="no-such-server"):
        eng = Engine(EngineConfig(osc_port=osc_peer.port, midi_api="auto"), clock=clock, run_thread=False)
    try:
        status = eng.midi_status()
        assert status["timestamped"] is False and "no JACK server answered" in status["jack"]
    finally:
        eng.close()


def test_status_says_how_the_metronome_thread_is_scheduled(jack_server, osc_peer):
    eng = Engine(EngineConfig(osc_port=osc_peer.port, midi_api="jack"))  # its own thread
    try:
        assert eventually(lambda: eng.midi_status()["thread"] != "normal (thread not started)")
        thread = eng.midi_status()["thread"]
        assert thread == f"SCHED_FIFO {DEFAULT_PRIORITY}" or thread.startswith("normal (")
    finally:
        eng.close()
