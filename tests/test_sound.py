"""Our instruments: offline renders with onsets where the plan puts them (within 1 ms),
realtime on Debian's scsynth over a dummy JACK server recorded with jack_capture, sample
playback of an uploaded file, and the choice of output."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oiduna_nb.dsl import live
from oiduna_nb.engine import Engine, EngineConfig, Session
from oiduna_nb.engine.outputs.osc import encode_message
from oiduna_nb.sound import render
from oiduna_nb.sound.embedded import choose_output, scsynth_output
from oiduna_nb.sound.samples import SampleBank

from .audio_analysis import frequency, onsets, read_wav
from .audio_files import wav_bytes
from .conftest import no_midi, seed_session_dict, start_dummy_jack, stop_process
from .osc_peer import OscPeer
from .server_harness import free_port

TOLERANCE = 0.001  # seconds


def assert_onsets_match(found: list[float], planned: list[float]) -> None:
    assert len(found) == len(planned), (found, planned)
    worst = max(abs(f - p) for f, p in zip(found, planned))
    assert worst <= TOLERANCE, f"onset off by {worst * 1000:.3f} ms"


def test_render_the_seed_session(tmp_path):
    result = render(Session.model_validate(seed_session_dict()), tmp_path / "seed.wav", bars=2)
    audio, rate = read_wav(result.path)
    assert rate == 48000 and audio.shape[1] == 2
    assert [round(t, 6) for t, *_ in result.onsets] == [0.0, 0.5]
    assert_onsets_match(onsets(audio, rate), [t for t, *_ in result.onsets])


def test_a_render_shows_its_waveform_beside_the_player(tmp_path):
    """The waveform is the audio's own: loud where the kicks are, flat in the silent tail."""
    import re

    result = render(Session.model_validate(seed_session_dict()), tmp_path / "seed.wav", bars=2)
    page = result._repr_html_()
    assert page.index("<audio") < page.index("<svg")  # the player, then its picture beside it
    points = re.search(r'class="envelope" points="([^"]+)"', page).group(1).split()
    width = len(points) // 2
    top = {int(x): float(y) for x, y in (p.split(",") for p in points[:width])}
    bottom = {int(x): float(y) for x, y in (p.split(",") for p in points[width:])}
    column = lambda seconds: int(width * seconds / result.seconds)  # noqa: E731
    spread = lambda seconds: bottom[column(seconds)] - top[column(seconds)]  # noqa: E731
    assert spread(0.01) > 10 and spread(0.51) > 10  # the kicks at 0 and 0.5 s, in px of a 90 px picture
    assert spread(result.seconds - 0.02) < 2  # the tail has died away
    assert page.count('class="bar"') == 2  # bars 2 and 3 start inside the take


@pytest.mark.parametrize(
    "pattern, kwargs",
    [
        ("x" * 16, {"sound": "hh"}),  # every 16th
        ("[hh hh hh]*4", {}),  # triplets: sub-step positions, not rounded
        ("hh(5,8,1)", {}),  # euclid
        ("x.x.x.x.x.x.x.x.", {"sound": "rim"}),
    ],
)
def test_render_dsl_patterns_onsets_within_a_millisecond(pattern, kwargs, engine, tmp_path):
    live.use(engine)
    try:
        live.track("t", pattern, **kwargs)
        live.swing(0.2 if "x." in pattern else 0.0, at="now")
    finally:
        live.use(None)
    result = render(engine.state, tmp_path / "p.wav", bars=2)
    audio, rate = read_wav(result.path)
    planned = [t for t, *_ in result.onsets]
    assert len(planned) >= 8
    assert_onsets_match(onsets(audio, rate), planned)


def test_sample_playback_of_an_uploaded_file(api, tmp_path):
    tone = wav_bytes(seconds=0.2, freq=880.0)
    r = api.http.post("/assets/samples", files={"file": ("beep.wav", tone)}, data={"category": "beeps"})
    assert r.status_code == 200
    body = seed_session_dict()
    body["tracks"]["kick"]["params"]["s"] = "beeps"  # the category is the sound name, as in SuperDirt
    result = render(Session.model_validate(body), tmp_path / "s.wav", bars=1, assets_dir=tmp_path / "assets")
    assert {d for *_, d in result.onsets} == {"oid_sample1"}
    audio, rate = read_wav(result.path)
    assert_onsets_match(onsets(audio, rate), [0.0, 0.5])
    assert abs(frequency(audio, rate, 0.02, 0.1) - 880.0) < 10


