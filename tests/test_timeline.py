"""Step <-> time is exact, re-anchors without a jump, swings odd 16ths, and wraps."""

from fractions import Fraction

from oiduna_nb.engine.timeline import (
    BeatClock,
    Position,
    Timeline,
    bar_place,
    beat_at_or_after,
    is_boundary,
    nearest_beat,
    step_length_ns,
)


def test_step_length_is_exact():
    assert step_length_ns(120) == 125_000_000
    assert step_length_ns(140) == Fraction(15_000_000_000, 140)


def test_no_drift_over_a_million_steps():
    tl = Timeline.start(0, 5_000_000_000, 140)
    step = Fraction(15_000_000_000, 140)
    for n in (0, 1, 7, 1000, 999_999, 1_000_000):
        assert tl.time_ns(n, 0) == round(5_000_000_000 + n * step)
    # a step is never off by more than half a nanosecond from the ideal grid
    assert abs(tl.time_ns(1_000_000, 0) - (5_000_000_000 + 1_000_000 * step)) <= Fraction(1, 2)


def test_tempo_change_reanchors_on_a_step_boundary_without_a_jump():
    tl = Timeline.start(0, 0, 120)
    new = tl.retimed(at_tick=10, bpm=60)
    assert new.time_ns(10, 0) == tl.time_ns(10, 0) == 1_250_000_000
    assert new.time_ns(11, 0) - new.time_ns(10, 0) == 250_000_000


def test_repeated_tempo_changes_stay_exact():
    tl = Timeline.start(0, 0, 133)
    expected = Fraction(0)
    tick = 0
    for bpm in (97, 181.5, 140, 133):
        tl = tl.retimed(tick, bpm=bpm)
        for _ in range(37):
            tick += 1
            expected += step_length_ns(bpm)
        assert tl.time_ns(tick, 0) == round(expected)


def test_swing_delays_odd_sixteenths_only():
    tl = Timeline.start(0, 0, 120, swing=0.2)
    assert tl.time_ns(0, 0) == 0
    assert tl.time_ns(1, 1) == 125_000_000 + 25_000_000
    assert tl.time_ns(2, 2) == 250_000_000


def test_sub_step_offsets():
    tl = Timeline.start(0, 0, 120)
    assert tl.offset_ns(4, 4, 0.5) == 4 * 125_000_000 + 62_500_000


def test_position_of_the_seed_example():
    assert Position.of(64).as_dict() == {"step": 64, "beat": 16, "bar": 4}


def test_boundaries():
    assert [s for s in range(40) if is_boundary(s, "beat")] == list(range(0, 40, 4))
    assert [s for s in range(40) if is_boundary(s, "bar")] == [0, 16, 32]
    assert [s for s in range(40) if is_boundary(s, "seq")] == [0]


def test_a_session_mapping_places_beats_exactly_on_our_clock():
    clock = BeatClock(Fraction(7, 10), 2_000_000_000, 120)
    assert clock.time_at(Fraction(4)) == 2_000_000_000 + Fraction(33, 10) * 500_000_000
    assert clock.beat_at(clock.time_at(Fraction(13, 4))) == Fraction(13, 4)
    assert clock.drift_ns(Fraction(4), round(clock.time_at(Fraction(4))) + 300) == 300
    tl = Timeline.on_beat(clock, 32, Fraction(12), swing=0.5)
    assert tl.grid_ns(48) == clock.time_at(Fraction(16))  # a bar later, the next bar of the session
    assert tl.time_ns(33, 1) == round(clock.time_at(Fraction(49, 4)) + tl.step_ns / 2)


def test_a_steps_place_in_the_sessions_bar():
    assert bar_place(0) == 0 and bar_place(6) == Fraction(3, 2) and bar_place(21) == Fraction(5, 4)
    assert nearest_beat(Fraction(9, 2), Fraction(0)) == 4 and nearest_beat(Fraction(13, 2), Fraction(0)) == 8
    assert nearest_beat(Fraction(-1, 2), Fraction(3)) == -1
    assert beat_at_or_after(Fraction(41, 10), Fraction(1, 4)) == Fraction(17, 4)
    assert beat_at_or_after(Fraction(43, 10), Fraction(1, 4)) == Fraction(33, 4)
    assert beat_at_or_after(Fraction(4), Fraction(0)) == 4

