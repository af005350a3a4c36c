"""A thread that does one job when woken, for the work the engine keeps ahead of the
metronome: rendering pattern cycles (``cycles.render_ahead``) and encoding the states that
wait on boundaries (``Templates.warm``). Waking it is cheap and can happen as often as
anything changes; a burst of wake-ups runs the job once.
"""

from __future__ import annotations

import threading
import time
from typing import Callable


class Worker:
    """Runs ``job()`` on its own daemon thread after each ``wake()``, and every ``every``
    seconds unwoken if given. With ``settle=(quiet, at_most)`` it first waits for the
    wake-ups to pause for ``quiet`` seconds (at most ``at_most`` after the first), so a
    burst of changes is worked on once, as it stands after the last one. A job that raises
    is counted in ``failures``; the thread goes on (the jobs fill caches the metronome can
    do without)."""

    def __init__(self, name: str, job: Callable[[], None], every: float | None = None,
                 settle: tuple[float, float] | None = None) -> None:
        self.job, self.every, self.settle = job, every, settle
        self.failures = 0
        self._wanted = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wanted.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stopping:
            self._wanted.wait(self.every)
            self._wanted.clear()
            if self.settle is not None:
                quiet, at_most = self.settle
                deadline = time.monotonic() + at_most
                while not self._stopping and time.monotonic() < deadline and self._wanted.wait(quiet):
                    self._wanted.clear()
            if self._stopping:
                return
            try:
                self.job()
            except Exception:  # noqa: BLE001 - see the class docstring
                self.failures += 1
