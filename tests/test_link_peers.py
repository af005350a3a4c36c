"""Two engines in one Ableton Link session, for real: the scenarios of tests/link_scenarios.py
run in a private network namespace this test makes (``unshare -n``: loopback only, with
multicast routed to it), each in a pytest of its own started inside it, with every peer and
every receiver. No Link traffic leaves the machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "link_scenarios.py"


def namespace_problem() -> str | None:
    """Why this machine cannot make a private network namespace, if it cannot."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "a private network namespace (unshare -n) needs root"
    if shutil.which("unshare") is None:
        return "a private network namespace needs unshare (util-linux)"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"this machine refuses a private network namespace: {probe.stderr.strip()}"
    return None


PROBLEM = namespace_problem()


@pytest.mark.skipif(PROBLEM is not None, reason=PROBLEM or "")
@pytest.mark.parametrize("scenario", [
    "test_the_second_adopts_the_tempo_bars_line_up_and_tempo_travels_both_ways",
    "test_leaving_and_rejoining",
    "test_start_stop_sync_starts_and_stops_the_other_engine",
])
def test_two_engines_in_one_link_session(scenario):
    try:
        import aalink  # noqa: F401
    except ImportError:
        pytest.fail("aalink is a test dependency: pip install -e '.[test]' (or '.[link]')")
    if shutil.which("ip") is None:
        pytest.fail("ip is not installed: apt-get install iproute2 (.ci/run does)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        ["unshare", "-n", "--", sys.executable, "-m", "pytest", f"{SCENARIOS}::{scenario}",
         "-q", "-p", "no:cacheprovider", "-o", "addopts=-ra"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-10000:] + result.stderr[-3000:]
