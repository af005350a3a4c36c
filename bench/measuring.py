"""What every measuring process of the benchmarks does first."""

from __future__ import annotations

import asyncio
import gc
from typing import Any


def hold_collections() -> None:
    """No cycle collections in this process while it measures: a full one walks everything it
    has recorded so far (20–30 ms here with a few seconds of arrivals), and every datagram,
    event or reply that comes in meanwhile would be stamped late, counted against the server.
    A measuring run is short; what it keeps is freed when the process ends."""
    gc.collect()
    gc.freeze()
    gc.disable()


def run_client(main: Any) -> Any:
    """``asyncio.run(main)`` on uvloop where it is installed: the clients' own overhead (the
    readers of a hundred SSE streams, the load's fifty connections) is CPU the server being
    measured does not get on a small machine, and a late client counts as a slow server."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
