"""Timestamped MIDI: the records the control side queues, and what the real-time side
does with them each cycle. Pure, no I/O: the JACK process callback drives it.

A record is one fixed-size struct (``RECORD``): the time it must sound at (ns on the
monotonic clock, the latency already added), a note id, its kind and up to three MIDI
bytes. Kinds:

- ``MSG``: play these bytes at that time (a CC, a clock pulse, start/stop, song position).
- ``ON`` / ``OFF``: a note and its release. The note id pairs them: a note that still
  sounds when it is played again is released first (retrigger), and an ``OFF`` whose note
  was retriggered or released since is dropped. Decided here, in time order, as the
  notes are written, so the bookkeeping is right whatever order they were queued in.
- ``RELEASE``: at that time, a note-off for every note that sounds.
- ``DROP``: as soon as it is read, forget every record queued before it (a transport stop).

>>> s = CycleSchedule()
>>> s.take(encode(MSG, 1_000_000, 0, bytes([0xF8])) + encode(MSG, 1_500_000, 0, bytes([0xF8])))
>>> out = []
>>> s.run(start_ns=0, end_ns=1_333_333, nframes=64, to_jack_ns=0,
...       write=lambda offset, data: out.append((offset, bytes(data))))
>>> out  # 1 ms into a 64-frame cycle of 1.333 ms is frame 48; 1.5 ms is in the next cycle
[(48, b'\\xf8')]
"""

from __future__ import annotations

import heapq
import struct
from typing import Callable

MSG, ON, OFF, RELEASE, DROP = range(5)
NOTE_ON, NOTE_OFF = 0x90, 0x80

# time (ns), note id, kind, size, bytes: 17 bytes, no padding
RECORD = struct.Struct("<qIBB3s")

Write = Callable[[int, bytes], None]


def encode(kind: int, time_ns: int, note_id: int, data: bytes = b"") -> bytes:
    if len(data) > 3:
        raise ValueError("a timestamped MIDI record holds at most 3 bytes (no SysEx)")
    return RECORD.pack(time_ns, note_id, kind, len(data), data)


class CycleSchedule:
    """The real-time side's queue: records in, MIDI bytes at frame offsets out.

    Bounded: at most ``capacity`` records wait at once (more are counted in
    ``overflow`` and dropped), and ``run`` writes only what is due in one cycle.
    """

    def __init__(self, capacity: int = 8192) -> None:
        self.capacity = capacity
        self._pending: list[tuple[int, int, int, int, bytes]] = []  # heap: time, order, kind, id, data
        self._order = 0
        self._sounding: dict[tuple[int, int], int] = {}  # (channel, note) -> note id
        self.late = 0  # records written after their frame had passed (at offset 0)
        self.overflow = 0

    def take(self, records: bytes) -> None:
        """Records read from the ring, in the order they were queued."""
        for time_ns, note_id, kind, size, data in RECORD.iter_unpack(records):
            if kind == DROP:
                self._pending.clear()
                continue
            if len(self._pending) >= self.capacity:
                self.overflow += 1
                continue
            self._order += 1
            heapq.heappush(self._pending, (time_ns, self._order, kind, note_id, data[:size]))

    def next_time_ns(self) -> int | None:
        return self._pending[0][0] if self._pending else None

    def run(
        self,
        start_ns: int,
        end_ns: int,
        nframes: int,
        to_jack_ns: int,
        write: Write,
    ) -> None:
        """Write everything due in the cycle of ``nframes`` frames that JACK's time base puts
        at ``start_ns``..``end_ns`` (JACK's clock, ns). ``to_jack_ns`` turns a record's
        monotonic time into JACK's clock. Each record goes at the frame of its time; one
        whose frame has passed goes at offset 0 and counts as late; later ones wait."""
        pending = self._pending
        span = end_ns - start_ns
        if span <= 0:
            return
        while pending:
            time_ns = pending[0][0] + to_jack_ns
            offset = ((time_ns - start_ns) * nframes * 2 + span) // (2 * span)  # rounded to a frame
            if offset >= nframes:
                return
            if offset < 0:
                self.late += 1
                offset = 0
            _, _, kind, note_id, data = heapq.heappop(pending)
            self._play(offset, kind, note_id, data, write)

    def _play(self, offset: int, kind: int, note_id: int, data: bytes, write: Write) -> None:
        if kind == MSG:
            write(offset, data)
        elif kind == ON:
            key = (data[0] & 0x0F, data[1])
            if key in self._sounding:  # retrigger: release the sounding one first
                write(offset, bytes((NOTE_OFF | key[0], key[1], 0)))
            self._sounding[key] = note_id
            write(offset, data)
        elif kind == OFF:
            key = (data[0] & 0x0F, data[1])
            if self._sounding.get(key) == note_id:
                del self._sounding[key]
                write(offset, data)
        elif kind == RELEASE:
            for channel, note in sorted(self._sounding):
                write(offset, bytes((NOTE_OFF | channel, note, 0)))
            self._sounding.clear()

    def sounding(self) -> list[tuple[int, int]]:
        return sorted(self._sounding)  # one C-level call: safe against the callback under the GIL

    def __len__(self) -> int:
        return len(self._pending)
