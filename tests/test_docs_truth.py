"""The docs say what the code does, wherever they state something a test can check: event
types, settings and their defaults, CLI commands and options, endpoints, magics, file paths,
numbers and limits. (The examples of docs/dsl.md and docs/patterns.md run in
test_docs_examples.py, the README's in test_readme.py.)"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest

from oiduna_nb import cli, magics
from oiduna_nb.engine import bus, cycles, ir
from oiduna_nb.engine.outputs.superdirt import SuperDirtOutput
from oiduna_nb.server import api_routes
from oiduna_nb.settings import Settings
from oiduna_nb.sound import mapping

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PACKAGE = ROOT / "oiduna_nb"


def text(name: str) -> str:
    return (ROOT / name).read_text()


def flat(page: str) -> str:
    """A page's prose with line breaks as spaces (a phrase may wrap)."""
    return re.sub(r"\s+", " ", page)


# ---- events ----------------------------------------------------------------------------------


def published_types(folder: Path) -> set[str]:
    """Every event type the modules under ``folder`` publish: ``publish("x", ...)``, the
    ``("x", data)`` pairs a batch is made of, and the SSE frames written directly."""
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text())
        constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                     for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}

        def name_of(node):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                return node.value
            if isinstance(node, ast.Name) and isinstance(constants.get(node.id), str):
                return constants[node.id]
            return None

        def pairs(node) -> None:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Tuple) and len(sub.elts) == 2 and name_of(sub.elts[0]):
                    found.add(name_of(sub.elts[0]))

        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name)):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                if called in ("publish", "frame") and node.args and name_of(node.args[0]):
                    found.add(name_of(node.args[0]))
                elif called in ("publish", "publish_many") and node.args:
                    pairs(node.args[0])
                elif called == "append" and isinstance(node.func.value, ast.Name) and node.func.value.id == "events":
                    pairs(node.args[0])
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == "events" for t in targets) and node.value is not None:
                    pairs(node.value)
    return found


def listed_after(page: str, label: str) -> set[str]:
    """The backticked words of the sentence that starts with ``label``."""
    sentence = re.search(re.escape(label) + r"(.*?)\.(\s|$)", flat(page)).group(1)
    return set(re.findall(r"`([a-z_]+)`", sentence))


def test_event_types_are_the_ones_the_code_publishes():
    engine_types = published_types(PACKAGE / "engine")
    server_types = published_types(PACKAGE / "server")
    assert {"position", "status", "tracks", "error"} <= engine_types  # the scan finds what it must
    assert listed_after(text("docs/engine.md"), "Types:") == engine_types
    assert listed_after(text("docs/api.md"), "The stream's event types:") == engine_types | server_types


# ---- settings --------------------------------------------------------------------------------


def env_names() -> dict[str, object]:
    """Each setting's environment variable (its first alias) and its default."""
    return {field.validation_alias.choices[0]: field.default for field in Settings.model_fields.values()}


def readme_settings() -> dict[str, str]:
    table = text("README.md").split("| variable | default | meaning |")[1].split("\n\n")[0]
    rows = {}
    for line in table.strip().splitlines()[1:]:
        names, default = [cell.strip() for cell in line.strip("|").split("|")][:2]
        keys = re.findall(r"`([A-Z_]+)`", names)
        defaults = [d.strip() for d in default.split(" / ")] if len(keys) > 1 else [default]
        rows.update(zip(keys, defaults))
    return rows


def shown(value: object) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Path):
        return str(value).replace(str(Path.home()), "~")
    return str(value)


def test_the_readme_settings_table_is_the_settings():
    documented, actual = readme_settings(), env_names()
    assert set(documented) == set(actual)
    for name, default in documented.items():
        if default.startswith("`$"):  # relative to another setting, as the table says
            continue
        assert default.strip("`") == shown(actual[name]), name


