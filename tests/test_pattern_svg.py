"""A Pattern's picture (Jupyter's ``_repr_svg_``): its structure, read back with xml.etree."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from oiduna_nb.pattern import mini, n, s, sine, silence
from oiduna_nb.pattern.svg import events_svg, row_label

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str):
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def rects(root, cls: str) -> list:
    return [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class", "").split()[0] == cls]


def texts(root, cls: str) -> list[str]:
    return [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == cls]


def test_one_rectangle_per_event_one_row_per_value_one_line_per_cycle():
    pat = s("bd*2 [~ sn] <hh oh>")
    root = parse(pat._repr_svg_())
    assert len(rects(root, "event")) == len(pat.query(0, 4)) == 16
    assert texts(root, "label") == ["bd", "hh", "oh", "sn"]
    assert texts(root, "cycle-number") == ["0", "1", "2", "3"]
    assert len([x for x in root.iter("{http://www.w3.org/2000/svg}line") if x.get("class") == "cycle"]) == 5


def test_rectangles_sit_in_their_row_and_over_their_part():
    root = parse(events_svg(s("a b").query(0, 1), 0, 1))
    [a, b] = sorted(rects(root, "event"), key=lambda r: float(r.get("x")))
    assert a.get("data-value") == "a" and b.get("data-value") == "b"
    assert float(a.get("y")) < float(b.get("y"))  # rows in label order
    assert float(b.get("x")) > float(a.get("x")) + float(a.get("width"))


def test_notes_run_high_to_low_and_sounds_show_their_n():
    assert texts(parse(n("0 12 7").s("x")._repr_svg_()), "label") == ["x:12", "x:7", "x:0"]
    assert texts(parse(n("0 12 7")._repr_svg_()), "label") == ["12", "7", "0"]
    assert row_label({"s": "bd", "n": 3.0}) == "bd:3" and row_label(0.5) == "0.5"


def test_fragments_are_marked_and_onsets_get_an_edge():
    pat = s("a b").slow(1.5)
    root = parse(pat._repr_svg_())
    events = rects(root, "event")
    fragments = [r for r in events if "fragment" in r.get("class")]
    assert len(fragments) == sum(1 for e in pat.query(0, 4) if e.whole != e.part) > 0
    assert len(fragments) < len(events)
    assert len(rects(root, "onset")) == sum(1 for e in pat.query(0, 4) if e.has_onset())


def test_signals_are_drawn_sampled_and_say_so():
    root = parse(sine._repr_svg_())
    assert len(rects(root, "event")) == 64
    assert "sampled 16× per cycle" in texts(root, "note")[0]


def test_silence_and_busy_patterns():
    assert texts(parse(silence._repr_svg_()), "note") == ["silence"]
    busy = parse(mini("a*128")._repr_svg_())
    assert texts(busy, "cycle-number") == ["0", "1"]
    assert len(rects(busy, "event")) == 256


def test_labels_are_escaped():
    svg = events_svg([e.with_value("<&>") for e in mini("a").query(0, 1)], 0, 1)
    assert texts(parse(svg), "label") == ["<&>"]
    assert "&lt;&amp;&gt;" in svg
