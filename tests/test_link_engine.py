"""The engine in a Link session, deterministically: a manual clock, no thread, OSC to a real
UDP peer, and the session played by the test (``FakeLink``, a double of aalink with our
wrapper's interface). The real session between two engines: tests/test_link_peers.py."""

from __future__ import annotations

import sys
from fractions import Fraction

import pytest

from oiduna_nb import dsl
from oiduna_nb.engine import Engine, EngineConfig, NowTiming, Session
from oiduna_nb.engine.errors import Unavailable
from oiduna_nb.engine.link import INSTALL_HINT, readable_tempo, wire_tempo
from oiduna_nb.engine.outputs.osc import ntp_timetag
from oiduna_nb.engine.timeline import BeatClock

from .conftest import no_midi, record_events, run_for, seed_session_dict
from .link_fake import FakeLink, linked_engine
from .osc_peer import as_dict

NOW = NowTiming(type="now")


def session(steps=range(16), bpm: float = 120) -> Session:
    body = seed_session_dict()
    body["environment"].update(bpm=bpm, loop_steps=16)
    body["sequences"]["kick"]["events"] = [{"step": s} for s in steps]
    return Session.model_validate(body)


def link_tempo(bpm: float) -> float:
    """``bpm`` as a peer reads it: Link carries whole microseconds per beat."""
    return 60e6 / round(60e6 / bpm)


def tag(clock, time_ns) -> int:
    return ntp_timetag(clock.to_unix_ns(round(time_ns)))


def sent(peer, since: int = 0) -> list[tuple[int, int]]:
    """(tick, timetag) of every step received (the kick's cycle is tick / 16)."""
    return [(round(as_dict(m.args)["cycle"] * 16), m.timetag) for m in peer.messages()[since:]]


@pytest.fixture
def fake(clock):
    return FakeLink(clock)


@pytest.fixture
def linked(clock, osc_peer, fake):
    eng = linked_engine(clock, osc_peer, fake)
    yield eng
    eng.close()


@pytest.fixture
def events(linked):
    """Every (type, data) the engine publishes, in order."""
    return record_events(linked)


def playing_in_session(engine, clock, seconds: float = 2.0) -> None:
    """Every step has a kick; Link on at beat 0 now; play: tick t is on beat 4 + t / 4."""
    engine.load_session(session())
    engine.link.enable()
    engine.start()
    run_for(engine, clock, seconds)


def beat_of(tick: int) -> Fraction:
    return 4 + Fraction(tick, 4)


# ---- joining ------------------------------------------------------------------------------


def test_play_starts_on_the_sessions_next_bar(linked, clock, osc_peer, fake):
    fake.first_beat = Fraction(7, 10)  # the session is at beat 0.7 now
    linked.load_session(session(steps=[0]))
    linked.link.enable()
    linked.start()
    run_for(linked, clock, 6.0)
    mapping = fake.mapping
    # one lookahead from now is beat 0.9: the session's next bar is beat 4, then 8, 12
    assert [t for _, t in sent(osc_peer)] == [tag(clock, mapping.time_at(b)) for b in (4, 8, 12)]


def test_joining_adopts_the_sessions_tempo_and_never_imposes_ours(linked, clock, osc_peer, fake, events):
    linked.load_session(session(bpm=128))
    linked.start()
    run_for(linked, clock, 1.0)
    linked.link.enable()
    assert fake.opened_at == 128.0  # alone, the session starts at our tempo
    run_for(linked, clock, 0.5)
    count = len(osc_peer.messages())
    joined = BeatClock(Fraction(3713, 100), clock.now_ns(), link_tempo(93.5))  # another session is found
    fake.say(joined, peers=1)
    run_for(linked, clock, 2.0)
    status = linked.status()
    assert status["bpm"] == 93.5 and status["link"]["tempo"] == 93.5 and status["link"]["peers"] == 1
    assert fake.tempos == []  # the session's tempo is never sent back to it
    # from the next step on, every step sits on a quarter beat of the joined session, in order
    new = sent(osc_peer, count)
    beats = [joined.beat_at(round_trip(clock, t)) for _, t in new]
    assert all(abs(b * 4 - round(b * 4)) < Fraction(1, 10**6) for b in beats)
    assert [round(b * 4) - round(beats[0] * 4) for b in beats] == [tick - new[0][0] for tick, _ in new]
    link_events = [data for kind, data in events if kind == "link"]
    assert link_events[-1]["peers"] == 1 and link_events[-1]["tempo"] == 93.5 and link_events[-1]["enabled"]