def test_every_environment_variable_the_docs_name_is_read_somewhere():
    read_by_tests = set(re.findall(r"environ(?:\.get)?\(?\[?[\"']([A-Z_]+)[\"']",
                                   "".join(p.read_text() for p in (ROOT / "tests").rglob("*.py"))))
    known = set(env_names()) | read_by_tests
    for page in PAGES:
        for name in set(re.findall(r"`((?:OIDUNA|SCOPE|SUPERDIRT|OSC|MIDI|API)_[A-Z_]+)`", page.read_text())):
            assert name in known, f"{page.name} names {name}, which nothing reads"


def test_numbers_the_docs_state_are_the_codes():
    api, engine = flat(text("docs/api.md")), flat(text("docs/engine.md"))
    session = ir.Session.model_fields
    limit = lambda field: next(m.max_length for m in session[field].metadata if hasattr(m, "max_length"))  # noqa: E731
    settings = env_names()
    assert f"the last {bus.HISTORY:,} events" in api
    assert f"`OIDUNA_MAX_SUBSCRIBERS` ({settings['OIDUNA_MAX_SUBSCRIBERS']:,})" in api
    assert f"`OIDUNA_MAX_BODY` ({settings['OIDUNA_MAX_BODY'] >> 20} MiB)" in api
    assert f"`OIDUNA_MAX_UPLOAD` ({settings['OIDUNA_MAX_UPLOAD'] >> 20} MiB)" in api
    assert (f"| {ir.MAX_TRACKS} / {ir.MAX_EVENTS:,} / {limit('mixer_lines')} / {limit('scenes')} |" in api)
    assert f"| `environment.loop_steps` | 1–{ir.MAX_LOOP_STEPS};" in engine
    assert f"the next {cycles.AHEAD} cycles" in engine
    assert f"{SuperDirtOutput.lookahead * 1000:g} ms for SuperDirt" in engine


# ---- the CLI, the endpoints, the magics --------------------------------------------------------


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_every_command_line_in_the_docs_parses():
    commands = subcommands()
    for page in PAGES:
        for line in re.findall(r"oiduna-nb [^`\n|#*]*", page.read_text()):
            words = line.split()
            if len(words) < 2 or words[1].startswith("--") or words[1].isupper():  # --version, COMMAND --help
                continue
            name = words[1]
            assert name in commands, f"{page.name}: no command {name!r} in {line!r}"
            options = {o for a in commands[name]._actions for o in a.option_strings}
            for word in words[2:]:
                if word.startswith("--"):
                    assert word.split("=")[0] in options, f"{page.name}: {name} has no {word} ({line!r})"


ROUTE_METHODS = ("get", "post", "patch", "delete", "put")


def route_for(method: str, path: str) -> bool:
    path = re.sub(r"\{[^}]+\}", "x", path.split("?")[0])
    for pattern, handler in api_routes():
        if re.fullmatch(pattern, path) and method.lower() in vars(handler):
            return True
    return False


def test_every_endpoint_the_docs_name_exists():
    for page in PAGES:
        body = page.read_text()
        for method, path in re.findall(r"`(GET|POST|PATCH|DELETE|PUT) (/[^`\s]*)`", body):
            if path.startswith("/api/v1/"):  # the Daydream Scope server's own API (docs/scope.md)
                continue
            assert route_for(method, path), f"{page.name}: {method} {path} is not served"
        for path in re.findall(r"curl [^\n]*?http://localhost:\d+(/[^\s\"']*)", body):
            assert route_for("GET", path) or route_for("POST", path), f"{page.name}: curl {path}"


def test_every_magic_the_docs_name_exists():
    commands = {line.split()[1] for line in magics.USAGE.splitlines()}
    for page in PAGES:
        for word in re.findall(r"%oiduna ([a-z-]+)", page.read_text()):
            assert word in commands, f"{page.name}: %oiduna {word}"


# ---- files, instruments ----------------------------------------------------------------------------


