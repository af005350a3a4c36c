"""Python's cycle collector, kept from stalling the instrument.

A full collection walks every object the process holds, with the GIL held: no API request is
answered and no thread of the engine runs meanwhile, the metronome included. In a kernel with
IPython, the widgets, the pattern library and the server loaded, that is 115,000 objects and
66 ms on the machine the benchmarks ran on; in ``oiduna-nb serve`` playing big sessions, one
grew to 381 ms after ten 0.9 MB sessions were posted (collecting nothing), past the 200 ms
the metronome sends ahead, so bundles went out late (``bench/heavy_cases.py``, case d).

So what lives long is frozen out of the collector's walks (``gc.freeze``): what is loaded at
start-up, and every session once it is loaded (its tens of thousands of events live as long
as it plays). A full collection then walks only what was made since (2 ms in ``serve`` under
the load benchmark). Frozen objects are still freed as soon as nothing refers to them; only
a reference cycle that dies while frozen waits, until the transport stops: then nothing keeps
time, and the frozen objects are walked once to reclaim those.
"""

from __future__ import annotations

import gc
import threading


def freeze_what_is_loaded() -> int:
    """Collect once, then leave everything alive now out of later collections; returns how
    many objects the collector no longer walks."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class SessionCollector:
    """The engine's hook: ``loaded()`` after a session lands, ``stopped()`` when the transport
    stops. Set by the hosts (``serve``, the notebook extension): a library user's process,
    a test run say, keeps Python's own policy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen_since_reclaim = False

    def loaded(self) -> None:
        with self._lock:
            gc.freeze()  # cheap: the collector's lists are spliced, nothing is walked
            self._frozen_since_reclaim = True

    def stopped(self) -> None:
        """Nothing plays: walk what was frozen once, for cycles that died meanwhile."""
        with self._lock:
            if not self._frozen_since_reclaim:
                return
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._frozen_since_reclaim = False
