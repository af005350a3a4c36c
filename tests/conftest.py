from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from oiduna_nb.engine import Engine, EngineConfig, ManualClock, Session
from oiduna_nb.engine.outputs.midi import MidiOutput

from .osc_peer import OscPeer

ROOT = Path(__file__).resolve().parent.parent
SEED_SESSION = ROOT / "oiduna_nb" / "examples" / "seed_session.json"


def seed_session_dict() -> dict:
    return json.loads(SEED_SESSION.read_text())


@pytest.fixture
def osc_peer():
    peer = OscPeer()
    yield peer
    peer.close()


@pytest.fixture
def clock():
    return ManualClock()


def no_midi() -> MidiOutput:
    """A MIDI output on a JACK server that does not exist: unavailable on every machine."""
    old = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = "oiduna-no-such-server"
    try:
        return MidiOutput(api="jack")
    finally:
        if old is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = old


@pytest.fixture
def engine(clock, osc_peer):
    """An engine driven by a manual clock (no thread), sending OSC to a real UDP peer."""
    eng = Engine(
        EngineConfig(osc_port=osc_peer.port, lookahead=0.1),
        clock=clock,
        midi=no_midi(),
        run_thread=False,
    )
    yield eng
    eng.close()


def eventually(condition, timeout: float = 15.0) -> bool:
    """Wait for a state to be reached (delivery, not timing: the bound is only generous)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def run_for(engine: Engine, clock: ManualClock, seconds: float, tick: float = 0.005) -> None:
    """Move the manual clock forward, running the metronome at every tick."""
    end = clock.t + round(seconds * 1e9)
    while clock.t < end:
        engine.metronome.run_due(clock.t)
        clock.t = min(end, clock.t + round(tick * 1e9))
    engine.metronome.run_due(clock.t)


@pytest.fixture
def api(osc_peer, tmp_path):
    """The engine and the HTTP API, running; ``api.http`` is an httpx client to it."""
    from .server_harness import RunningServer

    server = RunningServer(osc_peer.port, tmp_path / "assets", no_midi(), sse_heartbeat=0.5)
    yield server
    server.close()


@pytest.fixture(scope="session")
def jack_server():
    """A dummy JACK server (no audio hardware needed) for MIDI loopback tests."""
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.fail("jackd is not installed: apt-get install jackd2 (.ci/run does)")
    name = f"oiduna-test-{uuid.uuid4().hex[:8]}"
    proc = subprocess.Popen(
        [jackd, "-n", name, "-S", "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "256"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    old = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["JACK_NO_START_SERVER"] = "1"
    try:
        import rtmidi

        deadline = time.monotonic() + 15
        while True:  # wait for the server to accept clients
            try:
                probe = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="probe")
                probe.delete()
                break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the dummy JACK server did not start")
                time.sleep(0.1)
        yield name
    finally:
        if old is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = old
        proc.terminate()
        proc.wait(timeout=10)
