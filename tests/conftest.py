from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from oiduna_nb.engine import Engine, EngineConfig, ManualClock
from oiduna_nb.engine.outputs.midi import MidiOutput

from .osc_peer import OscPeer

ROOT = Path(__file__).resolve().parent.parent
# Autosaves and server logs of every engine the tests start (here and in the kernels and
# servers they spawn) go to a folder of this run, never to the user's data directory.
os.environ["OIDUNA_DATA_DIR"] = tempfile.mkdtemp(prefix="oiduna-test-data-")
atexit.register(shutil.rmtree, os.environ["OIDUNA_DATA_DIR"], True)
# Ableton Link multicasts on every interface: no engine a test starts joins a session unless
# the test asks, inside its own network namespace (tests/test_link_peers.py), whatever the
# developer's environment or .env says.
os.environ["OIDUNA_LINK"] = "0"
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


# For a process (a kernel, a server) that must find no MIDI system on any machine.
NO_MIDI_ENV = {"OIDUNA_MIDI_API": "jack", "JACK_DEFAULT_SERVER": "no-such-server"}


@contextlib.contextmanager
def environ(**values: str):
    """Environment variables set for a while, then as they were."""
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def no_midi() -> MidiOutput:
    """A MIDI output on a JACK server that does not exist: unavailable on every machine."""
    with environ(JACK_DEFAULT_SERVER=NO_MIDI_ENV["JACK_DEFAULT_SERVER"]):
        return MidiOutput(api="jack")


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


def record_events(engine: Engine) -> list:
    """Every (type, data) the engine and its metronome publish from now on, in order."""
    events: list = []

    def record(items):
        items = list(items)
        events.extend(items)
        return items

    engine.bus.publish_many = engine.metronome.publish = record
    return events


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
    name, proc = start_dummy_jack(period=256)
    try:
        with environ(JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1"):
            yield name
    finally:
        stop_process(proc)


def start_dummy_jack(period: int) -> tuple[str, subprocess.Popen]:
    """``jackd -d dummy`` under a name of its own, once it accepts clients (it can take a
    while on a busy machine)."""
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.fail("jackd is not installed: apt-get install jackd2 (.ci/run does)")
    name = f"oiduna-test-{uuid.uuid4().hex[:8]}"
    proc = subprocess.Popen(
        [jackd, "-n", name, "-S", "--no-realtime", "-d", "dummy", "-r", "48000", "-p", str(period)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import rtmidi

    deadline = time.monotonic() + 30
    with environ(JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1"):
        while True:
            try:
                probe = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="probe")
                probe.delete()
                return name, proc
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    stop_process(proc)
                    raise RuntimeError("the dummy JACK server did not start")
                time.sleep(0.1)


def stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