def test_render_cli_and_the_demo_without_an_audio_device(tmp_path):
    session = tmp_path / "s.json"
    session.write_text(json.dumps(seed_session_dict()))
    out = subprocess.run([sys.executable, "-m", "oiduna_nb.cli", "render", str(session), str(tmp_path / "o.wav"),
                          "--bars", "2"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "rendered 2 bars" in out.stdout and (tmp_path / "o.wav").exists()
    demo = subprocess.run([sys.executable, "-m", "oiduna_nb.cli", "demo", "--bars", "1", "--out", str(tmp_path / "d.wav"),
                           "--osc-port", str(free_port())], capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    assert "rendering to a file instead" in demo.stdout
    audio, rate = read_wav(tmp_path / "d.wav")
    bar = int(rate * 60 / 124 * 4)
    assert abs(audio).max() > 0.1  # audible, not clipped silence
    assert (abs(audio[:bar]) > 0.01).mean() > 0.2  # music through the bar, not a click


# ---- realtime, on a real scsynth ---------------------------------------------------------------


@pytest.fixture(scope="module")
def scsynth(tmp_path_factory):
    """Debian's scsynth on a dummy JACK server of its own (no audio hardware)."""
    for tool in ("jackd", "scsynth", "jack_capture"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: apt-get install jackd2 supercollider-server jack-capture (.ci/run does)")
    name, jackd = start_dummy_jack(period=1024)
    env = {**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1", "SC_JACK_DEFAULT_OUTPUTS": "system"}
    port = free_port()
    # scsynth's output goes to a file: a pipe nobody reads would fill up and stall the server
    log = tmp_path_factory.mktemp("scsynth") / "scsynth.log"
    with open(log, "w") as out:
        server = subprocess.Popen(["scsynth", "-u", str(port), "-i", "0", "-o", "2"], env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while "server ready" not in log.read_text():
        if time.monotonic() > deadline or server.poll() is not None:
            stop_process(jackd)
            pytest.fail(f"scsynth did not start:\n{log.read_text()}")
        time.sleep(0.1)
    yield port, env
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quit_socket:
        quit_socket.sendto(encode_message("/quit"), ("127.0.0.1", port))
    for proc in (server, jackd):
        stop_process(proc)
    Path("/dev/shm", f"SuperColliderServer_{port}").unlink(missing_ok=True)  # scsynth leaves its 8 MB


def test_realtime_on_scsynth_recorded_with_jack_capture(scsynth, tmp_path):
    port, env = scsynth
    capture = subprocess.Popen(
        ["jack_capture", "-d", "4", "-b", "16", "-f", "wav", "-c", "2",
         "-p", "SuperCollider:out_1", "-p", "SuperCollider:out_2", str(tmp_path / "cap.wav")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    engine = Engine(EngineConfig(osc_port=free_port()), midi=no_midi())
    try:
        output = scsynth_output(engine, "127.0.0.1", port, SampleBank(None), "scsynth test")
        assert output is not None, "scsynth did not sync"
        engine.use_output(output)
        assert engine.status()["output"] == "scsynth test"
        live.use(engine)
        live.track("hh", "x" * 16, sound="hh")
        engine.start()
        time.sleep(2.5)
        engine.stop()
    finally:
        live.use(None)
        engine.close()
    capture.wait(timeout=30)
    audio, rate = read_wav(tmp_path / "cap.wav")
    found = onsets(audio, rate)
    assert len(found) >= 15
    gaps = [b - a for a, b in zip(found, found[1:])]
    assert max(abs(g - 0.125) for g in gaps) <= TOLERANCE, gaps  # the grid, to the millisecond


def test_choose_output(scsynth, tmp_path):
    port, _ = scsynth
    dirt = OscPeer(answer_handshake=True)
    engine = Engine(EngineConfig(osc_port=dirt.port), midi=no_midi(), run_thread=False)
    try:
        assert choose_output(engine, "auto", None, "127.0.0.1", port) == "superdirt"
    finally:
        engine.close()
        dirt.close()
    engine = Engine(EngineConfig(osc_port=free_port(), handshake_timeout=0.2), midi=no_midi(), run_thread=False)
    try:
        before = set(Path("/dev/shm").glob("SuperColliderServer_*"))
        said = choose_output(engine, "auto", None, "127.0.0.1", port)
        assert said == "superdirt (built-in instruments unavailable: no audio device)"
        assert set(Path("/dev/shm").glob("SuperColliderServer_*")) == before  # the failed boot left nothing
        assert choose_output(engine, "scsynth", None, "127.0.0.1", port) == f"scsynth at 127.0.0.1:{port}"
        assert engine.output_name == f"scsynth at 127.0.0.1:{port}"
        assert "no scsynth answered" in choose_output(engine, "scsynth", None, "127.0.0.1", free_port())
    finally:
        engine.close()
