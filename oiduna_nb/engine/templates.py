"""A loop's steps, encoded once for the output and filled in at each play.

A loop plays the same events pass after pass: only the bundle's timetag and each message's
``cycle`` differ. So every event's message is encoded once per track version (kept while its
sound, effects, mixer line, sends, the tempo and the default gate stay), and every step once
per state: its datagrams are kept as bytes, with the byte offsets where its timetags and
cycles go. Playing a step is then copying those bytes and writing a few numbers into them,
however many events it holds. The writer encodes the messages of a plan's states before
installing it (and prepares its heavy steps), so the metronome encodes nothing for a
sequence, even a step with tens of thousands of events. The states waiting on boundaries
are encoded by the engine's warmer thread instead (a ``worker.Worker`` settling for
``WARM_SETTLE``), the latest plan only: thousands of changes
queued for one boundary cost one encoding of what they change, not one each, and no
client waits for it (a whole session posted is still encoded before its reply). What is not ready when its boundary comes, the metronome encodes event
by event as the steps play (a few microseconds each), never a whole track.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Callable

from .outputs.osc import BUNDLE_HEAD, MAX_DATAGRAM
from .state import PlayState
from .timeline import STEPS_PER_BAR, Timeline

VERSIONS = 4  # of one track at once: the one playing and those waiting on boundaries
STEPS_KEPT = 8192  # prepared steps kept (a few loops' worth); the oldest go first
# A step with more events than this is prepared by the writer, ahead; a smaller one costs the
# metronome a few microseconds an event, the first time it plays.
PREPARE_AHEAD_OVER = 256
# The warmer waits for a burst of changes to pause 50 ms (at most 0.5 s) before encoding
# what it leaves: one encoding for the burst, not one per change.
WARM_SETTLE = (0.05, 0.5)


def _same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is y or x == y for x, y in zip(a, b))


@dataclass(frozen=True, slots=True)
class Encoded:
    """One event's message for the output (None when it cannot be encoded, and why)."""

    event: Any
    message: bytes | None
    cycle_at: int  # byte offset of its cycle float, -1 when it has none
    problem: str = ""


@dataclass(frozen=True)
class PreparedStep:
    """A step's datagrams with holes: the outer timetag at byte 8 of each; for each message,
    where its cycle float goes (and its sub-step offset); for each nested bundle (a sound
    later in the step), where its timetag goes."""

    datagrams: tuple[bytes, ...]
    cycles: tuple[tuple[tuple[int, float], ...], ...]  # per datagram: (byte offset, step offset)
    nested: tuple[tuple[tuple[int, float], ...], ...]  # per datagram: (timetag offset, step offset)
    track_ids: frozenset[str]
    dropped: tuple[str, ...] = ()  # messages that could not be encoded or were too big

    def fill(self, timeline: Timeline, tick: int, step: int, timetag_of: Callable[[int], int]) -> list[bytes]:
        outer = struct.pack(">Q", timetag_of(timeline.time_ns(tick, step)))
        out = []
        for template, cycles, nested in zip(self.datagrams, self.cycles, self.nested):
            buf = bytearray(template)
            buf[8:16] = outer
            for at, offset in cycles:
                struct.pack_into(">f", buf, at, (tick + offset) / STEPS_PER_BAR)
            for at, offset in nested:
                struct.pack_into(">Q", buf, at, timetag_of(timeline.offset_ns(tick, step, offset)))
            out.append(bytes(buf))
        return out


