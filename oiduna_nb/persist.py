"""The session outlives the process: autosaved after every change, restorable after a crash.

The autosaver writes what will play (the session once its pending changes apply) a moment
after the last change, on a thread of its own, atomically (a temporary file, synced, then
renamed into place), so a crash mid-write leaves the previous save whole. When a new
process starts, the save of the one before is moved aside first, so making music before
restoring never overwrites it.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .engine import Engine, Session
from .engine import commands as cmd
from .engine.cycles import Hit, LoopSource, TrackSource
from .engine.ir import DEFAULT_TIMING, Event, EventSequence
from .engine.state import PlayState
from .engine.timeline import STEPS_PER_BAR

FORMAT = 1
DEBOUNCE_SECONDS = 1.0  # a save at most this often while changes keep coming
# A notebook pattern is Python code, not data: it is saved as what it plays in its first
# cycles, and comes back as that loop (its text is kept to say what it was).
SAVED_CYCLES = 16


def source_dump(source: TrackSource) -> dict[str, Any]:
    if isinstance(source, LoopSource):
        length, cycles = source.length, -(-source.length // STEPS_PER_BAR)
    else:
        length, cycles = SAVED_CYCLES * STEPS_PER_BAR, SAVED_CYCLES
    hits = []
    for cycle in range(cycles):
        for step, found in sorted(source.hits(cycle).items()):
            for h in found:
                at = cycle * STEPS_PER_BAR + step
                if at < length:
                    hits.append([at, h.offset, h.gate, h.params, h.velocity, h.note])
    return {"text": source.text, "length": length, "hits": hits}


def source_load(body: dict[str, Any]) -> LoopSource:
    hits = [(at, Hit(at % STEPS_PER_BAR, offset, gate, params, velocity, note))
            for at, offset, gate, params, velocity, note in body["hits"]]
    return LoopSource(hits, int(body["length"]), text=body.get("text", ""))


CHUNK = 512  # events dumped per call: the GIL is free between two (the metronome may need it)
EVENTS = TypeAdapter(list[Event])


def _obj(pairs: list[tuple[str, str]]) -> str:
    """A JSON object from keys and already encoded values."""
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs) + "}"


class _Dumps:
    """The session as JSON text, part by part, each part's text kept while the part is
    unchanged (a mute changes one track; the thousands of events beside it are not dumped
    again). A long list of events is dumped a chunk at a time: one call over all of it would
    hold the GIL for a long while."""

    def __init__(self) -> None:
        self._kept: dict[int, tuple[object, str]] = {}
        self._sources: dict[int, tuple[object, dict]] = {}
        self._sources_next: dict[int, tuple[object, dict]] = {}

    def _text(self, model: Any) -> str:
        if isinstance(model, EventSequence) and len(model.events) > CHUNK:
            chunks = [json.dumps(EVENTS.dump_python(model.events[i:i + CHUNK], mode="json"))[1:-1]
                      for i in range(0, len(model.events), CHUNK)]
            return _obj([("track_id", json.dumps(model.track_id)), ("events", "[" + ", ".join(chunks) + "]")])
        return json.dumps(model.model_dump(mode="json"))

    def session(self, state: PlayState) -> str:
        self._sources, self._sources_next = self._sources_next or self._sources, {}
        kept: dict[int, tuple[object, str]] = {}

        def dump(parts: dict) -> str:
            pairs = []
            for key, model in parts.items():
                hit = self._kept.get(id(model))
                text = hit[1] if hit is not None and hit[0] is model else self._text(model)
                kept[id(model)] = (model, text)
                pairs.append((key, text))
            return _obj(pairs)

        body = _obj([
            ("environment", json.dumps(state.environment.model_dump(mode="json"))),
            ("tracks", dump(state.tracks)),
            ("tracks_midi", dump(state.tracks_midi)),
            ("mixer_lines", dump(state.mixer_lines)),
            ("sequences", dump(state.sequences)),
            ("scenes", dump(state.scenes)),
        ])
        self._kept = kept  # only what the current state holds
        return body

    def source(self, source: TrackSource) -> dict:
        """Rendering a pattern's cycles takes a while: once per pattern."""
        hit = self._sources.get(id(source))
        if hit is None or hit[0] is not source:
            hit = (source, source_dump(source))
        self._sources_next[id(source)] = hit
        return hit[1]


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:  # not possible here: the rename is still atomic
        pass