def test_every_file_the_docs_point_to_exists():
    for page in PAGES:
        for token in re.findall(r"`([\w./-]+/[\w.-]*)`", page.read_text()):
            if token.startswith(("/", "~", "http")) or "<" in token or not re.search(r"\.(py|md|json|ipynb)$|/$", token):
                continue
            first = token.split("/")[0]
            if token.endswith("/") and not ((ROOT / first).is_dir() or (PACKAGE / first).is_dir()):
                continue  # a folder of the user's data (sessions/, logs/), not of this repository
            candidates = [ROOT / token, PACKAGE / token, PACKAGE / "engine" / token, ROOT / "notebooks" / token]
            assert any(c.exists() for c in candidates), f"{page.name} points to {token}, which does not exist"


def test_every_picture_the_docs_show_exists():
    for page in [*PAGES, *sorted((ROOT / "notebooks").glob("*.ipynb"))]:
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text()):
            assert (page.parent / target).is_file(), f"{page.name} shows {target}, which does not exist"


def test_the_instruments_table_names_sounds_the_mapping_knows():
    table = text("docs/sound.md").split("| `s` | instrument |")[1].split("\n\n")[0]
    known = set(mapping.DRUM_SOUNDS) | set(mapping.PITCHED_SOUNDS)
    for line in table.strip().splitlines()[1:]:
        for name in re.findall(r"`([a-z0-9]+)`", line.split("|")[1]):
            assert name in known, f"docs/sound.md lists {name!r}, which the instruments do not map"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_page_describes_the_loop_that_grew(page):
    """Patterns play cycle by cycle now: no page may still promise the shared loop that grew."""
    body = flat(page.read_text())
    assert "grows it to" not in body and "loop growth" not in body


def test_get_tracks_length_is_what_docs_api_says(api):
    """docs/api.md: a pattern track 16, a loop its own length, a sequence the bars holding its events."""
    from oiduna_nb.dsl import live, s, track

    assert "a track that plays a pattern has 16" in flat(text("docs/api.md"))
    live.use(api.engine)
    try:
        track("pat", s("bd*2 [~ sn]"), at="now")
        track("loop", "x... x... x... x...", sound="bd", at="now")
        track("twelve", "x.. x.. x.. x..", sound="hh", at="now")
    finally:
        live.use(None)
    session = {"tracks": {"seq": {"meta": {"track_id": "seq"}, "params": {"s": "cp"}}},
               "sequences": {"seq": {"track_id": "seq", "events": [{"step": 2}, {"step": 20}]}},
               "apply": {"timing": "now", "track_ids": ["seq"]}}
    assert api.http.post("/playback/session", json=session).status_code == 200
    lengths = {t["id"]: (t["length"], t.get("source", "sequence")) for t in api.http.get("/tracks").json()["tracks"]}
    assert lengths == {"pat": (16, "pattern"), "loop": (16, "loop"), "twelve": (12, "loop"), "seq": (32, "sequence")}


# ---- the notebooks as saved -------------------------------------------------------------------------

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_saved_clean(path):
    """What a reader sees: no test markers in the code, no stale or machine-dependent output
    (those cells are tagged for nbval and saved empty: tests/save_notebooks.py), no raw
    widget reprs, no run timings; they use the pattern language and the performance view."""
    import json

    notebook = json.loads(path.read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert "widgets" not in notebook["metadata"]
    for number, cell in enumerate(code, 1):
        source = "".join(cell["source"])
        assert "NBVAL" not in source, f"a test marker in the code of {path.name}"
        assert "execution" not in cell["metadata"]
        assert cell["execution_count"] == number
        saved = json.dumps(cell["outputs"])
        for stale in ("application/vnd.jupyter.widget-view+json", "children=(", "Error displaying widget"):
            assert stale not in saved, f"{path.name}: {stale} in the output of {source!r}"
        if "nbval-ignore-output" in cell["metadata"].get("tags", []):
            assert cell["outputs"] == [], f"{path.name}: a machine-dependent output saved for {source!r}"
    everything = "".join("".join(c["source"]) for c in code)
    assert "perform()" in everything, f"{path.name} does not show the performance view"
    assert re.search(r"\b(s|note|n)\(\"", everything), f"{path.name} does not use the pattern language"
