"""Run the notebooks and save them with clean outputs: what a reader should see.

    python -m tests.save_notebooks            # every notebook in notebooks/
    python -m tests.save_notebooks quickstart

Each notebook runs in a fresh kernel (the environment nbval gives it: notebooks/conftest.py).
Outputs that depend on the machine or the moment (the cells tagged ``nbval-ignore-output``: the
status line, the live widgets, a render) are left empty, so nobody reads a stale one; the
rest are kept, and nbval checks them on every run. Run metadata (timings) is dropped.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
UNSTABLE = "nbval-ignore-output"


def save(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    count = 0
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        count += 1
        if UNSTABLE in cell.metadata.get("tags", []):
            cell.outputs = []
        cell.execution_count = count
        for output in cell.outputs:
            if "execution_count" in output:
                output["execution_count"] = count
    notebook.metadata.pop("widgets", None)  # the live widgets' state: it would show stale views
    nbformat.write(notebook, path)
    for leftover in path.parent.glob("*.wav"):  # what the render cells wrote
        leftover.unlink()


def main(names: list[str]) -> None:
    sys.path.insert(0, str(NOTEBOOKS))
    from conftest import notebook_env  # noqa: E402  (the environment nbval gives the kernels)

    os.environ.update(notebook_env())
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NOTEBOOKS.parent), os.environ.get("PYTHONPATH")]))
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        if not names or path.stem in names:
            print(f"saving {path.name}", flush=True)
            save(path)


if __name__ == "__main__":
    main(sys.argv[1:])