def test_a_session_found_before_the_first_reading_is_adopted(linked, clock, fake):
    """On a busy machine Link may find the other peers before the wrapper first reads it:
    that first reading already says the session's tempo, and the engine must follow it."""
    linked.load_session(session(bpm=90))
    linked.start()
    fake.found_at_open = (BeatClock(Fraction(5), clock.now_ns(), link_tempo(123.4)), 1)
    linked.link.enable()
    run_for(linked, clock, 1.0)
    assert linked.status()["bpm"] == 123.4
    assert fake.tempos == []  # and never sends it back


def round_trip(clock, timetag: int) -> Fraction:
    """A timetag back on the engine's clock (exact to well under a microsecond)."""
    unix_ns = Fraction(timetag * 10**9, 2**32) - 2_208_988_800 * 10**9
    return unix_ns - clock.offset


def test_joining_mid_bar_keeps_the_loop_position_and_lands_it_on_its_place_in_the_bar(linked, clock, osc_peer, fake):
    linked.load_session(session())
    linked.start()
    run_for(linked, clock, 1.0)
    last_tick = sent(osc_peer)[-1][0]
    count = len(osc_peer.messages())
    linked.link.enable()  # the session (here at beat 0 now) is at another phase than our bars
    run_for(linked, clock, 3.0)  # at most half a bar of waiting (or skipping) to meet it
    mapping = fake.mapping
    after = sent(osc_peer, count)
    assert len(after) > 8 and after[0][0] > last_tick
    for tick, timetag in after:
        beat = mapping.beat_at(round_trip(clock, timetag))
        assert abs(beat % 4 - Fraction(tick % 16, 4)) < Fraction(1, 10**6)  # a bar's step 0 on a multiple of 4


# ---- following --------------------------------------------------------------------------------


def test_a_peers_tempo_change_retimes_the_next_step_on_the_sessions_beats(linked, clock, osc_peer, fake):
    playing_in_session(linked, clock, 3.0)
    count, next_tick = len(osc_peer.messages()), linked.player.next_tick
    # a peer turns the session to 150 bpm where our next step sounds: no beat moves there
    turned = fake.peer_sets_tempo(link_tempo(150), at_ns=round(linked.player.timeline.grid_ns(next_tick)))
    run_for(linked, clock, 2.0)
    after = sent(osc_peer, count)
    assert after[0][0] == next_tick  # the very next step follows it
    assert after == [(tick, tag(clock, turned.time_at(beat_of(tick)))) for tick, _ in after]
    assert linked.status()["bpm"] == 150 and fake.tempos == []


def test_a_tempo_change_already_past_our_lookahead_skips_steps_to_stay_in_phase(linked, clock, osc_peer, fake):
    playing_in_session(linked, clock, 3.05)  # tick 9 (beat 6.25) has gone out, for 75 ms from now
    count = len(osc_peer.messages())
    last_sent = sent(osc_peer)[-1]
    assert last_sent[0] == 9
    # A peer doubles the tempo now: tick 10 (beat 6.5) falls 25 ms after tick 9 went out at
    # the old tempo, closer than half a new step: it is skipped, tick 11 plays on its beat.
    turned = fake.peer_sets_tempo(link_tempo(240))
    run_for(linked, clock, 2.0)
    after = sent(osc_peer, count)
    assert after[0][0] == 11
    assert after == [(tick, tag(clock, turned.time_at(beat_of(tick)))) for tick, _ in after]


