"""Each sequence event's message, encoded once for the output and filled in at each play.

A loop plays the same events pass after pass; only their ``cycle`` differs. So the message
of every event of a sequence is encoded when its track is (re)built and kept while nothing
it depends on changes (the track's sound and effects, its mixer line and sends, the tempo,
the default gate); a step then only copies the bytes and writes its cycle. The writer warms
the templates of a plan's states before installing it, so even a step with tens of thousands
of events goes out without encoding anything on the metronome.
"""

from __future__ import annotations

import struct
from typing import Any

from .state import PlayState


def _same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is y or x == y for x, y in zip(a, b))


VERSIONS = 4  # of one track at once: the one playing and those waiting on boundaries


class Templates:
    def __init__(self, output: Any) -> None:
        self.output = output
        self._tracks: dict[str, list[tuple[tuple, Any, dict[int, tuple[Any, tuple[bytes, int]]]]]] = {}

    def key(self, state: PlayState, track_id: str) -> tuple:
        from .sequencer import sends_of

        track = state.tracks[track_id]
        env = state.environment
        sends = sends_of(state, track)
        return (track.params, track.fx, track.track_fx, state.line_of.get(track_id),
                *[line for line, _ in sends], *[amount for _, amount in sends], env.bpm, env.default_gate)

    def table(self, state: PlayState, track_id: str) -> dict[int, tuple[Any, tuple[bytes, int]]]:
        """id(event) → (event, template) for every event of the track's sequence."""
        from .sequencer import event_args

        sequence = state.sequences.get(track_id)
        key = self.key(state, track_id)
        versions = self._tracks.get(track_id, [])
        for entry in versions:
            if entry[1] is sequence and _same(entry[0], key):
                return entry[2]
        track = state.tracks[track_id]
        table = {}
        for event in sequence.events if sequence is not None else ():
            try:
                table[id(event)] = (event, self.output.template(event_args(state, track, event, cycle=0.0)))
            except (TypeError, ValueError, OverflowError, struct.error):
                continue  # left to the step, which drops it alone and says so

        self._tracks[track_id] = [(key, sequence, table), *versions[: VERSIONS - 1]]
        return table

    def get(self, state: PlayState, track_id: str, event: Any) -> tuple[bytes, int] | None:
        found = self.table(state, track_id).get(id(event))
        return found[1] if found is not None and found[0] is event else None

    def warm(self, states: list[PlayState]) -> None:
        """Build what the metronome will need for these states (on the writer's thread)."""
        for state in states:
            for track_id in state.sequences:
                if track_id in state.tracks:
                    self.table(state, track_id)
