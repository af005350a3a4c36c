"""Engine logic with a manual clock: deterministic, no sleeps, no thread.

OSC goes to a real UDP peer; each test moves the clock and reads back what the
engine sent and what state it reports.
"""

from __future__ import annotations

import pytest

from oiduna_nb.engine import AbsoluteTiming, BoundaryTiming, NowTiming, Session
from oiduna_nb.engine.errors import InvalidRequest, NotFound
from oiduna_nb.engine.linksync import aalink_installed
from oiduna_nb.engine.outputs.osc import ntp_timetag

from .conftest import run_for, seed_session_dict
from .osc_peer import as_dict

BAR = BoundaryTiming(type="boundary", unit="bar")
BEAT = BoundaryTiming(type="boundary", unit="beat")
SEQ = BoundaryTiming(type="boundary", unit="seq")
NOW = NowTiming(type="now")
STEP_120 = 0.125  # seconds per 16th at 120 bpm


def two_track_session(kick_steps=(0, 4), **env) -> Session:
    body = seed_session_dict()
    body["environment"].update(env)
    body["sequences"]["kick"]["events"] = [{"step": s} for s in kick_steps]
    body["tracks"]["hat"] = {
        "meta": {"track_id": "hat"},
        "params": {"s": "hh", "gain": 0.5, "pan": 0.2, "orbit": 1, "n": 3, "cutoff": 3000},
        "fx": {"room": 0.2},
    }
    body["sequences"]["hat"] = {
        "track_id": "hat",
        "events": [{"step": s, "velocity": 0.5, "gate": 0.5} for s in range(2, 256, 4)],
    }
    return Session.model_validate(body)


def sent_steps(peer) -> list[int]:
    """Loop steps of the kick/hat messages received, from their cycle argument."""
    return [round(as_dict(m.args)["cycle"] * 16) for m in peer.messages()]


def test_seed_session_plays_with_the_documented_arguments(engine, clock, osc_peer):
    engine.load_session(Session.model_validate(seed_session_dict()))
    t0 = clock.now_ns()
    engine.start()
    run_for(engine, clock, 16 * STEP_120 - 0.101)  # the first bar has been sent
    osc_peer.wait_for(2)
    messages = osc_peer.messages()
    assert [m.address for m in messages] == ["/dirt/play", "/dirt/play"]
    first, second = (as_dict(m.args) for m in messages)
    assert list(first)[:5] == ["s", "orbit", "cps", "cycle", "delta"]
    assert first["s"] == "bd" and first["orbit"] == 0
    assert first["cps"] == pytest.approx(0.5)
    assert first["cycle"] == 0.0 and second["cycle"] == pytest.approx(0.25)
    assert first["delta"] == pytest.approx(0.125)
    assert first["gain"] == pytest.approx(1.0) and first["pan"] == pytest.approx(0.5)
    # timetags are exactly the step times: first step one lookahead after start
    tags = [m.timetag for m in messages]
    assert tags[0] == ntp_timetag(clock.to_unix_ns(t0 + 100_000_000))
    assert tags[1] == ntp_timetag(clock.to_unix_ns(t0 + 100_000_000 + 4 * 125_000_000))


def test_gain_is_track_gain_times_velocity_and_params_pass_through(engine, clock, osc_peer):
    engine.load_session(two_track_session())
    engine.start()
    run_for(engine, clock, 0.3)
    osc_peer.wait_for(2)
    hat = next(as_dict(m.args) for m in osc_peer.messages() if as_dict(m.args)["s"] == "hh")
    assert hat["gain"] == pytest.approx(0.5) and hat["amp"] == pytest.approx(0.2)  # velocity 0.5 is linear
    assert hat["n"] == 3 and hat["cutoff"] == 3000 and hat["room"] == pytest.approx(0.2)
    assert hat["orbit"] == 1 and hat["delta"] == pytest.approx(0.0625)


