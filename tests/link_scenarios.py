"""Two engines in one Ableton Link session, for real. Run only inside the private network
namespace that tests/test_link_peers.py makes (this file is not collected by the suite):
Link multicasts on every interface, and here the only one is loopback.

Each engine sends its OSC to a UDP receiver of its own in the namespace; a session with a
kick on the first step of every bar makes every bundle a downbeat, so comparing bundle
timetags compares bars. Timetags are computed values, not measured timings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from oiduna_nb.engine import Engine, EngineConfig, Session

from .conftest import NO_MIDI_ENV, eventually, no_midi, seed_session_dict, stop_process
from .osc_peer import OscPeer
from .server_harness import free_port, wait_until_serving

NTP_EPOCH_NS = 2_208_988_800 * 10**9
ALIGNED_NS = 1_000_000  # two engines' downbeats fall within 1 ms of each other
# Link keeps the older of two sessions that meet only when it began well before the other
# (its rule: over 0.5 s of ghost time; measured here with aalink alone: a session 0.8 s older
# still lost to a newcomer's, one 0.9 s older won); closer, their random ids decide. The
# scenarios join an established session, so a joiner starts this long after the first.
ESTABLISHED_S = 2.0


@pytest.fixture(scope="module", autouse=True)
def private_network():
    """Loopback up with multicast, and nothing else: Link stays on this machine."""
    lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]  # this namespace's interfaces
    interfaces = sorted(line.split(":")[0].strip() for line in lines)
    if interfaces != ["lo"]:
        pytest.fail(f"run inside the namespace tests/test_link_peers.py makes, not here (interfaces: {interfaces})")
    for command in (["ip", "link", "set", "lo", "up"], ["ip", "link", "set", "lo", "multicast", "on"],
                    ["ip", "route", "add", "224.0.0.0/4", "dev", "lo"]):
        subprocess.run(command, check=True)


def session_body(bpm: float) -> dict:
    body = seed_session_dict()
    body["environment"].update(bpm=bpm, loop_steps=16)
    body["sequences"]["kick"]["events"] = [{"step": 0}]
    return body


def unix_ns(timetag: int) -> int:
    return timetag * 10**9 // 2**32 - NTP_EPOCH_NS


class ServedEngine:
    """``oiduna-nb serve`` in the namespace, playing the bar session to a receiver of its own."""

    def __init__(self, tmp: Path, name: str, bpm: float, *args: str, env: dict | None = None) -> None:
        self.osc = OscPeer()
        self.port = free_port()
        session = tmp / f"{name}.json"
        session.write_text(json.dumps(session_body(bpm)))
        self.log = tmp / f"{name}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "oiduna_nb.cli", "serve", "--port", str(self.port), "--osc-port",
             str(self.osc.port), "--output", "superdirt", "--session", str(session), "--play", *args],
            env={**os.environ, **NO_MIDI_ENV, **(env or {})},
            stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )
        wait_until_serving(self.port, self.proc)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)
        # serve loads its session once its output is chosen: wait for it to play
        assert eventually(lambda: self.status()["playback_state"] == "playing"), self.log.read_text()
        self.linked_by = time.monotonic()  # Link (if asked) is on by now

    def wait_established(self) -> None:
        """Until our Link session is old enough to be the one a newcomer joins."""
        time.sleep(max(0.0, self.linked_by + ESTABLISHED_S - time.monotonic()))

    def status(self) -> dict:
        return self.http.get("/playback/status").json()

    def tempo(self, bpm: float) -> None:
        assert self.http.patch("/playback/environment", json={"bpm": bpm}).status_code == 200

    def downbeats(self) -> list[int]:
        return [unix_ns(tag) for _, tag in self.osc.bundles()]

    def close(self) -> None:
        self.http.close()
        stop_process(self.proc)
        self.osc.close()


class InProcessEngine:
    """An engine in this process (its metronome on its own thread), switched like a notebook does."""

    def __init__(self, bpm: float, **config) -> None:
        self.osc = OscPeer()
        self.engine = Engine(EngineConfig(osc_port=self.osc.port, **config), midi=no_midi())
        self.engine.load_session(Session.model_validate(session_body(bpm)))

    def status(self) -> dict:
        return self.engine.status()

    def downbeats(self) -> list[int]:
        return [unix_ns(tag) for _, tag in self.osc.bundles()]

    def close(self) -> None:
        self.engine.close()
        self.osc.close()


@pytest.fixture
def engines():
    started: list = []
    yield started
    for engine in reversed(started):
        engine.close()


def offsets_ns(leader, follower, since_ns: int) -> list[int]:
    """For each downbeat of ``follower`` from ``since_ns`` on (up to the last one of
    ``leader`` received), how far the nearest downbeat of ``leader`` is."""
    theirs = leader.downbeats()
    if not theirs:
        return []
    ours = [t for t in follower.downbeats() if since_ns <= t <= theirs[-1]]
    return [min(abs(t - u) for u in theirs) for t in ours]


def wait_for_bars(a, b, since_ns: int, bars: int = 4) -> list[int]:
    assert eventually(lambda: len(offsets_ns(a, b, since_ns)) >= bars, timeout=60), (
        f"fewer than {bars} bars from {since_ns}: {offsets_ns(a, b, since_ns)}"
    )
    return offsets_ns(a, b, since_ns)


def bar_ns(bpm: float) -> int:
    return round(4 * 60e9 / bpm)


def spacing(engine, since_ns: int) -> list[int]:
    beats = [t for t in engine.downbeats() if t >= since_ns]
    return [b - a for a, b in zip(beats, beats[1:])]


# ---- the scenarios -------------------------------------------------------------------------


def test_the_second_adopts_the_tempo_bars_line_up_and_tempo_travels_both_ways(engines, tmp_path):
    first = ServedEngine(tmp_path, "first", 123.4, "--link")
    engines.append(first)
    assert first.status()["link"]["enabled"] is True
    first.wait_established()
    second = ServedEngine(tmp_path, "second", 90, env={"OIDUNA_LINK": "1"})
    engines.append(second)

    # the second joins: it adopts the session's tempo, the first's is untouched
    assert eventually(lambda: second.status()["bpm"] == 123.4, timeout=30), second.status()
    joined = time.time_ns()
    assert first.status()["bpm"] == 123.4
    assert eventually(lambda: first.status()["link"]["peers"] == 1 and second.status()["link"]["peers"] == 1)
    offsets = wait_for_bars(first, second, joined + bar_ns(123.4))
    assert max(offsets) < ALIGNED_NS, offsets

    # a PATCH on the first reaches the second within two bars, and the bars stay together
    changed = time.time_ns()
    first.tempo(140)
    two_bars = changed + 2 * bar_ns(140)
    offsets = wait_for_bars(first, second, two_bars)
    assert max(offsets) < ALIGNED_NS, offsets
    assert all(abs(gap - bar_ns(140)) < ALIGNED_NS for gap in spacing(second, two_bars)), spacing(second, two_bars)
    assert second.status()["bpm"] == 140 and second.status()["link"]["tempo"] == 140

    # and the other way round
    changed = time.time_ns()
    second.tempo(100)
    two_bars = changed + 2 * bar_ns(100)
    offsets = wait_for_bars(second, first, two_bars)
    assert max(offsets) < ALIGNED_NS, offsets
    assert all(abs(gap - bar_ns(100)) < ALIGNED_NS for gap in spacing(first, two_bars))
    assert first.status()["bpm"] == 100


def test_leaving_and_rejoining(engines, tmp_path):
    first = ServedEngine(tmp_path, "first", 123.4, "--link")
    engines.append(first)
    first.wait_established()
    notebook = InProcessEngine(90, link=True)
    engines.append(notebook)
    notebook.engine.start()
    assert eventually(lambda: notebook.status()["bpm"] == 123.4, timeout=30), (
        {k: notebook.status()[k] for k in ("bpm", "link")}, {k: first.status()[k] for k in ("bpm", "link")})
    offsets = wait_for_bars(first, notebook, time.time_ns() + bar_ns(123.4))
    assert max(offsets) < ALIGNED_NS, offsets

    # leaving: the session loses a peer, the music plays on at its tempo, and no longer follows
    notebook.engine.link.disable()
    assert eventually(lambda: first.status()["link"]["peers"] == 0, timeout=30)
    first.tempo(150)
    left = time.time_ns()
    assert eventually(lambda: len([t for t in notebook.downbeats() if t > left + bar_ns(123.4)]) >= 2)
    assert notebook.status()["bpm"] == 123.4 and notebook.status()["link"]["enabled"] is False
    assert all(abs(gap - bar_ns(123.4)) < ALIGNED_NS for gap in spacing(notebook, left + bar_ns(123.4)))

    # rejoining: the session's tempo now, and its bars again
    notebook.engine.link.enable()
    assert eventually(lambda: notebook.status()["bpm"] == 150 and notebook.status()["link"]["peers"] == 1,
                      timeout=30), notebook.status()
    offsets = wait_for_bars(first, notebook, time.time_ns() + bar_ns(150))
    assert max(offsets) < ALIGNED_NS, offsets
    assert first.status()["bpm"] == 150  # rejoining never imposed the old tempo


def test_start_stop_sync_starts_and_stops_the_other_engine(engines, tmp_path):
    first = ServedEngine(tmp_path, "first", 120, "--link", "--link-start-stop")
    engines.append(first)
    first.http.post("/playback/stop")
    first.wait_established()
    notebook = InProcessEngine(120, link=True, link_start_stop=True)
    engines.append(notebook)
    assert eventually(lambda: notebook.status()["link"]["peers"] == 1, timeout=30)
    notebook.engine.start()
    assert eventually(lambda: first.status()["playback_state"] == "playing"), first.status()
    started = time.time_ns()
    offsets = wait_for_bars(notebook, first, started + bar_ns(120), bars=2)
    assert max(offsets) < ALIGNED_NS, offsets
    first.http.post("/playback/stop")
    assert eventually(lambda: notebook.status()["playback_state"] == "stopped"), notebook.status()
