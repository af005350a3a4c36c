"""Changes are commands applied to the state as it is when they land; one bad value never
silences anything else. Manual clock, real UDP peer, no thread."""

from __future__ import annotations

import json
import time

import pytest

from oiduna_nb import dsl
from oiduna_nb.engine import BoundaryTiming, NowTiming, Session
from oiduna_nb.engine import commands as cmd
from oiduna_nb.engine.ir import Track
from oiduna_nb.engine.outputs.osc import MAX_DATAGRAM, ntp_timetag
from oiduna_nb.persist import Autosaver, read_saved, restore

from .conftest import record_events, run_for, seed_session_dict
from .osc_peer import as_dict, parse_packet

BAR = BoundaryTiming(type="boundary", unit="bar")
NOW = NowTiming(type="now")


def session(*names: str, every_step: bool = True, **env) -> Session:
    body = seed_session_dict()
    body["environment"].update({"loop_steps": 16, **env})
    body["tracks"] = {n: {"meta": {"track_id": n}, "params": {"s": n}} for n in names}
    steps = range(16) if every_step else (0,)
    body["sequences"] = {n: {"track_id": n, "events": [{"step": s} for s in steps]} for n in names}
    return Session.model_validate(body)


def sounds_per_step(peer) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for m in peer.messages():
        if m.address == "/dirt/play":
            out.setdefault(m.timetag, []).append(as_dict(m.args)["s"])
    return out


@pytest.fixture
def use_engine(engine):
    dsl.use(engine)
    yield engine
    dsl.use(None)


# ---- interleaved changes ------------------------------------------------------------------


def test_a_queued_drop_keeps_the_tempo_and_mute_set_meanwhile(use_engine, clock):
    """The notebook reproduction: drop("hat") on the next bar, then tempo(180) and
    mute("kick") now. At the bar, nothing goes back."""
    engine = use_engine
    engine.load_session(session("kick", "hat", "snare"))
    engine.start()
    run_for(engine, clock, 0.3)
    dsl.drop("hat")  # queued for the next bar
    dsl.tempo(180, at="now")
    dsl.mute("kick")
    assert engine.pending() and engine.state.environment.bpm == 180
    run_for(engine, clock, 2.5)  # past the bar
    assert not engine.pending()
    state = engine.state
    assert "hat" not in state.tracks and state.environment.bpm == 180 and state.tracks["kick"].meta.mute


def test_hush_mixer_line_and_a_growing_loop_are_commands_too(use_engine, clock):
    engine = use_engine
    engine.load_session(session("kick", "hat"))
    engine.start()
    run_for(engine, clock, 0.2)
    dsl.track("bass", "x..x..x..x..", sound="bass", at="bar")  # a 12-step track, on the bar
    dsl.mixer_line("verb", orbit=3, room=0.8)  # now
    engine.set_mute("hat", True)  # an HTTP client, now
    run_for(engine, clock, 2.5)
    state = engine.state
    assert "bass" in state.sources and "verb" in state.mixer_lines and state.tracks["hat"].meta.mute
    dsl.hush(at="bar")
    engine.set_solo("kick", True)
    run_for(engine, clock, 3.0)
    assert engine.state.sequences == {} and engine.state.sources == {} and engine.state.tracks["kick"].meta.solo


def test_a_queued_change_that_no_longer_applies_is_reported_not_fatal(engine, clock):
    events = record_events(engine)
    engine.load_session(session("kick", "hat"))
    engine.start()
    run_for(engine, clock, 0.2)
    engine.update_track_params("hat", {"gain": 0.3}, BAR)  # fine when queued
    engine.submit(cmd.DropTrack("hat"))  # ...until hat goes, now
    run_for(engine, clock, 2.5)
    errors = [d for t, d in events if t == "error"]
    assert errors and "could not apply" in errors[0]["message"] and "hat" in errors[0]["details"]
    assert engine.status()["playing"]


def test_crossing_a_boundary_with_4096_changes_costs_one_swap(engine, clock):
    class Counting(cmd.UpdateEnvironment):
        calls = 0

        def apply(self, state):
            Counting.calls += 1
            return super().apply(state)

    engine.load_session(session("kick"))
    engine.start()
    run_for(engine, clock, 0.2)
    for i in range(4096):
        engine.submit(Counting({"swing": (i % 50) / 100}), BAR)
    Counting.calls = 0
    run_for(engine, clock, 2.5)  # the metronome crosses the bar
    assert Counting.calls == 0  # every state was built when the changes were submitted
    assert engine.state.environment.swing == 4095 % 50 / 100 and not engine.pending()


