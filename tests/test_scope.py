"""The Scope client against the Scope-compatible peer, and against a real Scope server when
``SCOPE_URL`` is set (the same tests, on its CPU ``passthrough`` pipeline).

Opt-in settings for the real server (``/work/peers/README.md`` on a developer's machine):

- ``SCOPE_URL``: the server; without it only the peer is used.
- ``SCOPE_RESTART_CMD``: a shell command that restarts that server (kills it and starts it
  again) and returns once it answers; the watchdog-after-restart test needs it.
- ``SCOPE_TEMPO=1``: the server can enable its tempo sync (a Link or MIDI-clock source); the
  test that beat state takes effect needs it.
"""

from __future__ import annotations

import asyncio
import os
import time

import aiohttp
import pytest

from oiduna_nb.engine import BoundaryTiming, Session
from oiduna_nb.scope.client import PipelineFailed, PipelineNotLoaded, ScopeClient, ScopeError, ScopeUnreachable
from oiduna_nb.scope.music import MusicLink
from oiduna_nb.scope.params import prompts
from oiduna_nb.scope.sender import BEAT_KEYS
from oiduna_nb.scope.session import ScopeSession
from oiduna_nb.scope.visuals import Visuals

from .conftest import no_midi, run_for, seed_session_dict
from .scope_peer import ScopePeer
from .server_harness import free_port

REAL_URL = os.environ.get("SCOPE_URL")
TARGETS = ["peer"] + (["real"] if REAL_URL else [])
PIPELINE = "passthrough"  # runs on a CPU on the real server
SIZE = 128
BEAT = {"bpm": 133.0, "beat_phase": 0.25, "bar_position": 0.5625, "beat_count": 9, "is_playing": True}


def run(coro_fn, target: str, **peer_args):
    """Run a test body on a fresh loop with the peer (or the real server's URL, peer None)."""

    async def main():
        if target == "real":
            return await coro_fn(REAL_URL, None)
        peer = ScopePeer(**peer_args).start()
        try:
            return await coro_fn(peer.url, peer)
        finally:
            await peer.stop()

    return asyncio.run(main())


async def loaded(url: str, **client_args) -> ScopeClient:
    client = ScopeClient(url, **client_args)
    await client.load_pipeline([PIPELINE], width=SIZE, height=SIZE)
    await client.wait_loaded(timeout=600)
    return client


async def until(condition, timeout: float) -> bool:
    """Wait for a state to be reached (delivery, not timing: the bound is only generous)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def server_parameters(url: str, session_id: str) -> dict:
    """What the real server holds for the active session: every message it received, merged
    (it names no session, so ours must be the only one)."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/api/v1/session/metrics") as r:
            active = list((await r.json())["sessions"])
        if active != [session_id]:
            pytest.fail(f"the real Scope server has other sessions active ({active}; ours {session_id}): "
                        "end them (DELETE /api/v1/webrtc/offer/<id>) or stop their clients")
        async with http.get(f"{url}/api/v1/session/parameters") as r:
            return (await r.json())["parameters"]


async def received_parameters(url: str, peer: ScopePeer | None, session_id: str) -> dict:
    if peer is None:
        return await server_parameters(url, session_id)
    merged: dict = dict(peer.session.initial)
    for _, message in peer.session.received:
        merged.update({k: v for k, v in message.items() if k not in BEAT_KEYS})
    return merged


def real_only(env: str, why: str):
    return pytest.mark.skipif(not os.environ.get(env), reason=f"{env} is not set: {why}")


@pytest.fixture
def engine_thread(osc_peer):
    """The engine on its own metronome thread and the real clock, with a scene to go to."""
    from oiduna_nb.engine import Engine, EngineConfig

    eng = Engine(EngineConfig(osc_port=osc_peer.port), midi=no_midi())
    body = seed_session_dict()
    body["scenes"] = {"drop": {"environment": {"bpm": 120}}}
    eng.load_session(Session.model_validate(body))
    yield eng
    eng.close()


