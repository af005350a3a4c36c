"""What the piano roll draws: every track's events in one cycle, as compact data (pure, no
widgets). The browser draws it (widgets/static/pianoroll.js); Python sends it again only
when the cycle or what plays changes, and the playhead moves with the position events.

A pattern or loop track shows the events the engine plays in that cycle (the same per-cycle
hits the metronome sends, ``engine.cycles``); a track posted over HTTP as a sequence shows
its loop's events in the bar of the loop that plays. Each lane has one row per sound (or
per note, high notes on top), as the pattern pictures do.

    {"cycle": 18, "bar_start": 32, "lanes": [
        {"id": "kick", "kind": "osc", "source": "pattern", "audible": true, "muted": false,
         "rows": ["bd"], "events": [[0, 2, 0, 1.0], [8, 2, 0, 1.0]]}]}   # [start, length, row, level]

Times are in 16th steps from the start of the bar (a float: between-step positions are kept).
"""

from __future__ import annotations

from typing import Any

from ..engine.cycles import CycleCache, Hit, LoopSource
from ..engine.state import PlayState
from ..engine.timeline import STEPS_PER_BAR
from ..pattern.svg import row_label

MIDDLE_C = 60  # a MIDI note number shows as Tidal's note (0 = MIDI 60), like the pattern pictures
MAX_ROWS = 12  # per lane; the rest share the last row


def roll_data(state: PlayState, cycles: CycleCache, cycle: int, loop_step: int) -> dict[str, Any]:
    """Every track of ``state`` in ``cycle`` (patterns and loops) or in the loop bar holding
    ``loop_step`` (sequences posted over HTTP)."""
    bar_start = loop_step - loop_step % STEPS_PER_BAR
    lanes = []
    for track_id in state.track_ids():
        source = state.sources.get(track_id)
        if source is not None:
            kind = "loop" if isinstance(source, LoopSource) else "pattern"
            table = cycles.hits(source, cycle, inline=False)
            notes = [_hit(state, track_id, k, hit) for k in sorted(table) for hit in table[k]]
        else:
            kind = "sequence"
            notes = _sequence(state, track_id, bar_start)
        lanes.append({"id": track_id, "kind": "osc" if track_id in state.tracks else "midi", "source": kind,
                      "audible": track_id in state.audible, "muted": state.is_muted(track_id),
                      "solo": state.is_solo(track_id), **_rows(notes)})
    return {"cycle": cycle, "bar_start": bar_start, "steps": STEPS_PER_BAR, "lanes": lanes}


def _hit(state: PlayState, track_id: str, step: int, hit: Hit) -> tuple[float, float, str, float]:
    value = dict(hit.params)
    if hit.note is not None:
        value["note"] = hit.note - MIDDLE_C
    if "s" not in value and "note" not in value and "n" not in value:
        value["s"] = _sound(state, track_id)
    gain = value.get("gain", 1.0)
    level = (float(gain) if _number(gain) else 1.0) * hit.velocity
    return step + hit.offset, hit.gate, row_label(value), level


def _sequence(state: PlayState, track_id: str, bar_start: int) -> list[tuple[float, float, str, float]]:
    sequence = state.sequences.get(track_id)
    if sequence is None:
        return []
    gate = state.environment.default_gate
    out = []
    for event in sequence.events:
        if bar_start <= event.step < bar_start + STEPS_PER_BAR:
            value: dict[str, Any] = dict(event.params)
            if event.note is not None:
                value["note"] = event.note - MIDDLE_C
            elif "s" not in value:
                value["s"] = _sound(state, track_id)
            out.append((event.step - bar_start + event.offset, event.gate or gate, row_label(value), event.velocity))
    return out


def _sound(state: PlayState, track_id: str) -> str:
    track = state.tracks.get(track_id)
    return str(track.params.s) if track is not None and track.params.s else track_id


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _order(label: str) -> tuple:
    """Notes high at the top, as on a piano; sounds by name (then their n, high on top)."""
    name, _, number = label.rpartition(":")
    try:
        return (1, name, -float(number)) if name else (0, "", -float(label))
    except ValueError:
        return (1, label, 0.0)


def _rows(notes: list[tuple[float, float, str, float]]) -> dict[str, Any]:
    labels = sorted({n[2] for n in notes}, key=_order)
    row_of = {label: min(i, MAX_ROWS - 1) for i, label in enumerate(labels)}
    events = [[round(start, 4), round(length, 4), row_of[label], round(max(0.0, min(level, 1.0)), 3)]
              for start, length, label, level in sorted(notes)]
    return {"rows": labels[:MAX_ROWS], "events": events}