def test_a_drifting_mapping_re_anchors_the_next_step_exactly(linked, clock, osc_peer, fake):
    playing_in_session(linked, clock, 2.0)
    count = len(osc_peer.messages())
    old = fake.mapping
    moved = BeatClock(old.beat, old.at_ns + 300_000, old.bpm)  # the session's clock, 0.3 ms on
    fake.say(moved)
    run_for(linked, clock, 1.0)
    after = sent(osc_peer, count)
    assert after and after == [(tick, tag(clock, moved.time_at(beat_of(tick)))) for tick, _ in after]


# ---- our tempo to the session -------------------------------------------------------------------


def test_our_tempo_change_goes_out_when_its_step_sounds(linked, clock, osc_peer, fake):
    playing_in_session(linked, clock, 2.0)
    before = fake.mapping
    next_tick = linked.player.next_tick
    at = round(linked.player.timeline.grid_ns(next_tick))
    linked.update_environment({"bpm": 100}, NOW)  # as HTTP, the DSL and the widget do
    assert fake.tempos == [(100, at)]  # the session turns where our tempo starts
    count = len(osc_peer.messages())
    run_for(linked, clock, 0.5)
    turned = fake.land_pushed()  # Link turns at that instant: no beat moves there
    assert turned.time_at(beat_of(next_tick)) == before.time_at(beat_of(next_tick))
    run_for(linked, clock, 2.0)
    after = sent(osc_peer, count)
    assert after[0] == (next_tick, tag(clock, at))
    assert after == [(tick, tag(clock, turned.time_at(beat_of(tick)))) for tick, _ in after]
    assert linked.status()["bpm"] == 100 and fake.tempos == [(100, at)]  # nothing sent back and forth


def test_the_echo_of_our_earlier_tempo_does_not_undo_a_later_one(linked, clock, osc_peer, fake):
    playing_in_session(linked, clock, 2.0)
    linked.update_environment({"bpm": 130}, NOW)
    linked.update_environment({"bpm": 140}, NOW)
    assert [bpm for bpm, _ in fake.tempos] == [130, 140]
    fake.land_pushed(1)  # Link says 130 while we play 140: that is our own echo, not a peer's
    assert linked.status()["bpm"] == 140
    count = len(osc_peer.messages())
    turned = fake.land_pushed()
    run_for(linked, clock, 1.0)
    after = sent(osc_peer, count)
    assert linked.status()["bpm"] == 140
    assert after and after == [(tick, tag(clock, turned.time_at(beat_of(tick)))) for tick, _ in after]


def test_a_tempo_queued_for_the_bar_goes_out_on_the_bar(linked, clock, osc_peer, fake):
    playing_in_session(linked, clock, 2.3)
    dsl.use(linked)
    try:
        dsl.tempo(90)  # on the next bar, by default
    finally:
        dsl.use(None)
    assert fake.tempos == []
    change = linked.player.plan.pending()[0]
    run_for(linked, clock, 2.0)
    assert fake.tempos == [(90, round(fake.mapping.time_at(beat_of(change.target_tick))))]
    assert change.apply_at_step == 0


def test_a_queued_tempo_meets_a_peers_tempo_and_the_session_settles_on_one(linked, clock, osc_peer, fake):
    """Ours goes out when its bar comes; a peer's that lands after it wins, and every peer
    (us too) ends at the session's tempo, on its beats."""
    playing_in_session(linked, clock, 2.3)
    linked.update_environment({"bpm": 90}, dsl.live.timing_from_name("bar"))
    run_for(linked, clock, 2.0)
    fake.land_pushed()
    turned = fake.peer_sets_tempo(link_tempo(132))
    count = len(osc_peer.messages())
    run_for(linked, clock, 2.0)
    assert linked.status()["bpm"] == 132
    after = sent(osc_peer, count)
    assert after == [(tick, tag(clock, turned.time_at(beat_of(tick)))) for tick, _ in after]


# ---- leaving, start/stop, events ----------------------------------------------------------------


def test_leaving_plays_on_at_the_same_tempo_and_phase_and_stops_telling_the_session(linked, clock, osc_peer, fake):
    playing_in_session(linked, clock, 2.0)
    mapping = fake.mapping
    linked.link.disable()
    assert fake.closed and linked.status()["link"]["enabled"] is False
    count = len(osc_peer.messages())
    run_for(linked, clock, 2.0)
    after = sent(osc_peer, count)
    assert after == [(tick, tag(clock, mapping.time_at(beat_of(tick)))) for tick, _ in after]
    linked.update_environment({"bpm": 100}, NOW)
    assert fake.tempos == []