def test_changes_waiting_on_a_boundary_are_encoded_by_the_warmer_thread_a_session_at_once(osc_peer):
    from oiduna_nb.engine import Engine, EngineConfig

    from .conftest import eventually, no_midi

    eng = Engine(EngineConfig(osc_port=osc_peer.port), midi=no_midi())  # its own threads, the real clock
    try:
        eng.load_session(session("kick", "hat"))
        eng.start()
        for i in range(200):  # a burst for one boundary: warmed as it stands after the last one
            eng.submit(cmd.UpdateTrackParams("hat", {"gain": round(0.5 + i / 1000, 3)}), BAR)
        waiting = eng.player.plan.boundaries[-1].state
        assert eventually(lambda: eng.metronome.templates.ready(waiting, "hat"))
        assert eng.warmer.failures == 0
        assert eventually(lambda: eng.state.tracks["hat"].params.gain == 0.699)  # and it plays at its bar
        # a whole session is encoded before submit returns: ready at its boundary, however big
        eng.submit(cmd.LoadSession(session=session("kick", "snare")), BAR)
        loaded = eng.player.plan.boundaries[-1].state
        assert eng.metronome.templates.ready(loaded, "kick") and eng.metronome.templates.ready(loaded, "snare")
    finally:
        eng.close()


# ---- tempo ---------------------------------------------------------------------------------


def test_bpm_001_then_120_plays_at_120_within_a_step(engine, clock, osc_peer):
    engine.load_session(session("kick"))
    engine.start()
    run_for(engine, clock, 0.5)
    engine.update_environment({"bpm": 0.01}, NOW)
    run_for(engine, clock, 2.0)
    engine.update_environment({"bpm": 120}, NOW)
    changed_at = clock.now_ns()
    run_for(engine, clock, 1.0)
    tags = sorted(sounds_per_step(osc_peer))
    after = [t for t in tags if t > ntp_timetag(clock.to_unix_ns(changed_at))]
    assert len(after) >= 7  # 1 s at 120 bpm: 8 steps, none held back by the 0.01 bpm step
    first = after[0]
    assert (first - ntp_timetag(clock.to_unix_ns(changed_at))) / 2**32 <= 0.125 + 0.1 + 1e-6
    gaps = {round((b - a) / 2**32, 6) for a, b in zip(after, after[1:])}
    assert gaps == {0.125}


def test_a_tempo_change_now_times_the_next_step_from_the_last_one(engine, clock, osc_peer):
    engine.load_session(session("kick"))
    engine.start()
    run_for(engine, clock, 0.3)
    engine.update_environment({"bpm": 240}, NOW)
    run_for(engine, clock, 0.5)
    tags = sorted(sounds_per_step(osc_peer))
    gaps = [round((b - a) / 2**32, 6) for a, b in zip(tags, tags[1:])]
    assert gaps[0] == 0.125 and set(gaps[-4:]) == {0.0625}
    i = gaps.index(0.0625)
    assert set(gaps[:i]) == {0.125}  # no gap, no doubled step where the tempo changed


# ---- one bad value never silences anything else -----------------------------------------


def raw_track(name: str, **params) -> Track:
    """A track whose params got past the door (an older engine's saved session, a bug)."""
    base = Track.model_validate({"meta": {"track_id": name}, "params": {"s": name}})
    bad = base.params.model_construct(**{**base.params.model_dump(), **params})
    return base.model_copy(update={"params": bad})


def test_an_unencodable_message_is_dropped_alone_and_reported(engine, clock, osc_peer):
    events = record_events(engine)
    engine.load_session(session("kick", "hat", "snare"))
    engine.submit(cmd.ReplaceTrack(raw_track("hat", foo=1e308), engine.state.sequences["hat"]))
    engine.start()
    run_for(engine, clock, 1.5)
    steps = sounds_per_step(osc_peer)
    assert len(steps) >= 10 and all(sorted(s) == ["kick", "snare"] for s in steps.values())
    status = engine.status()["errors"]
    assert status["dropped_messages"] == len(steps) and "32-bit float" in status["last_error"]
    reports = [d for t, d in events if t == "error"]
    assert 1 <= len(reports) <= 2  # reported at once, then at most once a second
    assert "dropped" in reports[0]["message"]
    engine.trigger_osc("hat")  # a trigger on that track is dropped the same way: no exception


def test_a_step_too_big_for_one_datagram_goes_out_as_several_with_one_timetag(engine, clock, osc_peer):
    names = [f"track{i:02d}" for i in range(60)]
    body = json.loads(session(*names).model_dump_json())
    for n in names:
        body["tracks"][n]["params"].update({f"p{k}": "x" * 40 for k in range(5)})
    engine.load_session(Session.model_validate(body))
    engine.start()
    run_for(engine, clock, 0.01)
    osc_peer.wait_for(2)
    datagrams = [d for _, d in osc_peer.packets]
    assert len(datagrams) >= 2 and all(len(d) <= MAX_DATAGRAM for d in datagrams)
    tags = {d[8:16] for d in datagrams}
    assert len(tags) == 1  # same step, same time
    played = [as_dict(args)["s"] for d in datagrams for _, _, args in parse_packet(d)]
    assert sorted(played) == names