# ---- REST ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_health_load_and_progress(target):
    async def body(url, peer):
        async with ScopeClient(url) as client:
            assert isinstance(await client.health(), dict)  # any 200 is healthy
            with pytest.raises(ScopeError, match="multiple of 64"):
                await client.load_pipeline([PIPELINE], width=500, height=512)
            seen = []
            await client.load_pipeline([PIPELINE], width=SIZE, height=SIZE)
            status = await client.wait_loaded(on_progress=lambda s, waited: seen.append(s), poll=0.05)
            assert status["status"] == "loaded" and seen[-1] == "loaded"
            assert status["pipeline_id"] == PIPELINE and status["load_params"] == {"width": SIZE, "height": SIZE}
            assert {"error", "loading_stage", "produces_video", "produces_audio"} <= set(status)
            if peer is not None:
                assert "loading" in seen and peer.loads[-1] == ([PIPELINE], {"width": SIZE, "height": SIZE})
            # loading again at another size: right after the load the server still says "loaded"
            # (the old one); the wait is for the new one
            await client.load_pipeline([PIPELINE], width=2 * SIZE, height=2 * SIZE)
            status = await client.wait_loaded(poll=0.05)
            assert status["load_params"] == {"width": 2 * SIZE, "height": 2 * SIZE}
            assert isinstance(await client.ice_servers(), list)

    run(body, target)


@pytest.mark.parametrize("target", TARGETS)
def test_the_other_endpoints_at_the_real_paths(target):
    async def body(url, peer):
        async with ScopeClient(url) as client:
            assert "vram_gb" in await client.hardware()
            assert "downloaded" in await client.models_status(PIPELINE)
            with pytest.raises(ScopeError, match="422"):  # the server wants the pipeline named
                await client.request("GET", "/api/v1/models/status")
            assert isinstance(await client.plugins(), dict)
            assert isinstance(await client.loras(), dict)
            assert (await client.tempo_status())["enabled"] is False  # off unless enabled

    run(body, target)


@pytest.mark.parametrize("target", TARGETS)
def test_a_failed_load_says_what_is_known(target):
    broken = "broken" if target == "peer" else "no-such-pipeline"

    async def body(url, peer):
        async with ScopeClient(url) as client:
            await client.load_pipeline([broken])
            # the real status has error: null, so no reason can be given but where to find it
            with pytest.raises(PipelineFailed, match="does not report why: see the Scope server's log"):
                await client.wait_loaded(poll=0.05)
            status = await client.pipeline_status()
            assert status["status"] == "not_loaded" and status["error"] is None  # reported once
            with pytest.raises(PipelineNotLoaded, match="load one first"):  # what was loaded is gone too
                await ScopeSession(client, [PIPELINE]).connect()
            if peer is not None:  # a later look at a failure that was already reported
                peer.load([broken], {})
                await asyncio.sleep(0.5)
                peer.read_status()
                with pytest.raises(PipelineFailed, match="status 'not_loaded'"):
                    await client.wait_loaded(poll=0.05, start_grace=0.5)

    run(body, target)


def test_clear_errors_unreachable_and_refused():
    async def body(url, peer):
        async with ScopeClient(f"http://127.0.0.1:{free_port()}", timeout=2) as gone:
            with pytest.raises(ScopeUnreachable, match="not reachable"):
                await gone.health()
        async with ScopeClient(url) as client:
            with pytest.raises(ScopeError, match="pipeline_ids is required"):
                await client.offer("v=0", {})

    run(body, "peer")


def test_transitions_allow_zero_steps_and_default_to_linear():
    from oiduna_nb.scope.params import Parameters

    cut = Parameters(transition={"target_prompts": prompts("sea"), "num_steps": 0}).changes()["transition"]
    assert cut["num_steps"] == 0 and cut["temporal_interpolation_method"] == "linear"
    assert Parameters(transition={"target_prompts": prompts("sea")}).changes()["transition"]["num_steps"] == 4


