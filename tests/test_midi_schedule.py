"""The real-time side's queue of timestamped MIDI, as pure logic (no JACK, no threads),
and the real-time priority helper."""

from __future__ import annotations

import doctest
import threading

import pytest

from oiduna_nb.engine import realtime
from oiduna_nb.engine.outputs import midi_schedule
from oiduna_nb.engine.outputs.midi_schedule import DROP, MSG, OFF, ON, RELEASE, CycleSchedule, encode

# a 64-frame cycle of exactly 1,333,333 ns, the first one starting at 0
N, SPAN = 64, 1_333_333


def run_cycles(schedule: CycleSchedule, count: int, first: int = 0) -> list[tuple[int, int, bytes]]:
    """(cycle, offset, bytes) for everything written in ``count`` cycles."""
    out = []
    for c in range(first, first + count):
        schedule.run(c * SPAN, (c + 1) * SPAN, N, 0, lambda off, data, c=c: out.append((c, off, bytes(data))))
    return out


def note(kind, t, note_id, n=60, channel=0, velocity=100):
    status = (0x90 if kind == ON else 0x80) | channel
    return encode(kind, t, note_id, bytes((status, n, velocity if kind == ON else 0)))


def test_the_module_docstring_example_runs():
    assert doctest.testmod(midi_schedule).failed == 0


def test_each_record_at_the_frame_of_its_time_in_time_order_whatever_the_queueing_order():
    s = CycleSchedule()
    s.take(encode(MSG, 3 * SPAN + SPAN // 2, 0, b"\xf8") + encode(MSG, SPAN // 4, 0, b"\xfa"))
    assert run_cycles(s, 5) == [(0, 16, b"\xfa"), (3, 32, b"\xf8")]
    assert s.late == 0 and len(s) == 0


def test_a_late_record_goes_at_offset_0_and_is_counted():
    s = CycleSchedule()
    s.take(encode(MSG, SPAN // 2, 0, b"\xf8"))
    assert run_cycles(s, 1, first=2) == [(2, 0, b"\xf8")]
    assert s.late == 1


def test_retrigger_and_stale_note_offs_decided_in_time_order():
    s = CycleSchedule()
    # note 1 from 0 to 3 cycles; note 2, same key, from 1 to 2 cycles, queued after it
    s.take(note(ON, 0, 1) + note(OFF, 3 * SPAN, 1) + note(ON, SPAN, 2) + note(OFF, 2 * SPAN, 2))
    assert run_cycles(s, 4) == [
        (0, 0, b"\x90\x3c\x64"),
        (1, 0, b"\x80\x3c\x00"),  # note 2 releases note 1 first
        (1, 0, b"\x90\x3c\x64"),
        (2, 0, b"\x80\x3c\x00"),  # note 2's own off; note 1's (cycle 3) is stale
    ]
    assert s.sounding() == []


def test_drop_forgets_what_was_queued_before_it_and_release_frees_what_sounds():
    s = CycleSchedule()
    s.take(note(ON, 0, 1, n=50, channel=2) + note(OFF, 10 * SPAN, 1, n=50, channel=2) + note(ON, 5 * SPAN, 2))
    run_cycles(s, 1)
    assert s.sounding() == [(2, 50)]
    s.take(encode(DROP, 0, 0) + encode(RELEASE, 2 * SPAN, 0) + encode(MSG, 2 * SPAN, 0, b"\xb0\x7b\x00"))
    assert run_cycles(s, 20, first=1) == [(2, 0, b"\x82\x32\x00"), (2, 0, b"\xb0\x7b\x00")]
    assert s.sounding() == [] and len(s) == 0


def test_bounded_queue_counts_what_it_drops():
    s = CycleSchedule(capacity=3)
    s.take(b"".join(encode(MSG, k * SPAN, 0, b"\xf8") for k in range(5)))
    assert len(s) == 3 and s.overflow == 2


def test_a_record_holds_at_most_three_bytes():
    with pytest.raises(ValueError):
        encode(MSG, 0, 0, b"\xf0\x7e\x00\xf7")


def test_raise_priority_reports_what_the_thread_got_and_never_raises():
    got = {}

    def thread(priority):
        got[priority] = (realtime.raise_priority(priority), realtime.current_priority())

    for priority in (realtime.DEFAULT_PRIORITY, 10_000):  # the second is beyond any OS's range
        t = threading.Thread(target=thread, args=(priority,))
        t.start()
        t.join()
    said, now = got[realtime.DEFAULT_PRIORITY]
    # what it says is how the thread runs: "SCHED_FIFO 3", or "normal (why)"
    assert said.split(" (")[0] == now and now in (f"SCHED_FIFO {realtime.DEFAULT_PRIORITY}", "normal")
    refused, after = got[10_000]
    assert refused.startswith("normal (") and after == "normal"
    assert realtime.current_priority() == "normal"  # only the calling thread changed
