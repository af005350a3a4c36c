"""Python's cycle collector, kept from stalling the instrument.

A full collection walks every object the process holds, with the GIL held: no API request is
answered and no thread of the engine runs meanwhile. In a kernel with IPython, the widgets,
the pattern library and the server loaded, that is 115,000 objects and 66 ms on the machine
the benchmarks ran on (20–35 ms in ``oiduna-nb serve``), and the collector starts one by
itself every few seconds while clients keep the server busy. What is loaded at start-up
lives as long as the process, so once it is loaded it is frozen out of the collector's walks
(``gc.freeze``): a full collection then walks only what was made since (2 ms in ``serve``
under the load benchmark). Frozen objects are still freed when nothing refers to them; only
a reference cycle among them would stay, and modules, classes and the running server are
not garbage.
"""

from __future__ import annotations

import gc


def freeze_what_is_loaded() -> int:
    """Collect once, then leave everything alive now out of later collections; returns how
    many objects the collector no longer walks."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