def test_rejoining_follows_the_session_again(linked, clock, osc_peer):
    first = FakeLink(clock)
    second = FakeLink(clock, first_beat=Fraction(1, 3))
    peers = iter([first, second])
    linked.link._connect = lambda: next(peers)
    playing_in_session(linked, clock, 1.0)
    linked.link.disable()
    run_for(linked, clock, 1.0)
    linked.link.enable()
    assert second.opened_at == 120.0
    second.say(BeatClock(second.mapping.beat_at(clock.now_ns()), clock.now_ns(), link_tempo(111)), peers=2)
    count = len(osc_peer.messages())
    run_for(linked, clock, 2.0)
    assert linked.status()["bpm"] == 111 and linked.status()["link"]["peers"] == 2
    mapping = second.mapping
    for tick, timetag in sent(osc_peer, count):
        assert abs(mapping.beat_at(round_trip(clock, timetag)) % 4 - Fraction(tick % 16, 4)) < Fraction(1, 10**6)


def test_start_stop_sync_starts_and_stops_with_the_session(linked, clock, fake):
    linked.load_session(session())
    linked.link.enable(start_stop_sync=True)
    assert fake.start_stop_sync is True
    fake.say(fake.mapping, playing=True)  # a peer pressed play
    assert linked.status()["playback_state"] == "playing" and fake.playing_pushed == []
    run_for(linked, clock, 1.0)
    linked.stop()  # ours goes to the session
    assert fake.playing_pushed == [False]
    fake.say(fake.mapping, playing=False)
    linked.start()
    assert fake.playing_pushed == [False, True]
    fake.say(fake.mapping, playing=True)
    fake.say(fake.mapping, playing=False)  # a peer stopped
    assert linked.status()["playback_state"] == "stopped"


def test_without_start_stop_sync_the_transport_is_our_own(linked, clock, fake):
    linked.load_session(session())
    linked.link.enable()
    fake.say(fake.mapping, playing=True)
    assert linked.status()["playback_state"] == "stopped"
    linked.start()
    assert fake.playing_pushed == []


def test_link_events_say_peers_and_tempo_not_every_reading(linked, clock, fake, events):
    linked.link.enable()
    fake.say(BeatClock(fake.mapping.beat, fake.mapping.at_ns + 200_000, fake.mapping.bpm))  # drift only
    fake.say(fake.mapping, peers=2)
    fake.peer_sets_tempo(link_tempo(101.5))
    link_events = [data for kind, data in events if kind == "link"]
    assert [(e["enabled"], e["peers"], e["tempo"]) for e in link_events] == [
        (True, 0, 120.0), (True, 2, 120.0), (True, 2, 101.5)
    ]
    linked.link.disable()
    assert [data for kind, data in events if kind == "link"][-1]["enabled"] is False


def test_status_reads_the_sessions_beat_and_phase(linked, clock, fake):
    linked.link.enable()
    clock.advance(1.25)  # 2.5 beats at 120 bpm
    link = linked.status()["link"]
    assert link["beat"] == 2.5 and link["phase"] == 2.5 and link["quantum"] == 4 and link["tempo"] == 120


# ---- Link not installed --------------------------------------------------------------------------


def test_without_aalink_the_message_says_how_to_get_it_and_the_engine_plays_on(clock, osc_peer, monkeypatch):
    monkeypatch.setitem(sys.modules, "aalink", None)  # as on a machine without the link extra
    engine = Engine(EngineConfig(osc_port=osc_peer.port, lookahead=0.1, link=True), clock=clock,
                    midi=no_midi(), run_thread=False)
    try:
        link = engine.status()["link"]
        assert link["enabled"] is False and link["message"] == INSTALL_HINT
        with pytest.raises(Unavailable, match="pip install"):
            engine.link.enable()
        engine.load_session(session(steps=[0]))
        engine.start()
        run_for(engine, clock, 1.0)
        assert len(osc_peer.messages()) == 1
    finally:
        engine.close()