def test_mute_and_solo_with_solo_winning(engine, clock, osc_peer):
    engine.load_session(two_track_session())
    engine.set_mute("kick", True)
    assert engine.state.active_tracks() == ["hat"]
    engine.set_solo("kick", True)  # solo wins over the kick's own mute
    assert engine.state.active_tracks() == ["kick"]
    engine.start()
    run_for(engine, clock, 1.0)
    sounds = {as_dict(m.args)["s"] for m in osc_peer.messages()}
    assert sounds == {"bd"}
    with pytest.raises(NotFound):
        engine.set_mute("ghost", True)


def test_a_send_applies_the_lines_effects_to_the_event_scaled_by_its_amount(engine, clock, osc_peer):
    """SuperDirt's reverb and delay read their orbit's dry sound times room/delay: a send is
    the line's effects on the track's own event (room and delay scaled by the amount and the
    line's gain), never a second copy of the sound (which would play dry twice, at gain⁴)."""
    body = seed_session_dict()
    body["mixer_lines"] = {"verb": {"name": "verb", "orbit": 5, "gain": 0.5, "fx": {"room": 0.9, "size": 0.8}}}
    body["tracks"]["kick"]["sends"] = [{"mixer_line": "verb", "amount": 0.4}]
    engine.load_session(Session.model_validate(body))
    engine.start()
    run_for(engine, clock, 0.01)
    osc_peer.wait_for(1)
    (only,) = [as_dict(m.args) for m in osc_peer.messages() if m.address == "/dirt/play"]
    assert only["orbit"] == 0 and only["gain"] == 1.0 and "amp" not in only
    assert only["room"] == pytest.approx(0.9 * 0.4 * 0.5) and only["size"] == pytest.approx(0.8)


def test_velocity_and_line_gain_scale_the_linear_amp_not_gain(engine, clock, osc_peer):
    body = seed_session_dict()
    body["mixer_lines"] = {"drums": {"name": "drums", "orbit": 2, "gain": 0.5, "include": ["kick"], "fx": {"room": 0.2}}}
    body["tracks"]["kick"]["params"]["gain"] = 0.9
    body["sequences"]["kick"]["events"][0]["velocity"] = 0.5
    engine.load_session(Session.model_validate(body))
    engine.start()
    run_for(engine, clock, 0.01)
    osc_peer.wait_for(1)
    args = as_dict(osc_peer.messages()[0].args)
    assert args["gain"] == pytest.approx(0.9)  # the track's level, as Tidal users know it
    assert args["amp"] == pytest.approx(0.4 * 0.5 * 0.5)  # SuperDirt's default amp × velocity × line gain
    assert args["orbit"] == 2 and args["room"] == pytest.approx(0.2)  # through the line: its orbit and effects


