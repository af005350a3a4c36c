"""Differential test: our patterns against Tidal 1.7.10 itself.

tests/tidal/expected.json holds what Tidal gave for each case (regenerate it with
tests/tidal/generate.py where GHC and libghc-tidal-dev are installed; CI only reads it).
Each cycle is queried on its own (a few cases: given spans, across cycles, fractional, zero-width)
and compared as a multiset of events: times exactly,
strings and booleans exactly, numbers within 1e-9 (Tidal computes Doubles).
"""

from __future__ import annotations

import json
from fractions import Fraction
from fractions import Fraction as F
from pathlib import Path

import pytest

import oiduna_nb.pattern as pattern_module
from oiduna_nb.pattern import DslError

DATA = json.loads((Path(__file__).resolve().parent / "tidal" / "expected.json").read_text())
CASES = DATA["cases"]
NAMESPACE = {name: getattr(pattern_module, name) for name in pattern_module.__all__}
NAMESPACE["F"] = Fraction


def tidal_value(tagged: dict):
    (tag, v), = tagged.items()
    if tag in ("f", "n", "i"):
        return float(v)
    if tag == "r":
        return Fraction(v)
    if tag == "m":
        return {k: tidal_value(x) for k, x in v.items()}
    return v  # "s" strings, "b" booleans


def tidal_span(pair):
    return None if pair is None else (Fraction(pair[0]), Fraction(pair[1]))


def tidal_events(cycle: list) -> list:
    return [(tidal_span(w), tidal_span(p), tidal_value(v)) for w, p, v in cycle]


def our_events(events) -> list:
    out = []
    for e in events:
        whole = None if e.whole is None else (e.whole.begin, e.whole.end)
        value = e.value
        if isinstance(value, dict):
            value = {k: (float(x) if isinstance(x, int) and not isinstance(x, bool) else x) for k, x in value.items()}
        elif isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        out.append((whole, (e.part.begin, e.part.end), value))
    return out


def order(event):
    whole, part, value = event
    return (whole is not None, whole or (0, 0), part, _rough(value))


def _rough(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _rough(v)) for k, v in value.items()))
    if isinstance(value, float):
        return ("", round(value, 6))
    if isinstance(value, Fraction):
        return ("", round(float(value), 6))
    return (str(value), 0.0)


def same_value(ours, theirs) -> bool:
    if isinstance(theirs, dict):
        return isinstance(ours, dict) and ours.keys() == theirs.keys() and all(
            same_value(ours[k], theirs[k]) for k in theirs
        )
    if isinstance(theirs, float):
        return isinstance(ours, (float, Fraction)) and not isinstance(ours, bool) and abs(float(ours) - theirs) <= 1e-9
    if isinstance(theirs, Fraction):
        return ours == theirs
    return type(ours) is type(theirs) and ours == theirs


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matches_tidal(case):
    if "error" in case:
        with pytest.raises(DslError):
            pat = eval(case["python"], dict(NAMESPACE))
            for c in range(case.get("cycles", 1)):
                pat.query(c, c + 1)
        return
    pat = eval(case["python"], dict(NAMESPACE))
    spans = [(F(*b), F(*e)) for b, e in case["spans"]] if "spans" in case else [(c, c + 1) for c in range(len(case["cycles"]))]
    for (begin, end), expected_cycle in zip(spans, case["cycles"]):
        c = f"{begin}..{end}"
        theirs = sorted(tidal_events(expected_cycle), key=order)
        ours = sorted(our_events(pat.query(begin, end)), key=order)
        assert len(ours) == len(theirs), f"query {c}: {len(ours)} events, Tidal {len(theirs)}\nours:  {ours}\nTidal: {theirs}"
        for mine, tidal in zip(ours, theirs):
            assert mine[0] == tidal[0] and mine[1] == tidal[1] and same_value(mine[2], tidal[2]), (
                f"query {c}:\nours:  {ours}\nTidal: {theirs}"
            )


def test_the_data_covers_the_contract():
    text = " ".join(c["python"] for c in CASES)
    for name in ["fast", "slow", "hurry", "early", "late", "rev", "palindrome", "iter", "ply", "linger", "segment",
                 "range", "brak", "inside", "outside", "swing_by", "every", "whenmod", "chunk", "superimpose", "off",
                 "jux", "struct", "mask", "euclid", "euclid_rot", "rot", "degrade_by", "degrade", "sometimes_by",
                 "sometimes", "speed", "gain", "pan", "cutoff", "room", "orbit", "legato", "add", "sub", "mul", "stut",
                 "echo_with", "echo", "chop", "striate", "sine", "saw", "tri", "square", "rand", "irand", "perlin",
                 "stack", "cat", "fastcat", "slowcat", "mini", "note"]:
        assert f"{name}(" in text or f"{name}." in text, name
    assert len(CASES) >= 400
