"""Regenerates tests/tidal/expected.json: every case queried in Tidal 1.7.10 itself.

    apt-get install -y ghc libghc-tidal-dev      # Debian bookworm: Tidal 1.7.10
    python tests/tidal/generate.py               # one ghci for all cases, about 10 s

Each case is a Python expression (our API) beside the Haskell expression Tidal reads, and
the number of cycles to query (one at a time: ``queryArc p (Arc c (c+1))``), or for a few
cases the query spans themselves (``spans``: spans across cycles, fractional ones). Fmt.hs prints
Tidal's events with exact rational times and typed values; tests/test_pattern_tidal.py
compares ours with them. Cases Tidal refuses are kept as errors: ours must refuse them too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cases import CASES  # noqa: E402

OUT = HERE / "expected.json"


def ghci_script() -> str:
    lines = [":set -XOverloadedStrings", f":load {HERE / 'Fmt.hs'}", "import Sound.Tidal.Context", "import Data.Ratio"]
    for case in CASES:
        if "spans" in case:
            arcs = ", ".join(f"({b} % {d1}, {e} % {d2})" for (b, d1), (e, d2) in case["spans"])
            lines.append(f"emitArcs {json.dumps(case['id'])} [{arcs}] ({case['haskell']})")
        else:
            lines.append(f"emit {json.dumps(case['id'])} {case['cycles']} ({case['haskell']})")
    return "\n".join(lines) + "\n"


def main() -> None:
    ids = [c["id"] for c in CASES]
    duplicated = {i for i in ids if ids.count(i) > 1}
    if duplicated:
        raise SystemExit(f"duplicate case ids: {sorted(duplicated)}")
    run = subprocess.run(["ghci", "-v0"], input=ghci_script(), capture_output=True, text=True, check=False)
    results = {}
    for line in run.stdout.splitlines():
        if line.startswith('{"id":'):
            row = json.loads(line)
            results[row.pop("id")] = row
    missing = [c["id"] for c in CASES if c["id"] not in results]
    if missing:
        sys.stderr.write(run.stderr[-4000:])
        raise SystemExit(f"ghci gave no result for {len(missing)} cases, e.g. {missing[:5]}")
    data = []
    for case in CASES:
        data.append({**case, **results[case["id"]]})
    OUT.write_text(json.dumps({"tidal": "1.7.10", "cases": data}, indent=None, separators=(",", ":")) + "\n")
    errors = sum(1 for row in data if "error" in row)
    print(f"wrote {OUT}: {len(data)} cases ({errors} refused by Tidal)")


if __name__ == "__main__":
    main()
