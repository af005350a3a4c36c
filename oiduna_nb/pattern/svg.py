"""A pattern's picture: a piano roll of its first cycles, as SVG text (Jupyter shows ``_repr_svg_``).

Time runs left to right with a line at each cycle; there is one row per distinct value (the
sound name, ``s:n``, or the note / n number, higher notes higher); each event is a rectangle
over its part. A fragment (an event cut by the cycles shown, part ≠ whole) is drawn paler
with a dashed edge; an onset gets a darker left edge. A continuous pattern (a signal) has no
events of its own: it is drawn sampled 16 times a cycle, and the picture says so.

``events_svg`` is the pure drawing (events in, text out); ``pattern_svg`` chooses the cycles.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any
from xml.sax.saxutils import escape, quoteattr

WIDTH = 640  # of the time axis, in px
LABEL_WIDTH = 84
ROW_HEIGHT = 16
MAX_ROWS = 40
HEADER = 18
SAMPLES_PER_CYCLE = 16
COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"]


def pattern_svg(pattern, cycles: int | None = None) -> str:
    """The first cycles of ``pattern`` (4, or 2 when busy) as a piano roll."""
    shown = cycles or 4
    events = pattern.query(0, shown)
    note = ""
    if any(e.whole is None for e in events):
        events = pattern.segment(SAMPLES_PER_CYCLE).query(0, shown)
        note = f"continuous: sampled {SAMPLES_PER_CYCLE}× per cycle"
    if cycles is None and len(events) > 256:
        shown = 2
        events = [e for e in events if e.part.begin < shown]
    return events_svg(events, 0, shown, note=note)


def row_label(value: Any) -> str:
    """What names an event's row: the note, the sound (with its n), or the plain value."""
    if isinstance(value, dict):
        if "note" in value:
            return _number(value["note"])
        if "s" in value:
            return f"{value['s']}:{_number(value['n'])}" if "n" in value else str(value["s"])
        if "n" in value:
            return _number(value["n"])
        return ", ".join(f"{k}={_number(v)}" for k, v in sorted(value.items()))
    return _number(value)


def _number(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _row_order(label: str):
    """Numbers high at the top, as on a piano roll; sounds by name, then their n, high at the top."""
    name, _, number = label.rpartition(":") if ":" in label else ("", "", label)
    try:
        return (0 if not name else 1, name, -float(number), label)
    except ValueError:
        return (1, label, 0.0, label)


def events_svg(events: list, begin: int, end: int, note: str = "") -> str:
    """Events between cycles ``begin`` and ``end`` as an SVG piano roll (pure: no I/O)."""
    labels = sorted({row_label(e.value) for e in events}, key=_row_order)
    hidden = max(0, len(labels) - MAX_ROWS)
    labels = labels[:MAX_ROWS]
    row_of = {label: i for i, label in enumerate(labels)}
    rows = max(1, len(labels))
    notes = [n for n in (note, f"{hidden} more rows not shown" if hidden else "", "" if events else "silence") if n]
    top = HEADER + (14 if notes else 0)
    height = top + rows * ROW_HEIGHT + 6
    total = LABEL_WIDTH + WIDTH + 8
    span = Fraction(end - begin)

    def x(t) -> float:
        return LABEL_WIDTH + float((Fraction(t) - begin) / span) * WIDTH

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{height}" '
        f'viewBox="0 0 {total} {height}" font-family="sans-serif" font-size="11">',
        f'<rect class="background" x="0" y="0" width="{total}" height="{height}" fill="#fafafa"/>',
    ]
    for i, label in enumerate(labels):
        y = top + i * ROW_HEIGHT
        if i % 2:
            out.append(
                f'<rect class="row" x="{LABEL_WIDTH}" y="{y}" width="{WIDTH}" height="{ROW_HEIGHT}" fill="#f0f0f0"/>'
            )
        out.append(
            f'<text class="label" x="{LABEL_WIDTH - 6}" y="{y + ROW_HEIGHT - 4}" text-anchor="end" fill="#333">'
            f"{escape(label)}</text>"
        )
    for c in range(begin, end + 1):
        out.append(
            f'<line class="cycle" x1="{x(c):.2f}" y1="{top - 4}" x2="{x(c):.2f}" y2="{height - 4}" '
            f'stroke="#999" stroke-width="1"/>'
        )
        if c < end:
            out.append(f'<text class="cycle-number" x="{x(c) + 3:.2f}" y="{top - 6}" fill="#777">{c}</text>')
    for e in sorted(events, key=lambda ev: (ev.part.begin, row_label(ev.value))):
        label = row_label(e.value)
        if label not in row_of:
            continue
        row = row_of[label]
        colour = COLOURS[row % len(COLOURS)]
        x0, x1 = x(max(e.part.begin, begin)), x(min(e.part.end, end))
        y = top + row * ROW_HEIGHT + 2
        fragment = e.whole is not None and e.whole != e.part
        style = 'fill-opacity="0.45" stroke-dasharray="3,2"' if fragment else 'fill-opacity="0.85"'
        title = f"{e.whole.begin}–{e.whole.end}" if e.whole is not None else f"~{e.part.begin}–{e.part.end}"
        out.append(
            f'<rect class="{"event fragment" if fragment else "event"}" x="{x0:.2f}" y="{y}" '
            f'width="{max(x1 - x0 - 1, 1.0):.2f}" height="{ROW_HEIGHT - 4}" fill="{colour}" stroke="{colour}" {style} '
            f"data-value={quoteattr(label)}><title>{escape(label)} {escape(title)}</title></rect>"
        )
        if e.has_onset():
            out.append(
                f'<rect class="onset" x="{x0:.2f}" y="{y}" width="2" height="{ROW_HEIGHT - 4}" '
                'fill="#222" fill-opacity="0.7"/>'
            )
    if notes:
        out.append(f'<text class="note" x="{LABEL_WIDTH}" y="12" fill="#777">{escape("; ".join(notes))}</text>')
    out.append("</svg>")
    return "\n".join(out)