# ---- WebRTC -----------------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_video_comes_back_over_webrtc_with_vp8_first(target):
    async def body(url, peer):
        client = await loaded(url)
        frames = []
        session = ScopeSession(client, [PIPELINE], initial={"prompts": prompts("neon")},
                               on_frame=frames.append, size=(SIZE, SIZE))
        await session.connect()
        await asyncio.sleep(2.5)
        count = len(frames)
        video = session.pc.localDescription.sdp.split("m=video", 1)[1]
        first_payload = video.split("\r\n", 1)[0].split()[2]
        assert f"a=rtpmap:{first_payload} VP8/90000" in video  # VP8 preferred
        await session.close()
        await client.close()
        assert count >= 5, f"{count} frames in 2.5 s"  # frames keep coming (figures: bench/scope_real.py)
        assert frames[0].width == SIZE

    run(body, target)


@pytest.mark.parametrize("ice", [[], [{"urls": "stun:127.0.0.1:9"}]], ids=["none", "unreachable-stun"])
def test_the_client_uses_the_ice_servers_offered_or_none(ice):
    async def body(url, peer):
        client = await loaded(url)
        frames = []
        session = ScopeSession(client, [PIPELINE], on_frame=frames.append, size=(SIZE, SIZE))
        await session.connect()
        # none offered means none used (aiortc left alone would add a public STUN server)
        assert [s.urls for s in session.rtc_configuration.iceServers] == [s["urls"] for s in ice]
        assert await until(lambda: len(frames) > 5, 10)
        await session.close()
        await client.close()

    run(body, "peer", ice_servers=ice)


