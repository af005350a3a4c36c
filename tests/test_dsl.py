"""The DSL: mini-notation with Tidal's meaning, rhythms, notes, and how cells change the music."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from oiduna_nb.dsl import DslError, Scale, chord_notes, euclid, note_number
from oiduna_nb.dsl import live
from oiduna_nb.dsl.mini import euclid_bools, parse, query
from oiduna_nb.dsl.patterns import build_events, timed

from .conftest import run_for
from .osc_peer import as_dict


def cycle(text, n=0):
    return [(h.begin, h.end, h.value) for h in query(parse(text), n)]


def test_sequence_rest_group():
    assert cycle("bd ~ sn") == [(0, F(1, 3), "bd"), (F(2, 3), 1, "sn")]
    assert cycle("bd [sn sn]") == [(0, F(1, 2), "bd"), (F(1, 2), F(3, 4), "sn"), (F(3, 4), 1, "sn")]


def test_repetition_elongation_replication():
    assert [v for *_, v in cycle("bd*2 sn")] == ["bd", "bd", "sn"]
    assert cycle("bd*2 sn")[1][:2] == (F(1, 4), F(1, 2))
    assert cycle("bd@3 sn") == [(0, F(3, 4), "bd"), (F(3, 4), 1, "sn")]
    assert [b for b, *_ in cycle("bd!3 sn")] == [0, F(1, 4), F(1, 2), F(3, 4)]


def test_alternation_per_cycle_and_inside_repetition():
    assert [cycle("<bd sn cp>", n)[0][2] for n in range(4)] == ["bd", "sn", "cp", "bd"]
    assert [v for *_, v in cycle("<a b>*2", 0)] == ["a", "b"]  # as in Tidal: "a b" every cycle
    assert [v for *_, v in cycle("<a b>*2", 1)] == ["a", "b"]
    assert parse("<a b c>").period == 3 and parse("<a b> <c d e>").period == 6


def test_euclid_as_tidal_places_it():
    text = lambda b: "".join("x" if v else "." for v in b)
    assert text(euclid_bools(3, 8)) == "x..x..x."
    assert text(euclid_bools(5, 8)) == "x.xx.xx."
    assert text(euclid_bools(3, 8, 2)) == ".x..x.x."
    assert [b for b, *_ in cycle("bd(3,8)")] == [0, F(3, 8), F(6, 8)]
    assert euclid(3, 8) == "x(3,8)"
    with pytest.raises(DslError):
        euclid(9, 8)


def test_stacks_play_at_once():
    assert [(b, v) for b, _, v in cycle("[c4, e4, g4]")] == [(0, "c4"), (0, "e4"), (0, "g4")]


def test_mini_notation_errors_point_at_the_mistake():
    with pytest.raises(DslError, match=r"expected '\]'.*column 7"):
        parse("bd [sn")
    with pytest.raises(DslError, match="unexpected '\\)'"):
        parse("bd )")
    with pytest.raises(DslError, match="at least 1"):
        parse("bd*0")
    with pytest.raises(DslError, match="empty"):
        parse("  ")


def test_step_strings_lists_and_sub_steps():
    t = timed("x... x..x | o...")
    assert t.length == 12 and [e.pos for e in t.events] == [0, 4, 7, 8]
    assert [e.velocity for e in t.events] == [1.0, 1.0, 1.0, 0.5]
    assert timed("x x x x").length == 16  # mini-notation: four beats
    assert timed("xxxx").length == 4  # four steps
    assert [e.pos for e in timed([0, 3, 20]).events] == [0, 3, 20] and timed([0, 3, 20]).length == 32
    length, events = build_events("bd [hh hh hh]", sound=None, notes=None, scale=None, velocity=None,
                                  gate=None, bars=1, midi=False)
    assert [(e.step, round(e.offset, 4)) for e in events] == [(0, 0.0), (8, 0.0), (10, 0.6667), (13, 0.3333)]


def test_notes_names_numbers_degrees_chords():
    assert note_number("c4") == 60 and note_number("eb3") == 51 and note_number("f#5") == 78
    assert note_number("a") == 69 and note_number(61) == 61
    assert chord_notes("c'maj7") == [60, 64, 67, 71] and chord_notes("Am") == [69, 72, 76]
    assert chord_notes("e3'min") == [52, 55, 59]
    s = Scale("c4:minor")
    assert [s.degree(d) for d in (0, 2, 4, -1, 7)] == [60, 63, 67, 58, 72]
    with pytest.raises(DslError, match="not a note"):
        note_number("h4")
    with pytest.raises(DslError, match="unknown chord"):
        chord_notes("c'weird")


def test_notes_on_a_rhythm_are_sampled_like_struct():
    length, events = build_events("x ~ x x", sound="superpiano", notes="<c2 eb2> g1", scale=None,
                                  velocity=None, gate=0.5, bars=1, midi=False)
    assert length == 32
    assert [(e.step, e.note) for e in events] == [(0, 36), (8, 31), (12, 31), (16, 39), (24, 31), (28, 31)]
    assert all(e.gate == 2.0 for e in events)  # half of a 4-step slot


def test_velocity_and_gate_per_event():
    _, events = build_events("x*4", sound="bd", notes=None, scale=None, velocity=[1, 0.5], gate="1 0.25",
                             bars=1, midi=False)
    assert [e.velocity for e in events] == [1, 0.5, 1, 0.5]
    assert [e.gate for e in events] == [4, 4, 1, 1]
    with pytest.raises(DslError, match="velocity 2 is outside"):
        build_events("x*4", sound="bd", notes=None, scale=None, velocity=2, gate=None, bars=1, midi=False)


def test_sounds_and_sample_numbers():
    _, events = build_events("bd:3 sn", sound=None, notes=None, scale=None, velocity=None, gate=None, bars=1, midi=False)
    assert [e.params for e in events] == [{"s": "bd", "n": 3.0}, {"s": "sn"}]
    _, events = build_events("0 2", sound="drum", notes=None, scale=None, velocity=None, gate=None, bars=1, midi=False)
    assert [e.params for e in events] == [{"n": 0.0}, {"n": 2.0}]
    with pytest.raises(DslError, match="give the track a sound"):
        build_events("x...", sound=None, notes=None, scale=None, velocity=None, gate=None, bars=1, midi=False)


# ---- through the engine ---------------------------------------------------------------------------


@pytest.fixture
def dsl(engine):
    live.use(engine)
    yield engine
    live.use(None)


def test_rerun_replaces_the_track_on_the_next_bar_without_gap_or_double(dsl, clock, osc_peer):
    live.track("kick", "x...x...x...x...", sound="bd")
    dsl.start()
    run_for(dsl, clock, 0.125 * 6)
    live.track("kick", "x.x.x.x.x.x.x.x.", sound="bd")  # the cell re-run mid-bar
    run_for(dsl, clock, 0.125 * 40)
    steps = [round(as_dict(m.args)["cycle"] * 16) for m in osc_peer.messages() if m.address == "/dirt/play"]
    first_bar = [s for s in steps if s < 16]
    assert first_bar == [0, 4, 8, 12]  # the old pattern plays to the end of its bar
    assert [s for s in steps if 16 <= s < 32] == list(range(16, 32, 2))  # the new one from the bar
    assert len(steps) == len(set(steps))  # no step sounds twice


def test_a_mistake_changes_nothing_and_playing_goes_on(dsl, clock):
    live.track("kick", "x...", sound="bd")
    before = dsl.state
    with pytest.raises(DslError):
        live.track("kick", "bd [", sound=None)
    with pytest.raises(DslError, match="gain"):
        live.track("kick", "x...", sound="bd", gain=10)
    assert dsl.state is before and dsl.pending() == []


def test_tracks_of_any_length_play_side_by_side_and_no_loop_grows(dsl, clock, osc_peer):
    """A 4-step kick, a 12-step rim and a 3-bar chord change each repeat at their own length,
    for ever: nothing is tiled into a shared loop, so no length is ever refused."""
    dsl.update_environment({"loop_steps": 16})
    live.track("kick", "x...", sound="bd")  # 4 steps
    live.track("rim", "x..x..x..x..", sound="rim")  # 12 steps
    live.track("chords", sound="superpiano", notes="<c'maj a3'min e3'min>")  # a chord a bar, 3 bars
    live.track("odd", "x......", sound="cp")  # 7 steps: refused before ("needs a 26880-step loop")
    assert dsl.state.environment.loop_steps == 16
    dsl.start()
    run_for(dsl, clock, 0.125 * 16 * 4)  # four bars at 120 bpm
    by_sound: dict[str, list[int]] = {}
    for m in osc_peer.messages():
        args = as_dict(m.args)
        if args["cycle"] * 16 < 63.5:
            by_sound.setdefault(args["s"], []).append(round(args["cycle"] * 16))
    assert by_sound["bd"] == list(range(0, 64, 4))
    assert by_sound["rim"] == [s for s in range(64) if s % 12 in (0, 3, 6, 9)]
    assert by_sound["cp"] == list(range(0, 64, 7))
    chords = sorted(set(by_sound["superpiano"]))
    assert chords == [0, 16, 32, 48]


def test_tempo_swing_mute_solo_hush_scenes(dsl, clock):
    live.track("kick", "x...", sound="bd")
    live.track("hat", "..x.", sound="hh")
    assert live.tempo(140) == 140 and live.tempo() == 140
    live.swing(0.2)
    assert dsl.state.environment.swing == 0.2
    live.mute("hat")
    assert dsl.state.active_tracks() == ["kick"]
    live.unmute("hat")
    live.solo("hat")
    assert dsl.state.active_tracks() == ["hat"]
    live.unsolo("hat")
    live.capture("both")
    live.hush()
    assert dsl.state.active_tracks() == []
    live.scene("both", at="now")
    assert dsl.state.active_tracks() == ["kick", "hat"]
    with pytest.raises(DslError, match="scenes: both"):
        live.scene("nope")
    with pytest.raises(DslError, match="no track 'ghost'"):
        live.drop("ghost")
    live.drop("hat", at="now")
    assert dsl.state.track_ids() == ["kick"]


def test_midi_tracks(dsl):
    ref = live.midi("keys", notes="c'maj7", channel=3, max_velocity=90)
    assert repr(ref) == "<midi track 'keys': 4 events over 1 bar>"
    assert dsl.state.tracks_midi["keys"].channel == 3
    with pytest.raises(DslError, match="hits"):
        live.midi("keys", "bd sn")


def test_not_loaded_is_a_clear_error():
    live.use(None)
    with pytest.raises(DslError, match="%load_ext oiduna_nb"):
        live.track("kick", "x...", sound="bd")


def test_mixer_lines_and_sends(dsl, clock, osc_peer):
    live.mixer_line("space", orbit=7, room=0.8, size=0.9)
    live.track("snare", "....x.......x...", sound="sn", sends={"space": 0.5})
    dsl.start()
    run_for(dsl, clock, 0.8)
    plays = [as_dict(m.args) for m in osc_peer.messages() if m.address == "/dirt/play"]
    first = plays[0]  # one sound, with the line's reverb at half the send
    assert len(plays) == 1 and first["orbit"] == 0
    assert abs(first["room"] - 0.4) < 1e-6 and abs(first["size"] - 0.9) < 1e-6
    with pytest.raises(DslError, match="unknown mixer line"):
        live.track("hat", "x...", sound="hh", sends={"nowhere": 0.2})


def test_a_pattern_track_plays_its_query_for_every_cycle(dsl, clock, osc_peer):
    from oiduna_nb.dsl import s, sine

    live.track("hh", s("hh*4").every(3, lambda p: p.fast(2)).gain(sine.range(0.5, 1)), pan="0 1")
    dsl.start()
    run_for(dsl, clock, 0.125 * 16 * 3)  # three bars
    plays = [as_dict(m.args) for m in osc_peer.messages() if m.address == "/dirt/play"]
    per_cycle = [len([p for p in plays if int(p["cycle"]) == c]) for c in range(3)]
    assert per_cycle[0] == 8 and per_cycle[1] == 4 and per_cycle[2] == 4  # every 3 → cycle 0 fast
    first = plays[0]
    assert first["s"] == "hh" and 0.5 <= first["gain"] <= 1 and first["pan"] == 0
    assert {round(p["pan"]) for p in plays} == {0, 1}  # a patterned param goes out per event


def test_unknown_sounds_and_params_are_told_with_the_nearest_names(dsl, capsys):
    from oiduna_nb.dsl import s

    live.track("t", s("bdd sn"), cutof=800)
    err = capsys.readouterr().err
    assert "unknown sound 'bdd' (did you mean bd" in err and "unknown param 'cutof' (did you mean cutoff" in err
    live.track("ok", s("bd sn"), cutoff=800)
    assert capsys.readouterr().err == ""


def test_midi_clock_words(dsl):
    assert live.midi_clock(out=True) == "MIDI clock out on; not following a clock"
    assert dsl.metronome.clock_out is True
    with pytest.raises(DslError, match="MIDI is unavailable"):
        live.midi_clock(follow="some drum machine")
    assert live.midi_clock(out=False).startswith("MIDI clock out off")