@dataclass(frozen=True)
class Saved:
    path: Path
    session: Session
    playing: bool
    saved_at: float
    sources: dict[str, dict] = field(default_factory=dict)  # notebook tracks, as loops

    def describe(self) -> str:
        env = self.session.environment
        tracks = len(self.session.tracks) + len(self.session.tracks_midi)
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        return f"{tracks} track{'s' if tracks != 1 else ''} at {env.bpm:g} bpm, saved {when}"


def read_saved(path: Path) -> Saved | None:
    """The session saved at ``path``, or None when there is none (or it cannot be read)."""
    try:
        body = json.loads(Path(path).read_text())
        return Saved(Path(path), Session.model_validate(body["session"]), bool(body.get("playing")),
                     float(body.get("saved_at", 0)), dict(body.get("sources", {})))
    except (OSError, ValueError, KeyError, TypeError, ValidationError):
        return None


class Autosaver:
    """Saves ``engine``'s session to ``path`` shortly after each change."""

    def __init__(self, engine: Engine, path: Path, debounce: float = DEBOUNCE_SECONDS) -> None:
        self.engine = engine
        self.path = Path(path)
        self.previous = self.path.with_name(self.path.stem + "-previous" + self.path.suffix)
        self.debounce = debounce
        self.error: str | None = None
        self.saves = 0
        self._dirty = threading.Event()
        self._dumps = _Dumps()
        self._quit = False
        self._set_aside_previous()
        self._thread = threading.Thread(target=self._run, name="oiduna-autosave", daemon=True)
        self._thread.start()
        engine.change_listeners.append(self.changed)

    def _set_aside_previous(self) -> None:
        """The last process's save becomes the one to restore; this process starts a new one."""
        if self.path.exists():
            try:
                os.replace(self.path, self.previous)
            except OSError as exc:
                self.error = f"could not keep the previous session: {exc}"

    def restorable(self) -> Saved | None:
        """What ``restore`` would bring back: the save of the process before this one."""
        return read_saved(self.previous)

    def changed(self) -> None:
        self._dirty.set()

    def _run(self) -> None:
        while not self._quit:
            self._dirty.wait()
            if self._quit:
                break
            time.sleep(self.debounce)  # a burst of changes makes one save
            self._dirty.clear()
            self.save_now()

    def save_now(self) -> None:
        state = self.engine.projected_state()
        text = _obj([
            ("format", json.dumps(FORMAT)),
            ("saved_at", json.dumps(time.time())),
            ("playing", json.dumps(self.engine.status()["playing"])),
            ("session", self._dumps.session(state)),
            ("sources", json.dumps({k: self._dumps.source(v) for k, v in state.sources.items()})),
        ])
        try:
            write_atomically(self.path, text)
            self.saves += 1
            self.error = None
        except OSError as exc:  # a full disk must not stop the music: say so in status
            self.error = f"autosave failed: {exc}"

    def close(self) -> None:
        """Save what is pending, then stop."""
        if self.changed in self.engine.change_listeners:
            self.engine.change_listeners.remove(self.changed)
        if self._dirty.is_set():
            self.save_now()
        self._quit = True
        self._dirty.set()
        self._thread.join(timeout=5)


def restore(engine: Engine, saved: Saved) -> None:
    """Bring a saved session back: it replaces what plays now (in one change), and plays if it
    was playing."""
    session = saved.session.model_copy(update={"apply": None})
    commands: list[cmd.Command] = [cmd.LoadSession(session)]
    for track_id, body in saved.sources.items():
        track = session.tracks.get(track_id) or session.tracks_midi.get(track_id)
        if track is not None:
            commands.append(cmd.ReplaceTrack(track, source=source_load(body)))
    engine.submit(cmd.Batch(tuple(commands)), DEFAULT_TIMING)
    if saved.playing:
        engine.start()