def test_readable_tempo_undoes_links_microsecond_rounding():
    assert readable_tempo(link_tempo(123.4)) == 123.4
    assert readable_tempo(link_tempo(93.456)) == 93.456
    assert readable_tempo(120.0) == 120
    assert readable_tempo(link_tempo(174)) == 174


def test_a_session_loaded_among_peers_takes_their_tempo_and_alone_brings_its_own(linked, clock, fake):
    linked.link.enable()
    linked.load_session(session(bpm=90))  # alone: we are the session, its tempo goes out
    assert linked.status()["bpm"] == 90 and fake.tempos == [(90, None)]
    fake.land_pushed()
    fake.say(BeatClock(Fraction(0), clock.now_ns(), link_tempo(126)), peers=1)  # others join, at 126
    linked.start()
    run_for(linked, clock, 1.0)
    change = linked.load_session(session(steps=[0, 8], bpm=70))  # a file, on the next bar
    run_for(linked, clock, 4.0)
    assert change is not None and linked.pending() == []
    assert linked.status()["bpm"] == 126 and [bpm for bpm, _ in fake.tempos] == [90]
    assert len(linked.state.sequences["kick"].events) == 2  # the rest of it did load
    linked.update_environment({"bpm": 70}, NOW)  # an explicit tempo still goes out
    assert [bpm for bpm, _ in fake.tempos] == [90, 70]
    # the loaded session's tempo yields to peers Link finds before it is due; the explicit one never
    assert fake.yielding == [True, False]


def test_a_session_queued_alone_hands_its_tempo_over_as_yielding_on_its_bar(linked, clock, fake):
    linked.link.enable()
    linked.start()
    run_for(linked, clock, 1.0)
    linked.load_session(session(bpm=90))  # alone, on the next bar
    assert fake.tempos == []
    run_for(linked, clock, 3.0)
    assert [bpm for bpm, _ in fake.tempos] == [90] and fake.yielding == [True]


def test_the_sessions_tempo_kept_over_a_loaded_ones_is_adopted_though_it_did_not_change(linked, clock, fake):
    """Link found a peer between the engine deciding it was alone and its loaded session's tempo
    being due: the wrapper keeps the session's tempo and says so again with ``adopt``, the
    tempo the engine may already have heard (and overwritten with the loaded session's)."""
    linked.link.enable()
    linked.load_session(session(bpm=90))
    found = BeatClock(Fraction(3), clock.now_ns(), link_tempo(123.4))
    fake.say(found, peers=1, own=True)  # as heard just before the loaded session's tempo landed
    assert linked.status()["bpm"] == 90
    fake.say(found, adopt=True)
    assert linked.status()["bpm"] == 123.4
    assert [bpm for bpm, _ in fake.tempos] == [90]  # and it is not sent back


def test_a_loop_that_gets_shorter_goes_on_at_the_same_place_in_the_sessions_bar(linked, clock, fake):
    body = seed_session_dict()
    body["environment"]["loop_steps"] = 32
    body["sequences"]["kick"]["events"] = [{"step": s} for s in range(32)]
    linked.load_session(Session.model_validate(body))
    linked.link.enable()
    linked.start()
    run_for(linked, clock, 2.0 + 21 * 0.125)  # loop position 20 and on are computed
    assert linked.player.next_step > 16
    place = linked.player.next_tick % 16  # ticks started on a bar: a tick's place in the session's bar
    linked.update_environment({"loop_steps": 16}, NOW)
    run_for(linked, clock, 0.125)
    # without Link the loop would restart at step 0, a downbeat off the session's
    assert linked.player.next_step == (place + 1) % 16


def test_the_tempo_given_to_link_is_the_one_peers_read():
    assert wire_tempo(123.4) == 60e6 / 486224 and readable_tempo(wire_tempo(123.4)) == 123.4
    assert wire_tempo(wire_tempo(97.3)) == wire_tempo(97.3)  # stable: our echo reads back the same
