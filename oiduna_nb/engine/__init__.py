"""The loop engine: pure session logic, a metronome thread, OSC and MIDI outputs.

Nothing here imports tornado or Jupyter; front ends import the engine, never the reverse.
"""

from .bus import BusEvent, EventBus, Subscription, SubscriptionClosed
from .clock import ManualClock, SystemClock
from .config import EngineConfig
from .engine import Engine
from .errors import EngineError, InvalidRequest, NotFound, Unavailable
from .ir import AbsoluteTiming, BoundaryTiming, NowTiming, Session
from .timeline import Position

__all__ = [
    "AbsoluteTiming",
    "BoundaryTiming",
    "BusEvent",
    "Engine",
    "EngineConfig",
    "EngineError",
    "EventBus",
    "InvalidRequest",
    "ManualClock",
    "NotFound",
    "NowTiming",
    "Position",
    "Session",
    "Subscription",
    "SubscriptionClosed",
    "SystemClock",
    "Unavailable",
]