class Templates:
    def __init__(self, output: Any) -> None:
        self.output = output
        self._tracks: dict[str, list[tuple[tuple, Any, dict[int, Encoded]]]] = {}
        self._steps: dict[tuple[int, int], tuple[PlayState, PreparedStep]] = {}
        self._warmed: dict[str, tuple] = {}  # track id → (ids, objects) its last warmed table came from
        self._heavy: tuple[object, list[int]] = (None, [])  # a step index, and its heavy steps
        self._last_warmed: PlayState | None = None

    # ---- one track's messages ------------------------------------------------------------

    def key(self, state: PlayState, track_id: str) -> tuple:
        from .sequencer import sends_of

        track = state.tracks[track_id]
        env = state.environment
        sends = sends_of(state, track)
        return (track.params, track.fx, track.track_fx, state.line_of.get(track_id),
                *[line for line, _ in sends], *[amount for _, amount in sends], env.bpm, env.default_gate)

    def ready(self, state: PlayState, track_id: str) -> bool:
        """Whether the track's messages in ``state`` are encoded already."""
        return self._cached(state, track_id) is not None

    def _cached(self, state: PlayState, track_id: str) -> dict[int, Encoded] | None:
        sequence, key = state.sequences.get(track_id), self.key(state, track_id)
        for entry in self._tracks.get(track_id, []):
            if entry[1] is sequence and _same(entry[0], key):
                return entry[2]
        return None

    def _encode(self, state: PlayState, track: Any, event: Any) -> Encoded:
        from .sequencer import event_args

        try:
            message, cycle_at = self.output.template(event_args(state, track, event, cycle=0.0))
            return Encoded(event, message, cycle_at)
        except (TypeError, ValueError, OverflowError, struct.error) as exc:
            return Encoded(event, None, -1, f"unencodable message: {exc}")  # dropped when it plays

    def table(self, state: PlayState, track_id: str) -> dict[int, Encoded]:
        """id(event) → the event's message and where its cycle goes (or why it has none)."""
        found = self._cached(state, track_id)
        if found is not None:
            return found
        sequence = state.sequences.get(track_id)
        track = state.tracks[track_id]
        table = {id(event): self._encode(state, track, event) for event in (sequence.events if sequence else ())}
        self._tracks[track_id] = [(self.key(state, track_id), sequence, table), *self._tracks.get(track_id, [])[: VERSIONS - 1]]
        return table

    # ---- a whole step --------------------------------------------------------------------

    def step(self, state: PlayState, step: int) -> PreparedStep:
        """The loop step ``step`` of ``state``, its sequence events (audible ones) prepared."""
        found = self._steps.get((id(state), step))
        if found is not None and found[0] is state:
            return found[1]
        prepared = self._prepare(state, step)
        if len(self._steps) >= STEPS_KEPT:
            self._steps = dict(list(self._steps.items())[STEPS_KEPT // 2:])
        self._steps[(id(state), step)] = (state, prepared)
        return prepared

    def _prepare(self, state: PlayState, step: int) -> PreparedStep:
        elements: list[tuple[bytes, int, float, bool]] = []  # (bytes, cycle offset in it, step offset, nested)
        tracks: set[str] = set()
        dropped: list[str] = []
        tables: dict[str, dict] = {}
        for track_id, event in state.events_at(step):
            if track_id not in state.tracks or track_id not in state.audible:
                continue
            line = state.line_of.get(track_id)
            if line is not None and line.mute:
                continue
            if track_id not in tables:  # the warmer's tables; until they are ready, this step's events alone
                tables[track_id] = self._cached(state, track_id)
            table = tables[track_id]
            encoded = table[id(event)] if table is not None else self._encode(state, state.tracks[track_id], event)
            if encoded.message is None:
                dropped.append(encoded.problem)
                continue
            message, cycle_at = encoded.message, encoded.cycle_at
            tracks.add(track_id)
            if event.offset:  # "#bundle\0" + timetag + size, then the message
                nested = BUNDLE_HEAD + bytes(8) + struct.pack(">i", len(message)) + message
                elements.append((nested, 20 + cycle_at if cycle_at >= 0 else -1, event.offset, True))
            else:
                elements.append((message, cycle_at, 0.0, False))
        datagrams, cycles, nesteds = [], [], []
        current: list[bytes] = []
        slots: list[tuple[int, float]] = []
        nested_slots: list[tuple[int, float]] = []
        size = 16
        for element, cycle_at, offset, nested in elements:
            length = 4 + len(element)
            if 16 + length > MAX_DATAGRAM:
                dropped.append(f"message of {len(element)} bytes exceeds the {MAX_DATAGRAM}-byte datagram limit")
                continue
            if size + length > MAX_DATAGRAM:
                datagrams.append(b"".join([BUNDLE_HEAD, bytes(8), *current]))
                cycles.append(tuple(slots))
                nesteds.append(tuple(nested_slots))
                current, slots, nested_slots, size = [], [], [], 16
            start = size + 4  # where the element's bytes begin in the datagram
            current.append(struct.pack(">i", len(element)) + element)
            if cycle_at >= 0:
                slots.append((start + cycle_at, offset))
            if nested:
                nested_slots.append((start + 8, offset))
            size += length
        if current:
            datagrams.append(b"".join([BUNDLE_HEAD, bytes(8), *current]))
            cycles.append(tuple(slots))
            nesteds.append(tuple(nested_slots))
        return PreparedStep(tuple(datagrams), tuple(cycles), tuple(nesteds), frozenset(tracks), tuple(dropped))

    def warm(self, states: list[PlayState]) -> None:
        """Encode what these states will play, on the writer's thread: every track's messages,
        and the steps too heavy to prepare on the metronome's."""
        for state in states:
            last = self._last_warmed
            # the state warmed last differs only in some tracks (a mute: one track's meta), so
            # only those are looked at
            rest_same = (last is not None and state.sequences is last.sequences
                         and state.environment is last.environment and state.mixer_lines is last.mixer_lines)
            for track_id, sequence in state.sequences.items():
                track = state.tracks.get(track_id)
                if track is None or rest_same and last.tracks.get(track_id) is track:
                    continue
                # the same objects as last time: nothing it is encoded from changed (a mute, say:
                # it copies the track with a new meta and the same params), so even its key
                # need not be computed
                made_of = (track.params, track.fx, track.track_fx, track.sends, sequence, state.environment,
                           state.mixer_lines)
                mark = tuple(map(id, made_of))  # compared in one go; made_of is kept, so no id is reused
                warmed = self._warmed.get(track_id)
                if warmed is not None and warmed[0] == mark:
                    continue
                self.table(state, track_id)
                self._warmed[track_id] = (mark, made_of)
            for step in self._heavy_steps(state):
                self.step(state, step)
            self._last_warmed = state

    def _heavy_steps(self, state: PlayState) -> list[int]:
        """The steps of ``state`` too heavy for the metronome to prepare; looked for once per
        step index (states share theirs until a sequence changes: a mute does not look again)."""
        index = state.by_step
        if self._heavy[0] is not index:
            self._heavy = (index, [step for step, events in index.items() if len(events) > PREPARE_AHEAD_OVER])
        return self._heavy[1]

