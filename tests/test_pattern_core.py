"""The pattern core's own behaviour: queries, argument types, errors, laziness.

How each function matches Tidal is tests/test_pattern_tidal.py's job; these pin what Tidal
cannot tell us: the Python API (numbers, strings, Patterns as arguments; float conversion),
error messages with a caret, and that a query costs the same at any cycle.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import tracemalloc
from fractions import Fraction as F

import pytest

from oiduna_nb.dsl import DslError as DslErrorFromDsl
from oiduna_nb.pattern import (
    DslError,
    Event,
    Pattern,
    cat,
    fastcat,
    gain,
    irand,
    mini,
    n,
    note,
    orbit,
    pure,
    rand,
    s,
    saw,
    silence,
    sine,
    slowcat,
    square,
    stack,
    time_to_rand,
    tri,
)


def onsets(pat, cycle=0):
    """(begin, value) of the events starting in a cycle, in time order."""
    events = [e for e in pat.query(cycle, cycle + 1) if e.has_onset()]
    return sorted(((e.whole.begin, e.value) for e in events), key=lambda bv: (bv[0], str(bv[1])))


# ---- events and queries ----------------------------------------------------------------------


def test_query_gives_events_with_exact_fraction_times():
    events = s("bd [sn cp]").query(0, 1)
    assert [(e.whole.begin, e.whole.end, e.value) for e in sorted(events, key=lambda e: e.part.begin)] == [
        (0, F(1, 2), {"s": "bd"}), (F(1, 2), F(3, 4), {"s": "sn"}), (F(3, 4), 1, {"s": "cp"})
    ]
    for e in events:
        assert isinstance(e, Event)
        assert all(isinstance(t, F) for t in (e.whole.begin, e.whole.end, e.part.begin, e.part.end))


def test_query_accepts_ints_fractions_and_floats():
    pat = s("a b c d")
    assert pat.query(0, 1) == pat.query(F(0), F(1)) == pat.query(0.0, 1.0)
    assert [e.value["s"] for e in pat.query(0.25, 0.75)] == ["b", "c"]


def test_a_query_across_cycles_equals_the_cycles_queried_one_by_one():
    pat = n("0 <1 2> [3 4]").every(2, lambda p: p.fast(2))
    together = sorted((e.whole.begin, e.part.begin, e.value["n"]) for e in pat.query(0, 4))
    apart = sorted((e.whole.begin, e.part.begin, e.value["n"]) for c in range(4) for e in pat.query(c, c + 1))
    assert together == apart


def test_events_crossing_the_query_are_fragments_with_their_whole():
    [first, second] = sorted(s("a").slow(2).query(F(1, 2), F(3, 2)), key=lambda e: e.part.begin)
    assert (first.whole.begin, first.whole.end) == (0, 2) and (first.part.begin, first.part.end) == (F(1, 2), 1)
    assert (second.part.begin, second.part.end) == (1, F(3, 2)) and not second.has_onset()


def test_signals_have_no_whole_and_sample_the_midpoint():
    [e] = saw.query(0, F(1, 2))
    assert e.whole is None and e.value == 0.25
    assert sine.query(0, 0)[0].value == 0.5
    assert square.query(F(1, 2), F(3, 4))[0].value == 1.0
    assert [round(e.value, 3) for e in tri.segment(4).query(0, 1)] == [0.25, 0.75, 0.75, 0.25]


def test_values_bare_and_control():
    assert onsets(mini("bd 1 -2.5")) == [(0, "bd"), (F(1, 3), 1.0), (F(2, 3), -2.5)]
    assert onsets(s("1")) == [(0, {"s": "1"})]
    assert onsets(s("bd:3")) == [(0, {"s": "bd", "n": 3.0})]
    assert onsets(s("bd:3:5")) == [(0, {"s": "bd", "n": 3.0})]
    assert onsets(n("c e g a5 c6")) == [(0, {"n": 0.0}), (F(1, 5), {"n": 4.0}), (F(2, 5), {"n": 7.0}),
                                        (F(3, 5), {"n": 9.0}), (F(4, 5), {"n": 12.0})]
    assert onsets(note("e4 cs ef")) == [(0, {"note": -8.0}), (F(1, 3), {"note": 1.0}), (F(2, 3), {"note": 3.0})]
    assert onsets(orbit(1)) == [(0, {"orbit": 1.0})]
    assert onsets(s(808)) == [(0, {"s": "808"})]
    assert onsets(n(mini("c e"))) == [(0, {"n": 0.0}), (F(1, 2), {"n": 4.0})]


def test_params_merge_right_wins_and_arithmetic_keeps_one_sided_keys():
    assert onsets(s("a").n(1).n(2)) == [(0, {"s": "a", "n": 2.0})]
    assert onsets(n("1").add(n(2)).add(gain(0.5))) == [(0, {"n": 3.0, "gain": 0.5})]
    assert onsets(s("a").add(s("b"))) == [(0, {"s": "a"})]
    assert onsets(mini("1 2").mul(3)) == [(0, 3.0), (F(1, 2), 6.0)]


# ---- arguments ---------------------------------------------------------------------------------


def test_numeric_arguments_may_be_numbers_strings_or_patterns():
    base = s("a b")
    assert onsets(base.fast(2)) == onsets(base.fast("2")) == onsets(base.fast(pure(2)))
    assert onsets(base.fast("<1 2>"), 1) == onsets(base.fast(2), 1)
    assert onsets(base.fast(slowcat(1, 2)), 1) == onsets(base.fast(2), 1)


def test_float_arguments_are_read_as_their_decimal_value():
    assert onsets(s("a").late(0.1)) == onsets(s("a").late(F(1, 10)))
    assert onsets(s("a").late(0.1))[0][0] == F(1, 10)
    assert onsets(s("a").fast(1.5), 0) == onsets(s("a").fast(F(3, 2)), 0)


def test_bad_arguments_are_refused_clearly():
    with pytest.raises(DslError, match="fast must be a number"):
        s("a").fast(None)
    with pytest.raises(DslError, match="whole number"):
        s("a").every(1.5, lambda p: p)
    with pytest.raises(DslError, match="function of a pattern"):
        s("a").every(2, "fast 2")
    with pytest.raises(DslError, match="off: the function must return a Pattern"):
        s("a").off(0.25, lambda p: None)
    with pytest.raises(DslError, match="jux: give a function of a pattern"):
        s("a").jux(2)
    with pytest.raises(DslError, match="bare pattern"):
        mini("a b").gain(0.5).query(0, 1)
    with pytest.raises(DslError, match="control pattern"):
        n("0 1").add(12).query(0, 1)
    with pytest.raises(DslError, match="sound names as a string"):
        s(None)


def test_the_pattern_core_imports_no_engine_server_or_jupyter():
    code = "import sys, oiduna_nb.pattern; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
           "('tornado', 'IPython', 'ipykernel', 'ipywidgets', 'jupyter_client') or m.startswith('oiduna_nb.') " \
           "and not m.startswith('oiduna_nb.pattern')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_one_error_class_for_the_dsl_and_the_patterns():
    assert DslError is DslErrorFromDsl
    assert issubclass(DslError, ValueError)


# ---- mini-notation errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("bd [sn cp", "expected ']'", 10),
        ("a ]", "unexpected ']'", 3),
        ("bd *2", "write * right after its step", 4),
        ("a(3)", "expected ','", 4),
        ("bd?1", "expected a decimal number", 5),
        ("<a b", "expected '>'", 5),
        ("c'maj e", "chords (c'maj) are not supported", 2),
        ("a b .", "needs steps on both sides", 6),
    ],
)
def test_mini_notation_mistakes_show_the_text_with_a_caret(text, message, column):
    with pytest.raises(DslError) as info:
        mini(text)
    first, quoted, caret = str(info.value).split("\n")
    assert first.startswith("mini-notation: ") and message in first and first.endswith(f"at column {column}")
    assert quoted == f"  {text}"
    assert caret == "  " + " " * (column - 1) + "^"


def test_mini_notation_errors_name_the_kind_of_value_expected():
    with pytest.raises(DslError, match="whole number"):
        orbit("1.5")
    with pytest.raises(DslError, match="expected t, f, 1, 0 or ~"):
        s("a").struct("t x")


def test_parsed_patterns_are_cached_by_text():
    assert mini("bd*2 [sn cp]") is mini("bd*2 [sn cp]")


# ---- randomness ------------------------------------------------------------------------------------


def test_time_to_rand_is_tidals_generator():
    assert time_to_rand(0) == 0.0
    assert time_to_rand(F(1, 2)) == pytest.approx(0.0301, abs=1e-4) or 0 <= time_to_rand(F(1, 2)) < 1
    assert rand.query(0, 1)[0].value == time_to_rand(F(1, 2))
    values = [time_to_rand(F(i, 7)) for i in range(200)]
    assert all(0 <= v < 1 for v in values) and len(set(values)) > 190


def test_random_patterns_are_the_same_every_time_and_irand_gives_whole_numbers():
    pat = s("hh*16").degrade_by(0.5)
    assert onsets(pat, 3) == onsets(pat, 3)
    assert 0 < len(onsets(pat, 3)) < 16
    values = [e.value for e in irand(8).segment(16).query(0, 4)]
    assert all(v == int(v) and 0 <= v < 8 for v in values)


# ---- laziness: a query costs the same at any cycle; nothing grows -----------------------------------


def _calls(pat, cycle) -> int:
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        pat.query(cycle, cycle + 1)
    finally:
        sys.setprofile(None)
    return count


JAM = (
    n("<0 3 5 7 9> [2 4]*<1 2>").s("x").every(7, lambda p: p.rev()).off(0.125, lambda p: p.add(n(12)))
    .sometimes(lambda p: p.speed(2)).jux(lambda p: p.iter(4)).gain(sine.range(0.5, 1))
)


def test_querying_cycle_10000_does_the_work_of_cycle_0():
    JAM.query(0, 1)  # warm the caches
    JAM.query(10_000, 10_001)
    assert _calls(JAM, 10_000) <= _calls(JAM, 0) * 1.2


def test_memory_does_not_grow_with_the_cycles_played():
    pat = n("<0 3 5 7 9> [2 4]").every(7, lambda p: p.rev()).sometimes(lambda p: p.speed(2)).late("<0 0.25>")
    for c in range(100):
        pat.query(c, c + 1)
    gc.collect()
    tracemalloc.start()
    for c in range(100, 200):
        pat.query(c, c + 1)
    gc.collect()
    early, _ = tracemalloc.get_traced_memory()
    for c in range(200, 1200):
        pat.query(c, c + 1)
    gc.collect()
    late, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert late - early < 64 * 1024  # bytes: bounded caches only


def test_patterns_are_values_that_transformations_do_not_change():
    base = s("a b")
    before = onsets(base)
    base.fast(2).every(2, lambda p: p.rev()).gain(0.5)
    assert onsets(base) == before


def test_constructors_take_strings_numbers_and_patterns():
    assert onsets(stack("a", s("b"))) == [(0, "a"), (0, {"s": "b"})]
    assert onsets(cat("a", "b"), 1) == [(0 + 1, "b")]
    assert onsets(fastcat("a", 1)) == [(0, "a"), (F(1, 2), 1.0)]
    assert silence.query(0, 10) == []


def test_repr_lists_the_first_cycle():
    assert repr(s("bd sn:3").gain(0.5)) == "Pattern(0→1/2 s=bd gain=0.5, 1/2→1 s=sn n=3 gain=0.5)"
    assert repr(s("bd sn:3")) == "Pattern(0→1/2 bd, 1/2→1 sn:3)"
    assert repr(s("a").slow(2).show(2)) == "0: 0→2 a\n1: (nothing)"
    assert isinstance(s("bd"), Pattern)


def test_events_know_where_their_values_were_written():
    [bd, sn] = sorted(s("bd  sn:2").query(0, 1), key=lambda e: e.part.begin)
    assert bd.context == (((1, 1), (3, 1)),) and sn.context == (((5, 1), (9, 1)),)
    [e] = n("1 ").gain("0.5").query(0, F(1, 2))
    assert e.context == (((1, 1), (3, 1)), ((1, 1), (4, 1)))  # numbers take the spaces after them, as in Tidal
    assert [e.context for e in s("a").fast(2).query(0, 1)] == [(((1, 1), (2, 1)),)] * 2
    assert e == Event(e.whole, e.part, e.value)  # equality leaves the context out


def test_time_arithmetic_is_fraction_arithmetic():
    """Time (the query path's lean Fraction) gives Fraction's results, in lowest terms, for every operator."""
    import random

    from oiduna_nb.pattern.span import Time, to_time

    rng = random.Random(11)
    for _ in range(20_000):
        a = F(rng.randint(-60, 60), rng.randint(1, 40))
        b = F(rng.randint(-60, 60), rng.choice([1, 1, 2, 3, 7, 12, 48]))
        k = rng.randint(-9, 9)
        ta, tb = to_time(a), to_time(b)
        results = {
            "+": (ta + tb, a + b), "-": (ta - tb, a - b), "*": (ta * tb, a * b),
            "+F": (ta + b, a + b), "F+": (a + tb, a + b), "F-": (a - tb, a - b), "F*": (a * tb, a * b),
            "+k": (ta + k, a + k), "k-": (k - ta, k - a), "*k": (ta * k, a * k), "neg": (-ta, -a),
        }
        if b:
            results.update({"/": (ta / tb, a / b), "F/": (a / tb, a / b)})
        if k:
            results["/k"] = (ta / k, a / k)
        if a:
            results["k/"] = (k / ta, k / a)
        for name, (ours, exact) in results.items():
            assert type(ours) is Time, name
            assert (ours._numerator, ours._denominator) == (exact.numerator, exact.denominator), name
        assert (ta < tb, ta <= tb, ta > tb, ta >= tb, ta == tb) == (a < b, a <= b, a > b, a >= b, a == b)
        assert (ta < k, ta >= k, ta == k) == (a < k, a >= k, a == k)
        assert hash(ta) == hash(a) and isinstance(ta, F) and float(ta) == float(a)