@pytest.mark.parametrize("target", TARGETS)
def test_recvonly_trickle_and_teardown(target):
    async def body(url, peer):
        client = await loaded(url)
        frames = []
        session = ScopeSession(client, [PIPELINE], on_frame=frames.append, direction="recvonly")
        await session.connect()
        await asyncio.sleep(1.5)
        assert frames == []  # recvonly yields no frames, as on the real server
        if peer is not None:
            assert peer.session.candidates, "the candidates were trickled"
        sid = session.session_id
        await session.close()
        await client.teardown(sid)  # 204 for a session that is gone
        await client.trickle(sid, [])  # 204: no candidates, so no session is looked up
        candidate = {"candidate": "candidate:1 1 udp 2130706431 127.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
        with pytest.raises(ScopeError, match="404"):
            await client.trickle(sid, [candidate])
        await client.close()

    run(body, target)


def test_server_messages_become_events_and_stream_stopped_on_close():
    async def body(url, peer):
        visuals = Visuals(url, [PIPELINE], size=(SIZE, SIZE))
        await visuals.load()
        events = []
        visuals.message_listeners.append(events.append)
        await visuals.connect()
        for kind in ("tempo_update", "change_scheduled", "change_applied"):
            peer.session.send({"type": kind})
        first = peer.session
        await first.stop()  # the server ends the stream
        assert await until(lambda: "stream_stopped" in [e["type"] for e in events], 5)
        assert [e["type"] for e in events] == ["tempo_update", "change_scheduled", "change_applied", "stream_stopped"]
        assert await until(lambda: visuals.reconnects == 1, 10)  # and the watchdog opens a new one
        assert list(peer.sessions.values())[-1] is not first
        await visuals.close()

    run(body, "peer")


# ---- parameters -------------------------------------------------------------------------------


def test_the_chunk_rate_is_read_from_bursts_and_not_from_stalls():
    from oiduna_nb.scope.sender import ChunkRate

    chunked = ChunkRate(default_interval=0.25)  # 3 frames a chunk, 10 chunks a second
    for chunk in range(40):
        for i in range(3):
            chunked.frame(chunk * 0.1 + i * 0.002)
    assert chunked.interval == pytest.approx(0.1, rel=0.05)
    # one frame a chunk at 25 fps, with a few stalls on the way (as seen from the real server
    # on a busy machine): still one frame a chunk, not one chunk per stall
    for stalls in ({29, 59, 89, 119}, {3, 11, 14, 30, 38, 41, 52, 60, 66, 77, 80, 93, 99, 104, 111}):
        single, t = ChunkRate(default_interval=0.25), 0.0
        for n in range(120):
            t += 0.12 if n in stalls else 0.033
            single.frame(t)
        assert single.interval == pytest.approx(0.033, rel=0.05), stalls


def test_parameters_coalesce_and_the_last_change_always_lands():
    async def body(url, peer):
        visuals = Visuals(url, [PIPELINE], size=(SIZE, SIZE))
        await visuals.load()
        await visuals.connect()
        await asyncio.sleep(1.0)  # frames come: the chunk rate is known
        for i in range(120):  # a slider dragged at 60 Hz for 2 s
            visuals.update(noise_scale=i / 200, prompts=prompts(f"frame {i}"))
            await asyncio.sleep(1 / 60)
        visuals.update(transition={"target_prompts": prompts("ocean"), "num_steps": 3})
        await asyncio.sleep(3.0)
        session = peer.session
        assert session.dropped == 0  # never more than the queue holds
        assert session.parameters["noise_scale"] == 119 / 200
        assert session.parameters["prompts"][0]["text"] == "ocean"  # the transition's end state
        sent = visuals.session.sender.sent
        gaps = [b[0] - a[0] for a, b in zip(sent, sent[1:])]
        assert sorted(gaps)[len(gaps) // 2] >= 0.095  # paced to the 10 chunks a second it applies
        assert min(gaps) >= 1 / 30 - 0.005  # and never above 30 Hz
        assert len(sent) < 60  # coalesced, not one message per change
        await visuals.close()

    run(body, "peer", chunk_rate=10)


@pytest.mark.parametrize("target", TARGETS)
def test_parameters_reach_the_server_and_the_final_state_holds(target):
    async def body(url, peer):
        visuals = Visuals(url, [PIPELINE], size=(SIZE, SIZE))
        try:
            await visuals.load()
            await visuals.connect()
            await asyncio.sleep(1.5)
            for i in range(60):
                visuals.update(noise_scale=round(i / 100, 2), prompts=prompts(f"step {i}", ("fog", 0.5)))
                await asyncio.sleep(1 / 60)
            visuals.update(transition={"target_prompts": prompts("ocean"), "num_steps": 0})
            await asyncio.sleep(3.0)
            held = await received_parameters(url, peer, visuals.session.session_id)
            assert held["noise_scale"] == 0.59
            assert held["prompts"] == prompts("ocean")  # the transition's end state, sent once settled
            assert held["transition"]["num_steps"] == 0
            assert not BEAT_KEYS & set(held)  # tempo sync is off: no beat state was sent
            assert visuals.reconnects == 0
            # the server does not confirm data-channel updates: nothing waits for parameters_updated
            assert not [m for m in visuals.session.messages if m.get("type") == "parameters_updated"]
        finally:
            await visuals.close()

    run(body, target)


def test_beat_state_is_sent_whole_only_while_the_server_uses_it_and_never_costs_a_prompt():
    async def body(url, peer):
        visuals = Visuals(url, [PIPELINE], size=(SIZE, SIZE))
        await visuals.load()
        await visuals.connect()
        await asyncio.sleep(1.0)

        async def play(seconds: float, label: str) -> None:
            """Steps at 120 bpm (beat state each time) while a prompt slider is dragged, then
            the music goes on with the prompts left alone."""
            end, step = time.monotonic() + seconds, 0
            while time.monotonic() < end + 1.5:
                visuals.update(bpm=120.0, beat_phase=(step % 4) / 4, bar_position=(step % 16) / 16,
                               beat_count=step // 4, is_playing=True)
                if time.monotonic() < end:
                    visuals.update(prompts=prompts(f"{label} {step}"))
                elif "final" not in visuals.state["prompts"][0]["text"]:
                    visuals.update(prompts=prompts(f"{label} final"))
                step += 1
                await asyncio.sleep(0.125)

        await play(2.0, "off")
        await asyncio.sleep(1.5)
        assert not any(BEAT_KEYS & set(m) for _, m in peer.session.received)  # off: never sent
        assert peer.session.parameters["prompts"] == prompts("off final")

        async with aiohttp.ClientSession() as http:
            await http.post(f"{url}/api/v1/tempo/enable", json={"source": "midi_clock"})
        await play(3.0, "on")
        await asyncio.sleep(2.0)
        session = peer.session
        with_beat = [m for _, m in session.received if BEAT_KEYS & set(m)]
        assert with_beat and all(BEAT_KEYS <= set(m) for m in with_beat)  # always whole
        assert peer.tempo.recorded[-1]["bpm"] == 120.0  # it took effect
        assert session.dropped == 0  # never at the cost of an update
        assert session.parameters["prompts"] == prompts("on final")
        assert {} in [u for _, u in session.applied]  # a beat-only message still takes a slot
        await visuals.close()

    run(body, "peer", chunk_rate=8)


@real_only("SCOPE_TEMPO", "the real server's tempo sync cannot be enabled (it needs a Link or MIDI-clock source)")
def test_beat_state_from_the_music_takes_effect_on_the_real_server(engine_thread):
    async def body(url, _):
        async with aiohttp.ClientSession() as http:
            r = await http.post(f"{url}/api/v1/tempo/enable", json={"source": "midi_clock"})
            assert r.status == 200, await r.text()
        visuals = Visuals(url, [PIPELINE], size=(SIZE, SIZE))
        try:
            await visuals.load()
            await visuals.connect()
            link = MusicLink(engine_thread, visuals).start()
            engine_thread.update_environment({"bpm": 133})
            engine_thread.start()
            await asyncio.sleep(3.0)
            async with aiohttp.ClientSession() as http, http.get(f"{url}/api/v1/tempo/status") as r:
                beat = (await r.json())["beat_state"]
            link.stop()
            engine_thread.stop()
            assert beat["source"] == "client" and beat["bpm"] == 133.0 and beat["is_playing"] is True
            sent = [m for _, m in visuals.session.sender.sent if BEAT_KEYS & set(m)]
            assert sent and all(BEAT_KEYS <= set(m) for m in sent)
        finally:
            await visuals.close()
            async with aiohttp.ClientSession() as http:
                await http.post(f"{url}/api/v1/tempo/disable")

    run(body, "real")


# ---- the watchdog -------------------------------------------------------------------------------


def test_watchdog_reconnects_with_backoff_and_keeps_the_prompts():
    async def body(url, peer):
        notes = []
        visuals = Visuals(url, [PIPELINE], size=(SIZE, SIZE), frame_timeout=1.0, report=notes.append)
        await visuals.load()
        visuals.update(prompts=prompts("forest", ("fog", 0.5)))
        await visuals.connect()
        await asyncio.sleep(1.0)
        peer.session.crashed = True  # the pipeline dies: nothing more comes
        assert await until(lambda: visuals.reconnects > 0, 10)
        assert visuals.reconnects == 1 and any("reconnecting in 1 s" in n for n in notes)
        assert visuals.reloads == 0  # the pipeline was still loaded
        newest = list(peer.sessions.values())[-1]
        assert newest.initial["prompts"] == prompts("forest", ("fog", 0.5))
        await asyncio.sleep(1.0)
        assert visuals.session.frames > 0
        await visuals.close()

    run(body, "peer")


async def restart_real_server() -> None:
    proc = await asyncio.create_subprocess_shell(os.environ["SCOPE_RESTART_CMD"])
    assert await proc.wait() == 0, "SCOPE_RESTART_CMD failed"


@pytest.mark.parametrize("target", [
    "peer",
    pytest.param("real", marks=[
        real_only("SCOPE_URL", "no real Scope server"),
        real_only("SCOPE_RESTART_CMD", "the test cannot restart the real Scope server"),
    ]),
])
def test_watchdog_reloads_the_pipeline_after_a_server_restart(target):
    async def body(url, peer):
        notes = []
        visuals = Visuals(url, [PIPELINE], size=(SIZE, SIZE), frame_timeout=1.5, report=notes.append)
        try:
            await visuals.load()
            visuals.update(prompts=prompts("after the storm", ("gold", 0.4)))
            await visuals.connect()
            await until(lambda: visuals.session.frames > 0, 20)
            if peer is not None:
                await peer.restart()
            else:
                await restart_real_server()
            # it comes back on its own: reloaded, reconnected, the prompts kept, frames again
            assert await until(lambda: visuals.reconnects > 0 and visuals.session.frames > 0, 240), notes
            assert visuals.reloads >= 1 and any("loading passthrough again" in n for n in notes)
            held = await received_parameters(url, peer, visuals.session.session_id)
            assert held["prompts"] == prompts("after the storm", ("gold", 0.4))
        finally:
            await visuals.close()

    run(body, target)


@pytest.mark.parametrize("target", TARGETS)
def test_a_pause_is_not_a_crash(target):
    async def body(url, peer):
        notes = []
        visuals = Visuals(url, [PIPELINE], size=(SIZE, SIZE), frame_timeout=1.0, report=notes.append)
        try:
            await visuals.load()
            visuals.update(paused=True)
            await visuals.connect()  # a session that starts paused gets no frame at all
            await asyncio.sleep(3.5)
            assert visuals.session.frames == 0
            assert visuals.reconnects == 0, notes
            visuals.update(paused=False)
            assert await until(lambda: visuals.session.frames > 0, 10)
            visuals.update(paused=True)  # and paused later
            await asyncio.sleep(3.0)
            assert visuals.reconnects == 0, notes
            visuals.update(paused=False)
            await asyncio.sleep(2.0)
            assert visuals.reconnects == 0, notes
        finally:
            await visuals.close()

    run(body, target)


# ---- the music link and the panel ----------------------------------------------------------------


def test_the_music_drives_the_visuals(engine, clock):
    class Recorder:
        session = None

        def __init__(self):
            self.updates = []

        def update(self, **changes):
            self.updates.append(changes)

    body = seed_session_dict()
    body["scenes"] = {"drop": {"environment": {"bpm": 120}}}
    engine.load_session(Session.model_validate(body))
    visuals = Recorder()

    async def main():
        link = MusicLink(engine, visuals, scene_prompts={"drop": ["strobe tunnel", ("red", 0.7)]})
        link.on("position", lambda e: {"noise_scale": 0.5} if e.data["step"] % 16 == 0 else None)
        link.start(asyncio.get_running_loop())
        engine.start()
        run_for(engine, clock, 0.125 * 6)
        await asyncio.sleep(0.05)
        engine.activate_scene("drop", BoundaryTiming(type="boundary", unit="bar"))
        await asyncio.sleep(0.05)
        link.stop()

    asyncio.run(main())
    beats = [u for u in visuals.updates if "beat_phase" in u]
    assert beats and beats[0] == {"bpm": 120.0, "beat_phase": 0.0, "bar_position": 0.0, "beat_count": 0, "is_playing": True}
    assert {"noise_scale": 0.5} in visuals.updates  # the hook
    (transition,) = [u["transition"] for u in visuals.updates if "transition" in u]
    assert transition["target_prompts"] == prompts("strobe tunnel", ("red", 0.7))
    # it lands on the bar: steps to the bar x step length / chunk length (0.25 s default)
    now = engine.status()["position"]["step"]
    assert transition["num_steps"] == max(1, round((16 - now) * 0.125 / 0.25))


@pytest.mark.parametrize("target", TARGETS)
def test_the_music_drives_the_server(target, engine_thread):
    async def body(url, peer):
        visuals = Visuals(url, [PIPELINE], size=(SIZE, SIZE))
        try:
            await visuals.load()
            await visuals.connect()
            link = MusicLink(engine_thread, visuals, scene_prompts={"drop": ["strobe tunnel", ("red", 0.7)]})
            link.start()
            engine_thread.start()
            await asyncio.sleep(1.0)
            engine_thread.activate_scene("drop", BoundaryTiming(type="boundary", unit="bar"))
            await asyncio.sleep(4.0)
            link.stop()
            engine_thread.stop()
            held = await received_parameters(url, peer, visuals.session.session_id)
            assert held["transition"]["target_prompts"] == prompts("strobe tunnel", ("red", 0.7))
            assert held["prompts"] == prompts("strobe tunnel", ("red", 0.7))  # its end state
            assert not any(BEAT_KEYS & set(m) for _, m in visuals.session.sender.sent)  # tempo sync off
        finally:
            await visuals.close()

    run(body, target)


@pytest.mark.parametrize("target", TARGETS)
def test_the_scope_panel_shows_live_video_and_sends_what_is_edited(target, engine):
    from oiduna_nb.widgets.scope import ScopePanel

    async def body(url, peer):
        panel = ScopePanel(url, PIPELINE, width=SIZE, engine=engine)
        try:
            await panel.connect()
            assert panel.status.value == "connected" and panel.link is not None  # the music drives it
            panel.prompt_rows.children[0].children[0].value = "glass forest"
            panel.add_prompt("aurora", 0.6)
            panel.steps.value = 0
            panel.apply_prompts()
            await asyncio.sleep(3.0)
            assert panel.video.frame[:2] == b"\xff\xd8"  # a JPEG
            assert panel.video.frames >= 5 and panel.video.fps > 0, f"{panel.video.frames} frames shown in 3 s"
            panel.pause.value = True
            panel.steps.value = 6
            panel.prompt_rows.children[1].children[1].value = 1.2
            panel.apply_prompts()
            await asyncio.sleep(1.5)
            held = await received_parameters(url, peer, panel.visuals.session.session_id)
            assert held["paused"] is True
            assert held["transition"]["num_steps"] == 6
            assert held["transition"]["target_prompts"] == [{"text": "glass forest", "weight": 1.0},
                                                            {"text": "aurora", "weight": 1.2}]
            assert panel.visuals.reconnects == 0  # paused is not a crash
        finally:
            await panel.disconnect()
        panel.close()

    run(body, target, chunk_rate=15)


# ---- through the project's own API -----------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_the_client_loads_and_connects_through_the_apis_scope_proxy(target, osc_peer, tmp_path):
    from .server_harness import RunningServer

    async def body(url, peer):
        api = RunningServer(osc_peer.port, tmp_path, no_midi(), scope_url=url, scope_proxy_enable=True,
                            scope_proxy_token="proxy-secret")
        try:
            proxied = f"{api.url}/api/scope"
            with pytest.raises(ScopeError, match="401"):  # writes need the token
                await ScopeClient(proxied).load_pipeline([PIPELINE], width=SIZE, height=SIZE)
            visuals = Visuals(proxied, [PIPELINE], size=(SIZE, SIZE), token="proxy-secret")
            await visuals.load()  # POST load and GET status through the proxy
            visuals.update(prompts=prompts("through the proxy"))
            await visuals.connect()  # the offer, then trickle ICE (204) through it
            assert await until(lambda: visuals.session.frames > 5, 20)
            client = visuals.client
            assert "downloaded" in await client.models_status(PIPELINE)  # the query string goes along
            assert "vram_gb" in await client.hardware()
            assert (await client.tempo_status())["enabled"] is False
            sid = visuals.session.session_id
            await visuals.close()  # teardown: DELETE answered 204 through the proxy
            if peer is not None:
                assert sid not in peer.sessions
            async with ScopeClient(proxied, token="proxy-secret") as again:
                await again.trickle(sid, [])  # 204 with no body, passed through
        finally:
            api.close()

    run(body, target)