def test_changes_wait_for_their_boundary_and_apply_in_order(engine, clock, osc_peer):
    engine.load_session(Session.model_validate(seed_session_dict()))
    engine.start()
    run_for(engine, clock, 3 * STEP_120)  # steps up to ~3 + lookahead computed
    next_step = engine.player.next_step
    a = engine.update_environment({"bpm": 100}, BAR)
    b = engine.update_environment({"bpm": 90}, BAR)  # same boundary: applies after a
    c = engine.update_environment({"swing": 0.1}, BEAT)
    d = engine.update_environment({"default_gate": 0.5}, AbsoluteTiming(type="absolute", step=200))
    e = engine.update_environment({"bpm": 80}, SEQ)
    assert next_step < 16
    pending = engine.pending()
    assert [p["id"] for p in pending] == [c.id, a.id, b.id, d.id, e.id]
    assert [p["apply_at_step"] for p in pending] == [-(-next_step // 4) * 4, 16, 16, 200, 0]
    assert pending[0]["apply_timing"] == "beat" and pending[3]["apply_timing"] == "absolute"
    assert engine.status()["has_pending"] is True
    run_for(engine, clock, 16 * STEP_120)
    assert engine.state.environment.bpm == 90 and engine.state.environment.swing == 0.1
    assert [p["id"] for p in engine.pending()] == [d.id, e.id]
    engine.cancel(d.id)
    with pytest.raises(NotFound):
        engine.cancel(d.id)
    assert engine.cancel_all() == 1
    assert engine.pending() == [] and engine.status()["has_pending"] is False


def test_a_change_on_the_bar_lands_exactly_on_the_bar(engine, clock, osc_peer):
    engine.load_session(two_track_session(kick_steps=range(0, 256, 4)))
    engine.start()
    run_for(engine, clock, 5 * STEP_120)
    engine.update_track_params("kick", {"gain": 0.5}, BAR)
    run_for(engine, clock, 40 * STEP_120)
    kicks = [as_dict(m.args) for m in osc_peer.messages() if as_dict(m.args)["s"] == "bd"]
    by_step = {round(k["cycle"] * 16): k["gain"] for k in kicks}
    assert by_step[0] == by_step[4] == by_step[8] == by_step[12] == pytest.approx(1.0)
    assert by_step[16] == by_step[20] == pytest.approx(0.5)


def test_with_the_transport_stopped_a_change_applies_at_once(engine):
    engine.load_session(Session.model_validate(seed_session_dict()))
    assert engine.update_environment({"bpm": 99}, BAR) is None
    assert engine.state.environment.bpm == 99
    assert engine.update_track_params("kick", {"cutoff": 900}) is None
    assert engine.state.tracks["kick"].params.model_dump()["cutoff"] == 900


def test_a_bad_change_is_refused_at_submit_time(engine, clock):
    engine.load_session(Session.model_validate(seed_session_dict()))
    engine.start()
    run_for(engine, clock, 0.2)
    with pytest.raises(InvalidRequest):
        engine.update_track_params("kick", {"gain": 9}, BAR)
    with pytest.raises(NotFound):
        engine.update_track_params("ghost", {"gain": 0.5}, BAR)
    with pytest.raises(InvalidRequest):
        engine.update_environment({"bpm": 100}, AbsoluteTiming(type="absolute", step=300))
    assert engine.pending() == []


def test_tempo_change_while_playing_has_no_jump(engine, clock, osc_peer):
    body = seed_session_dict()
    body["sequences"]["kick"]["events"] = [{"step": s} for s in range(256)]
    engine.load_session(Session.model_validate(body))
    engine.start()
    run_for(engine, clock, 1.0)
    engine.update_environment({"bpm": 60}, NOW)
    run_for(engine, clock, 2.0)
    tags = [m.timetag for m in osc_peer.messages()]
    gaps = [(b - a) * 1e9 / 2**32 for a, b in zip(tags, tags[1:])]
    assert all(abs(g - 125e6) < 2 or abs(g - 250e6) < 2 for g in gaps)
    switch = next(i for i, g in enumerate(gaps) if abs(g - 250e6) < 2)
    assert all(abs(g - 125e6) < 2 for g in gaps[:switch])
    assert all(abs(g - 250e6) < 2 for g in gaps[switch:])


def test_swing_delays_odd_steps_in_the_timetags(engine, clock, osc_peer):
    body = seed_session_dict()
    body["environment"]["swing"] = 0.5
    body["sequences"]["kick"]["events"] = [{"step": 0}, {"step": 1}, {"step": 2}]
    engine.load_session(Session.model_validate(body))
    engine.start()
    run_for(engine, clock, 0.4)
    t0, t1, t2 = ((m.timetag - osc_peer.messages()[0].timetag) * 1e9 / 2**32 for m in osc_peer.messages())
    assert round(t1) == 125_000_000 + 62_500_000 and round(t2) == 250_000_000


def test_loop_wraps_at_loop_steps(engine, clock, osc_peer):
    body = seed_session_dict()
    body["environment"]["loop_steps"] = 8
    body["sequences"]["kick"]["events"] = [{"step": 0}, {"step": 4}]
    engine.load_session(Session.model_validate(body))
    engine.start()
    run_for(engine, clock, 20 * STEP_120)
    cycles = [as_dict(m.args)["cycle"] * 16 for m in osc_peer.messages()]
    assert cycles[:5] == [0, 4, 8, 12, 16]  # absolute steps keep counting
    assert engine.status()["position"]["step"] < 8


def test_pause_keeps_position_and_start_resumes(engine, clock):
    engine.load_session(Session.model_validate(seed_session_dict()))
    engine.start()
    run_for(engine, clock, 10 * STEP_120)
    engine.pause()
    status = engine.status()
    assert status["playing"] is False and status["playback_state"] == "paused"
    resume_at = engine.player.next_step
    run_for(engine, clock, 5.0)
    assert engine.player.next_step == resume_at
    engine.start()
    assert engine.status()["playback_state"] == "playing"
    run_for(engine, clock, 0.2)
    assert engine.status()["position"]["step"] == resume_at


def test_stop_goes_back_to_step_zero(engine, clock):
    engine.load_session(Session.model_validate(seed_session_dict()))
    engine.start()
    run_for(engine, clock, 68 * STEP_120 + 0.1)
    assert engine.status()["position"] == {"step": 68, "beat": 17, "bar": 4}
    engine.stop()
    status = engine.status()
    assert status["position"] == {"step": 0, "beat": 0, "bar": 0}
    assert status["playback_state"] == "stopped" and status["playing"] is False


def test_status_fields(engine):
    engine.load_session(two_track_session())
    assert engine.status() == {
        "playing": False,
        "playback_state": "stopped",
        "bpm": 120.0,
        "position": {"step": 0, "beat": 0, "bar": 0},
        "active_tracks": ["kick", "hat"],
        "has_pending": False,
        "scenes": [],
        "current_scene": None,
        "output": "superdirt",
        "errors": {"send_errors": 0, "dropped_messages": 0, "last_error": None, "last_error_at": None},
        "link": {
            "enabled": False, "available": aalink_installed(), "peers": 0, "tempo": None, "playing": None,
            "start_stop_sync": False, "message": None, "beat": None, "phase": None, "quantum": 4,
        },
    }


def test_scenes_activate_on_their_boundary_with_their_environment(engine, clock, osc_peer):
    body = seed_session_dict()
    body["scenes"] = {
        "breakdown": {
            "environment": {"bpm": 90, "loop_steps": 256},
            "sequences": {"kick": {"track_id": "kick", "events": [{"step": 0}]}},
        }
    }
    engine.load_session(Session.model_validate(body))
    engine.start()
    run_for(engine, clock, 2 * STEP_120)
    change = engine.activate_scene("breakdown", BAR)
    assert change.type == "scene" and change.apply_at_step == 16
    assert engine.status()["current_scene"] is None
    run_for(engine, clock, 16 * STEP_120)
    status = engine.status()
    assert status["current_scene"] == "breakdown" and status["bpm"] == 90
    assert status["scenes"] == ["breakdown"]
    with pytest.raises(NotFound):
        engine.activate_scene("chorus")


def test_session_load_can_replace_only_some_tracks(engine):
    engine.load_session(two_track_session())
    body = seed_session_dict()
    body["tracks"]["kick"]["params"]["s"] = "808bd"
    body["apply"]["track_ids"] = ["kick"]
    engine.load_session(Session.model_validate(body))
    assert engine.state.tracks["kick"].params.s == "808bd"
    assert "hat" in engine.state.tracks  # untouched


def test_session_apply_scene_name_activates_it(engine):
    body = seed_session_dict()
    body["scenes"] = {"intro": {"environment": {"bpm": 100}}}
    body["apply"]["scene_name"] = "intro"
    engine.load_session(Session.model_validate(body))
    assert engine.status()["current_scene"] == "intro" and engine.status()["bpm"] == 100


def test_capture_scene_then_activate_it_later(engine, clock):
    engine.load_session(two_track_session())
    engine.capture_scene("full")
    engine.set_mute("hat", True)
    engine.update_track_params("kick", {"gain": 0.1})
    engine.activate_scene("full", NOW)
    assert engine.state.tracks["kick"].params.gain == 1.0
    assert engine.state.active_tracks() == ["kick", "hat"]


def test_realtime_osc_trigger_is_a_bundle_one_lookahead_ahead(engine, clock, osc_peer):
    """SuperDirt plays a bare message with zero latency (scsynth reports it late): a trigger
    goes out timetagged now + lookahead, like every step."""
    engine.load_session(Session.model_validate(seed_session_dict()))
    engine.trigger_osc("kick", velocity=0.8, note=62)
    osc_peer.wait_for(1)
    (message,) = osc_peer.messages()
    args = as_dict(message.args)
    assert message.timetag == ntp_timetag(clock.to_unix_ns(clock.now_ns() + 100_000_000))
    assert args["s"] == "bd"
    assert args["amp"] == pytest.approx(0.4 * 0.8) and args["note"] == 2
    with pytest.raises(NotFound):
        engine.trigger_osc("ghost")


def test_engine_plays_osc_when_midi_is_unavailable(engine, clock, osc_peer):
    assert engine.midi_status()["available"] is False
    assert "MIDI is unavailable" in engine.midi_status()["message"]
    body = seed_session_dict()
    body["tracks_midi"] = {"lead": {"track_id": "lead", "channel": 1}}
    body["sequences"]["lead"] = {"track_id": "lead", "events": [{"step": 0, "note": 64}]}
    engine.load_session(Session.model_validate(body))
    engine.start()
    run_for(engine, clock, 1.0)
    assert len(osc_peer.messages()) >= 2
    assert engine.midi_ports() == []


def test_sub_step_offsets_travel_in_a_nested_timetag(engine, clock, osc_peer):
    body = seed_session_dict()
    body["sequences"]["kick"]["events"] = [{"step": 0}, {"step": 0, "offset": 0.5}]
    engine.load_session(Session.model_validate(body))
    engine.start()
    run_for(engine, clock, 0.01)
    osc_peer.wait_for(1)
    on, off = osc_peer.messages()
    assert round((off.timetag - on.timetag) * 1e9 / 2**32) == 62_500_000
    assert as_dict(off.args)["cycle"] == pytest.approx(0.5 / 16)


def test_a_stall_resynchronises_instead_of_bursting(engine, clock, osc_peer):
    engine.load_session(Session.model_validate(seed_session_dict()))
    engine.start()
    run_for(engine, clock, 0.5)
    clock.advance(30.0)  # the machine slept
    engine.metronome.run_due(clock.t)
    assert engine.metronome.stats["resyncs"] == 1
    assert engine.metronome.stats["steps"] < 10


def test_superdirt_hears_velocity_linearly_every_sound_and_no_late_trigger(engine, clock, osc_peer):
    """What real SuperDirt makes of the messages (the peer computes it as SuperDirt does):
    velocity 0.5 is half the level (−6 dB, as MIDI and our instruments), "bd:3" is found as
    bank bd sample 3, and a realtime trigger is a bundle ahead of time, not a late message."""
    from oiduna_nb.engine import Engine, EngineConfig

    from .conftest import no_midi

    body = seed_session_dict()
    body["tracks"]["kick"]["params"]["s"] = "bd:3"
    body["sequences"]["kick"]["events"] = [{"step": 0, "velocity": 1.0}, {"step": 4, "velocity": 0.5}]
    engine.load_session(Session.model_validate(body))
    engine.start()
    run_for(engine, clock, 0.5)
    osc_peer.wait_for(2)
    loud, soft = osc_peer.heard()[:2]
    assert soft["level"] / loud["level"] == pytest.approx(0.5)
    assert loud["found"] and loud["s"] == "bd" and loud["n"] == 3
    live = Engine(EngineConfig(osc_port=osc_peer.port), midi=no_midi(), run_thread=False)  # the real clock
    try:
        live.load_session(Session.model_validate(body))
        live.trigger_osc("kick")
        osc_peer.wait_for(3)
        assert osc_peer.heard()[-1]["late"] is False
    finally:
        live.close()


def test_a_worker_runs_its_job_once_for_a_burst_and_survives_a_failing_job():
    from oiduna_nb.engine.worker import Worker

    from .conftest import eventually

    runs: list[int] = []

    def job():
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("a failing job")

    worker = Worker("test-worker", job, settle=(0.05, 0.5))
    try:
        for _ in range(200):  # a burst of wake-ups: worked on as it stands after the last one
            worker.wake()
        assert eventually(lambda: worker.failures == 1)
        assert len(runs) < 200
        worker.wake()
        assert eventually(lambda: len(runs) >= 2)  # the thread lived through the failure
    finally:
        worker.stop()
    assert not worker._thread.is_alive()