def test_a_message_over_the_datagram_limit_is_dropped_alone(engine, clock, osc_peer):
    engine.load_session(session("kick", "hat"))
    huge = raw_track("hat", **{f"p{k}": "y" * 250 for k in range(60)})
    engine.submit(cmd.ReplaceTrack(huge, engine.state.sequences["hat"]))
    engine.start()
    run_for(engine, clock, 0.5)
    assert all(s == ["kick"] for s in sounds_per_step(osc_peer).values())
    assert "datagram limit" in engine.status()["errors"]["last_error"]


# ---- small truths --------------------------------------------------------------------------


def test_after_pause_the_position_holds(engine, clock):
    engine.load_session(session("kick"))
    engine.start()
    run_for(engine, clock, 0.6)
    engine.pause()
    held = engine.status()["position"]
    run_for(engine, clock, 0.5)  # the steps sent ahead sound, but the position does not creep
    assert engine.status()["position"] == held
    assert engine.pause() is False  # pausing a paused engine says so


# ---- the session outlives the process ------------------------------------------------------


def test_autosave_is_atomic_and_the_previous_process_save_is_kept(engine, tmp_path):
    path = tmp_path / "sessions" / "autosave.json"
    path.parent.mkdir()
    old = session("old")
    path.write_text(json.dumps({"format": 1, "saved_at": 1.0, "playing": True,
                                "session": json.loads(old.model_dump_json())}))
    saver = Autosaver(engine, path, debounce=0.05)
    try:
        assert saver.restorable().session.tracks.keys() == {"old"}  # set aside, not overwritten
        engine.load_session(session("kick", "hat"), NOW)
        engine.update_environment({"bpm": 97}, NOW)
        deadline = time.monotonic() + 5
        while (read_saved(path) is None or read_saved(path).session.environment.bpm != 97) and time.monotonic() < deadline:
            time.sleep(0.02)
        saved = read_saved(path)
        assert saved.session.tracks.keys() == {"kick", "hat"} and saved.session.environment.bpm == 97
        assert [p.name for p in path.parent.iterdir() if p.name.endswith(".part")] == []
    finally:
        saver.close()
    restore(engine, read_saved(saver.previous))
    assert list(engine.state.tracks) == ["old"] and engine.status()["playing"]


def test_a_run_of_n_steps_plays_exactly_those_steps(engine, clock, osc_peer):
    """``oiduna-nb play --bars 1`` played 17 steps: the next bar's first went out ahead."""
    engine.load_session(session("kick"))
    engine.start(steps=16)
    run_for(engine, clock, 3.0)
    assert len(sounds_per_step(osc_peer)) == 16
    assert engine.status()["playing"]  # the transport is the caller's to stop


def test_the_lookahead_suits_the_output_unless_set(clock, osc_peer):
    from oiduna_nb.engine import Engine, EngineConfig
    from oiduna_nb.engine.outputs.scsynth import ScsynthOutput

    from .conftest import no_midi

    default = Engine(EngineConfig(osc_port=osc_peer.port), clock=clock, midi=no_midi(), run_thread=False)
    assert default.lookahead == 0.2  # SuperDirt: sclang needs time to pass events on
    default.use_output(ScsynthOutput("127.0.0.1", osc_peer.port, clock.to_unix_ns, lambda a: ("x", {})))
    assert default.lookahead == 0.1
    default.close()
    chosen = Engine(EngineConfig(osc_port=osc_peer.port, lookahead=0.3), clock=clock, midi=no_midi(), run_thread=False)
    assert chosen.lookahead == 0.3
    chosen.close()


def test_notebook_patterns_are_saved_as_what_they_play_and_come_back(use_engine, tmp_path):
    from oiduna_nb.dsl import s

    engine = use_engine
    path = tmp_path / "autosave.json"
    saver = Autosaver(engine, path, debounce=0.05)
    try:
        dsl.track("hats", s("hh*4").every(2, lambda p: p.fast(2)))
        dsl.track("kick", "x...", sound="bd")
        deadline = time.monotonic() + 5
        while (read_saved(path) is None or len(read_saved(path).sources) < 2) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        saver.close()
    saved = read_saved(path)
    assert saved.sources["hats"]["length"] == 256 and saved.sources["kick"]["length"] == 4
    dsl.hush()
    restore(engine, saved)
    restored = engine.state.sources["hats"]
    assert [len(restored.hits(c).get(0, ())) for c in range(4)] == [1, 1, 1, 1]
    assert sum(len(v) for v in restored.hits(0).values()) == 8  # cycle 0: every 2 → fast 2
    assert sum(len(v) for v in restored.hits(1).values()) == 4
