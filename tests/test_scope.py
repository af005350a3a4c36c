"""The Scope client against a Scope-compatible peer (and against a real Scope server when
SCOPE_URL is set: the same tests, on its CPU pipelines)."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from oiduna_nb.engine import BoundaryTiming, Session
from oiduna_nb.scope.client import PipelineFailed, PipelineNotLoaded, ScopeClient, ScopeError, ScopeUnreachable
from oiduna_nb.scope.music import MusicLink
from oiduna_nb.scope.params import prompts
from oiduna_nb.scope.session import ScopeSession
from oiduna_nb.scope.visuals import Visuals

from .conftest import run_for, seed_session_dict
from .scope_peer import ScopePeer
from .server_harness import free_port

TARGETS = ["peer"] + (["real"] if os.environ.get("SCOPE_URL") else [])
PIPELINE = {"peer": "passthrough", "real": "passthrough"}


def run(coro_fn, target: str, **peer_args):
    """Run a test body on a fresh loop with the peer (or the real server's URL)."""

    async def main():
        if target == "real":
            return await coro_fn(os.environ["SCOPE_URL"], None)
        peer = ScopePeer(**peer_args).start()
        try:
            return await coro_fn(peer.url, peer)
        finally:
            await peer.stop()

    return asyncio.run(main())


async def loaded(url: str) -> ScopeClient:
    client = ScopeClient(url)
    await client.load_pipeline([PIPELINE["peer"]], width=128, height=128)
    await client.wait_loaded(timeout=600)
    return client


@pytest.mark.parametrize("target", TARGETS)
def test_health_load_and_progress(target):
    async def body(url, peer):
        async with ScopeClient(url) as client:
            assert isinstance(await client.health(), dict)  # any 200 is healthy
            with pytest.raises(ScopeError, match="multiple of 64"):
                await client.load_pipeline(["passthrough"], width=500, height=512)
            seen = []
            await client.load_pipeline(["passthrough"], width=128, height=128)
            status = await client.wait_loaded(on_progress=lambda s, waited: seen.append(s), poll=0.05)
            assert status["status"] == "loaded" and seen[-1] == "loaded"
            if peer is not None:
                assert "loading" in seen and peer.loads[-1] == (["passthrough"], {"width": 128, "height": 128})
            assert isinstance(await client.ice_servers(), list)

    run(body, target)


def test_a_failed_load_is_reported_with_its_reason():
    async def body(url, peer):
        async with ScopeClient(url) as client:
            await client.load_pipeline(["broken"])
            with pytest.raises(PipelineFailed, match="CUDA out of memory"):
                await client.wait_loaded(poll=0.05)
            # the error is reported once; a later look reads not_loaded, which after a load is a failure too
            peer.load(["broken"], {})
            await asyncio.sleep(0.5)
            peer.read_status()
            with pytest.raises(PipelineFailed, match="not loaded after the load began"):
                await client.wait_loaded(poll=0.05)

    run(body, "peer")


def test_clear_errors_unreachable_not_loaded_refused():
    async def body(url, peer):
        async with ScopeClient(f"http://127.0.0.1:{free_port()}", timeout=2) as gone:
            with pytest.raises(ScopeUnreachable, match="not reachable"):
                await gone.health()
        async with ScopeClient(url) as client:
            with pytest.raises(PipelineNotLoaded, match="load one first"):
                await ScopeSession(client, ["passthrough"]).connect()
            with pytest.raises(ScopeError, match="pipeline_ids is required"):
                await client.offer("v=0", {})

    run(body, "peer")


@pytest.mark.parametrize("target", TARGETS)
def test_video_comes_back_over_webrtc_with_vp8_first(target):
    async def body(url, peer):
        client = await loaded(url)
        frames = []
        session = ScopeSession(client, [PIPELINE[target]], initial={"prompts": prompts("neon")},
                               on_frame=frames.append, size=(128, 128))
        await session.connect()
        start = time.monotonic()
        await asyncio.sleep(2.5)
        fps = len(frames) / (time.monotonic() - start)
        video = session.pc.localDescription.sdp.split("m=video", 1)[1]
        first_payload = video.split("\r\n", 1)[0].split()[2]
        assert f"a=rtpmap:{first_payload} VP8/90000" in video  # VP8 preferred
        await session.close()
        await client.close()
        assert fps >= 10, f"{fps:.1f} frames per second"
        if peer is not None:
            assert frames[0].width == 128

    run(body, target)


def test_recvonly_and_trickle_and_teardown():
    async def body(url, peer):
        client = await loaded(url)
        frames = []
        session = ScopeSession(client, ["passthrough"], on_frame=frames.append, direction="recvonly")
        await session.connect()
        await asyncio.sleep(1.5)
        assert frames == []  # recvonly yields no frames, as on the real server
        assert peer.session.candidates, "the candidates were trickled"
        messages = []
        session.on_message = messages.append
        sid = session.session_id
        await session.close()
        assert sid not in peer.sessions
        with pytest.raises(ScopeError):
            await client.trickle(sid, [])  # 404 for an unknown session
        await client.close()

    run(body, "peer")


def test_server_messages_become_events_and_stream_stopped_on_close():
    async def body(url, peer):
        visuals = Visuals(url, ["passthrough"], size=(128, 128))
        await visuals.load()
        events = []
        visuals.message_listeners.append(events.append)
        await visuals.connect()
        for kind in ("parameters_updated", "tempo_update", "change_scheduled", "change_applied"):
            peer.session.send({"type": kind})
        await peer.session.stop()  # the server ends the stream
        await asyncio.sleep(0.5)
        assert [e["type"] for e in events] == [
            "parameters_updated", "tempo_update", "change_scheduled", "change_applied", "stream_stopped"
        ]
        assert visuals.status == "stream stopped"
        await visuals.close()

    run(body, "peer")


def test_parameters_coalesce_and_the_last_change_always_lands():
    async def body(url, peer):
        visuals = Visuals(url, ["passthrough"], size=(128, 128))
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


def test_watchdog_reconnects_with_backoff_and_keeps_the_prompts():
    async def body(url, peer):
        notes = []
        visuals = Visuals(url, ["passthrough"], size=(128, 128), frame_timeout=1.0, report=notes.append)
        await visuals.load()
        visuals.update(prompts=prompts("forest", ("fog", 0.5)))
        await visuals.connect()
        await asyncio.sleep(1.0)
        peer.session.crashed = True  # the pipeline dies: nothing more comes
        deadline = time.monotonic() + 10
        while visuals.reconnects == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert visuals.reconnects == 1 and any("reconnecting in 1 s" in n for n in notes)
        newest = list(peer.sessions.values())[-1]
        assert newest.initial["prompts"] == prompts("forest", ("fog", 0.5))
        await asyncio.sleep(1.0)
        assert visuals.session.frames > 0
        await visuals.close()

    run(body, "peer")


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


def test_the_scope_panel_shows_live_video_and_sends_what_is_edited(engine, clock):
    from oiduna_nb.widgets.scope import ScopePanel

    async def body(url, peer):
        panel = ScopePanel(url, "passthrough", width=128, engine=engine)
        await panel.connect()
        assert panel.status.value == "connected" and panel.link is not None  # the music drives it
        panel.prompt_rows.children[0].children[0].value = "glass forest"
        panel.add_prompt("aurora", 0.6)
        panel.steps.value = 0
        panel.apply_prompts()
        panel.pause.value = True
        start = time.monotonic()
        await asyncio.sleep(3.0)
        shown = panel.video.frames / (time.monotonic() - start)
        assert panel.video.frame[:2] == b"\xff\xd8"  # a JPEG
        assert shown >= 10, f"{shown:.1f} frames per second shown"
        params = peer.session.parameters
        assert params["prompts"] == [{"text": "glass forest", "weight": 1.0}, {"text": "aurora", "weight": 0.6}]
        assert params["paused"] is True
        panel.steps.value = 6
        panel.prompt_rows.children[1].children[1].value = 1.2
        panel.apply_prompts()
        await asyncio.sleep(1.0)
        assert peer.session.parameters["transition"]["num_steps"] == 6
        await panel.disconnect()
        panel.close()

    run(body, "peer", chunk_rate=15)
