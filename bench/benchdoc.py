"""Shared by the benchmarks: percentiles, and writing a section of docs/benchmarks.md."""

from __future__ import annotations

import datetime
import math
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Figures written by the scripts in `bench/`; each section names the command that made it.
Re-run a script to refresh its section. Benchmarks print figures; tests never assert timings.
"""


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def write_section(title: str, body: str) -> None:
    text = DOC.read_text() if DOC.exists() else HEADER
    start, end = f"<!-- {title}: start -->", f"<!-- {title}: end -->"
    stamp = datetime.date.today().isoformat()
    section = f"{start}\n## {title}\n\nMeasured {stamp}.\n\n{body}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)
    print(f"wrote {DOC}")
