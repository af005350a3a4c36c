"""A real-time priority for the thread that keeps time, where the OS allows it.

Under CPU load a normal thread wakes milliseconds late; SCHED_FIFO lets it preempt the
load (measured in bench/midi_timing.py). Refused without the right (no CAP_SYS_NICE,
no rtprio limit, a container without real-time runtime) or absent (macOS, Windows):
then the thread keeps its normal priority and the result says why. Never raises.
"""

from __future__ import annotations

import os

# Modest on purpose: below JACK's client threads (the server's priority − 5; jackd's
# default -P 10 gives 5), so keeping time never delays audio processing.
DEFAULT_PRIORITY = 3


def raise_priority(priority: int = DEFAULT_PRIORITY) -> str:
    """Make the calling thread SCHED_FIFO at ``priority``; returns what it runs at now,
    e.g. ``"SCHED_FIFO 3"`` or ``"normal (SCHED_FIFO refused: Operation not permitted)"``."""
    setter = getattr(os, "sched_setscheduler", None)
    if setter is None or not hasattr(os, "SCHED_FIFO"):
        return "normal (no SCHED_FIFO on this OS)"
    try:
        # pid 0 is the calling thread: Linux schedules threads, not processes
        setter(0, os.SCHED_FIFO, os.sched_param(priority))
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return f"normal (SCHED_FIFO refused: {reason})"
    return f"SCHED_FIFO {priority}"


def current_priority() -> str:
    """How the calling thread is scheduled now."""
    getter = getattr(os, "sched_getscheduler", None)
    if getter is None:
        return "normal"
    if getter(0) == getattr(os, "SCHED_FIFO", None):
        return f"SCHED_FIFO {os.sched_getparam(0).sched_priority}"
    return "normal"
