"""Every example in docs/dsl.md and docs/patterns.md runs, in order, and prints what the page shows under it."""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path

from oiduna_nb.dsl import live

DOC = Path(__file__).resolve().parent.parent / "docs" / "dsl.md"
PATTERNS_DOC = DOC.parent / "patterns.md"
BLOCK = re.compile(r"```(python|text)\n(.*?)```", re.S)


def examples(doc: Path = DOC) -> list[tuple[str, str | None]]:
    """(code, expected output or None) pairs, skipping the notebook-only magic."""
    blocks = BLOCK.findall(doc.read_text())
    out = []
    for i, (kind, body) in enumerate(blocks):
        if kind != "python" or body.lstrip().startswith("%load_ext"):
            continue
        expected = blocks[i + 1][1] if i + 1 < len(blocks) and blocks[i + 1][0] == "text" else None
        out.append((body, expected))
    return out


def run_cell(code: str, namespace: dict, doc: Path = DOC) -> str:
    """Run like a notebook cell: statements, then the last expression's repr."""
    tree = ast.parse(code)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(tree, str(doc), "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), str(doc), "eval"), namespace)
            if value is not None:
                print(repr(value))
    return buffer.getvalue()


def test_every_dsl_doc_example(engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the render example writes its file here
    live.use(engine)
    try:
        namespace: dict = {}
        exec("from oiduna_nb.dsl import *", namespace)
        cases = examples()
        assert len(cases) >= 15
        for code, expected in cases:
            printed = run_cell(code, namespace)
            if expected is not None:
                assert printed.strip() == expected.strip(), f"\n{code}\nprinted:\n{printed}\nexpected:\n{expected}"
    finally:
        live.use(None)


def test_every_patterns_doc_example():
    """docs/patterns.md: pure patterns, no engine; every example shows its output."""
    namespace: dict = {}
    cases = examples(PATTERNS_DOC)
    assert len(cases) >= 60
    for code, expected in cases:
        printed = run_cell(code, namespace, PATTERNS_DOC)
        if code.startswith("from "):
            continue  # the imports
        assert expected is not None, f"no output shown under\n{code}"
        assert printed.strip() == expected.strip(), f"\n{code}\nprinted:\n{printed}\nexpected:\n{expected}"
