"""Sessions played through the engine and the HTTP API into a real SuperDirt, checked by what
SuperDirt itself reports (``tests/superdirt_real.py`` describes its event log).

Opt-in: ``SUPERDIRT_PORT`` (SuperDirt's port) and ``SUPERDIRT_LOG`` (its event log);
``SUPERDIRT_POST`` (sclang's output: scsynth's ``late`` lines, SuperDirt's complaints) and
``SUPERDIRT_JACK`` (its JACK server, for recordings) for the tests that need them. On a
developer's machine: ``/work/peers/superdirt/run.sh PORT`` prints all four.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from .conftest import no_midi
from .server_harness import RunningServer
from .superdirt_real import Recording, db, from_env, level

pytestmark = pytest.mark.skipif(
    not (os.environ.get("SUPERDIRT_PORT") and os.environ.get("SUPERDIRT_LOG")),
    reason="SUPERDIRT_PORT and SUPERDIRT_LOG are not set: no real SuperDirt to play into",
)
needs_post = pytest.mark.skipif(not os.environ.get("SUPERDIRT_POST"),
                                reason="SUPERDIRT_POST is not set: sclang's output (scsynth's late lines) cannot be read")
needs_jack = pytest.mark.skipif(not os.environ.get("SUPERDIRT_JACK"),
                                reason="SUPERDIRT_JACK is not set: SuperDirt's output cannot be recorded")

BPM = 120.0
STEP = 60.0 / BPM / 4


def track(s: str, orbit: int = 0, **params) -> dict:
    return {"meta": {"track_id": s.split(":")[0] + str(orbit)}, "params": {"s": s, "gain": 1.0, "pan": 0.5,
                                                                          "orbit": orbit, **params}}


def session(tracks: dict[str, dict], events: dict[str, list[dict]], loop_steps: int = 16, **more) -> dict:
    """A session of these tracks (each dict as ``track()`` makes it) and their events."""
    body = {
        "environment": {"bpm": BPM, "default_gate": 1.0, "swing": 0.0, "loop_steps": loop_steps},
        "tracks": {},
        "sequences": {},
        **more,
    }
    for track_id, t in tracks.items():
        t = copy.deepcopy(t)
        t["meta"]["track_id"] = track_id
        body["tracks"][track_id] = t
        body["sequences"][track_id] = {"track_id": track_id, "events": events.get(track_id, [])}
    return body


@pytest.fixture
def dirt():
    return from_env()


@pytest.fixture
def api(tmp_path):
    """The engine (its own defaults: lookahead and all) and the HTTP API, OSC to the real SuperDirt."""
    server = RunningServer(int(os.environ["SUPERDIRT_PORT"]), tmp_path / "assets", no_midi())
    yield server
    server.close()


def play(api: RunningServer, body: dict, seconds: float) -> None:
    r = api.http.post("/playback/session", json=body)
    assert r.status_code == 200, r.text
    assert api.http.post("/playback/start").status_code == 200
    time.sleep(seconds)
    api.http.post("/playback/stop")


def test_a_session_arrives_as_superdirt_understands_it(api, dirt):
    body = session(
        {"kick": track("bd", n=3), "keys": track("superpiano", orbit=1)},
        {"kick": [{"step": s, "velocity": 1.0} for s in (0, 4, 8, 12)],
         "keys": [{"step": 2, "note": 60, "gate": 2.0}, {"step": 10, "note": 67, "gate": 1.0}]},
    )
    mark = dirt.mark()
    play(api, body, 16 * STEP - 0.05)  # one bar
    events = dirt.wait_events(mark, 6)
    kicks = [e for e in events if e["s"] == "bd"]
    keys = [e for e in events if e["s"] == "superpiano"]
    assert len(kicks) == 4 and len(keys) == 2, events
    for e in events:
        assert e["cps"] == pytest.approx(BPM / 60 / 4)
        assert e["gain"] == 1.0 and e["pan"] == 0.0  # SuperDirt's pan is bipolar: 0.5 -> 0
    assert all(e["n"] == 3 and e["orbit"] == 0 and e["delta"] == pytest.approx(STEP) for e in kicks)
    assert [e["note"] for e in keys] == [0, 7]  # MIDI note - 60
    assert [e["delta"] for e in keys] == pytest.approx([2 * STEP, STEP]) and all(e["orbit"] == 1 for e in keys)
    assert [e["cycle"] for e in kicks] == pytest.approx([0, 0.25, 0.5, 0.75])
    assert [e["at"] for e in kicks][1] - kicks[0]["at"] == pytest.approx(4 * STEP, abs=0.002)


def test_legato_shortens_a_sample_where_gate_does_not(api, dirt):
    """SuperDirt (as Tidal) takes ``delta`` for a synth's length, not a sample's: a sample plays
    whole whatever the gate; ``legato`` (x delta) sets its length."""
    body = session({"short": track("arpy"), "long": track("arpy", orbit=1), "legato": track("arpy", orbit=2, legato=0.25)},
                   {"short": [{"step": 0, "gate": 0.25}], "long": [{"step": 0, "gate": 4.0}],
                    "legato": [{"step": 0, "gate": 2.0}]})
    mark = dirt.mark()
    play(api, body, 4 * STEP)
    events = {e["orbit"]: e for e in dirt.wait_events(mark, 3)}
    assert events[0]["sustain"] == events[1]["sustain"]  # the gate changed nothing
    assert events[0]["sustain"] > 0.25 * STEP
    assert events[2]["sustain"] == pytest.approx(0.25 * 2 * STEP, rel=0.05)  # legato x delta


@needs_post
def test_nothing_is_late_where_it_is_heard(api, dirt):
    """Issue 12 point 4 (lookahead): with the engine's default lookahead, on this machine, no
    event reaches SuperDirt late (``~latency`` < 0) and scsynth reports nothing late."""
    tracks = {name: track(s, orbit=i) for i, (name, s) in enumerate(
        [("kick", "bd"), ("snare", "sn"), ("hats", "hh"), ("clap", "cp"), ("keys", "superpiano")])}
    events = {name: [{"step": s, "velocity": 0.9, "note": 60 + s % 12} for s in range(16)] for name in tracks}
    mark = dirt.mark()
    play(api, session(tracks, events), 4 * 16 * STEP)  # 4 bars, 80 events a bar
    logged = dirt.wait_events(mark, 4 * 80 - 5)
    assert len(logged) >= 4 * 80 - 5
    late = [e for e in logged if e["latency"] < 0]
    assert late == [], f"{len(late)} of {len(logged)} events reached SuperDirt late"
    assert dirt.late_since(mark) == []


def test_velocity_and_line_gain_are_linear_and_track_gain_is_superdirts(api, dirt):
    """Issue 12 point 2: velocity 0.5 and a line at gain 0.5 halve the level (−6 dB), as our
    instruments and MIDI do; a track's own ``gain`` is SuperDirt's gain, passed as it is."""
    body = session(
        {"loud": track("bd"), "soft": track("bd", orbit=1), "lined": track("bd", orbit=2), "quiet": track("bd", orbit=3, gain=0.8)},
        {"loud": [{"step": 0, "velocity": 1.0}], "soft": [{"step": 0, "velocity": 0.5}],
         "lined": [{"step": 0, "velocity": 1.0}], "quiet": [{"step": 0, "velocity": 1.0}]},
        mixer_lines={"half": {"name": "half", "orbit": 2, "gain": 0.5, "include": ["lined"]}},
    )
    mark = dirt.mark()
    play(api, body, 4 * STEP)
    by_orbit = {e["orbit"]: e for e in dirt.wait_events(mark, 4)}
    assert level(by_orbit[1]) / level(by_orbit[0]) == pytest.approx(0.5, rel=0.02)  # velocity 0.5
    assert level(by_orbit[2]) / level(by_orbit[0]) == pytest.approx(0.5, rel=0.02)  # line gain 0.5
    assert by_orbit[3]["gain"] == pytest.approx(0.8)  # as it was sent (a 32-bit float)


@needs_post
def test_a_realtime_trigger_is_timetagged_and_not_late(api, dirt):
    """Issue 12 point 3: a trigger goes out as a bundle timetagged now + lookahead, so SuperDirt
    schedules it (``~latency`` > 0) and scsynth does not report it late."""
    api.http.post("/playback/session", json=session({"kick": track("bd")}, {}))
    mark = dirt.mark()
    for _ in range(5):
        assert api.http.post("/playback/trigger/osc", json={"track_id": "kick", "velocity": 1.0}).status_code == 200
        time.sleep(0.2)
    events = dirt.wait_events(mark, 5)
    time.sleep(0.5)  # scsynth prints late when the bundle's time has passed
    assert len(events) == 5
    assert all(e["latency"] > 0 for e in events), [e["latency"] for e in events]
    assert dirt.late_since(mark) == []


@needs_post
def test_a_sample_number_in_the_name_is_split(api, dirt):
    """Issue 12 point 5: ``s: "bd:3"`` in session JSON or over HTTP is ``s: bd, n: 3``, as the DSL sends it."""
    body = session({"kick": track("bd:3"), "snare": track("sn", orbit=1)},
                   {"kick": [{"step": 0}], "snare": [{"step": 4}]}, loop_steps=32)
    mark = dirt.mark()
    play(api, body, 8 * STEP)
    r = api.http.patch("/playback/tracks/snare/params", json={"s": "sn:1"})
    assert r.status_code in (200, 202), r.text
    kicks = [e for e in dirt.wait_events(mark, 2) if e["orbit"] == 0]
    assert kicks and kicks[0]["s"] == "bd" and kicks[0]["n"] == 3, kicks
    mark2 = dirt.mark()
    api.http.post("/playback/start")
    time.sleep(8 * STEP)
    api.http.post("/playback/stop")
    snares = [e for e in dirt.wait_events(mark2, 1) if e["orbit"] == 1]
    assert snares and snares[0]["s"] == "sn" and snares[0]["n"] == 1
    assert not [line for line in dirt.post_since(mark) if "no synth or sample named" in line]


def test_play_bars_plays_exactly_those_bars(dirt, tmp_path):
    """Issue 12 point 6: ``oiduna-nb play --bars 1`` plays 16 steps (it played 17: the next bar's first)."""
    path = tmp_path / "kick.json"
    path.write_text(json.dumps(session({"kick": track("bd")}, {"kick": [{"step": s} for s in (0, 4, 8, 12)]})))
    mark = dirt.mark()
    done = subprocess.run(
        [sys.executable, "-m", "oiduna_nb.cli", "play", str(path), "--bars", "1", "--output", "superdirt",
         "--osc-port", os.environ["SUPERDIRT_PORT"]],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    time.sleep(0.5)
    assert len(dirt.events_since(mark)) == 4


@needs_jack
def test_a_send_adds_its_effect_without_a_louder_dry_hit(api, dirt, tmp_path):
    """Issue 12 point 1: a send to a reverb line makes a tail in proportion to its amount
    (amount 0.3 audible, 1.0 about 10.5 dB above it) and leaves the dry hit as it was."""

    def hit(amount: float) -> tuple[float, float]:
        body = session(
            {"snare": {**track("sn"), "sends": [{"mixer_line": "verb", "amount": amount}] if amount else []}},
            {"snare": [{"step": 0}]}, loop_steps=64,
            mixer_lines={"verb": {"name": "verb", "orbit": 1, "gain": 1.0, "fx": {"room": 0.8, "size": 0.9}}},
        )
        recording = Recording(tmp_path / f"send-{amount}.wav", 4.0)
        play(api, body, 3.5)
        samples, rate = recording.samples()
        mono = np.abs(samples).max(axis=1)
        start = int(np.argmax(mono > 0.01))
        assert mono[start] > 0.01, "nothing was heard"
        # the dry hit: its first 3 ms, before the reverb's first reflections (≥ 5 ms) arrive
        peak = mono[start:start + int(0.003 * rate)].max()
        tail = samples[start + int(1.0 * rate):start + int(2.0 * rate)]
        return db(peak), db(float(np.sqrt(np.mean(tail ** 2))))

    dry_peak, dry_tail = hit(0.0)
    low_peak, low_tail = hit(0.3)
    full_peak, full_tail = hit(1.0)
    # No second copy of the hit: a copy on another orbit raised it by ~10 dB (−11 → −1.2 dBFS).
    # What remains is SuperDirt's reverb itself, whose allpass chain lets part of its input
    # through at once (it scales with room: ~+1.5 dB at 0.3, ~+5 dB at a full send).
    assert low_peak - dry_peak < 2.5 and full_peak - dry_peak < 6.5, (dry_peak, low_peak, full_peak)
    assert low_tail > dry_tail + 20, (dry_tail, low_tail)  # the reverb is there at 0.3
    assert full_tail - low_tail == pytest.approx(20 * np.log10(1 / 0.3), abs=4), (low_tail, full_tail)
