"""A Scope-compatible peer for the tests (tornado + aiortc), behaving as the real server
(daydreamlive/scope v0.2.4, read from its source and run here on CPU; ARCHITECTURE §5):

- health; the load lifecycle: for a moment the state before the load (the real server
  starts loading in a task), then ``loading``, then ``loaded``, or ``error`` once (with
  ``error: null``: the real server logs the reason and does not track it) and then
  ``not_loaded``, the pipeline loaded before unloaded too; the status carries
  ``pipeline_id``, ``load_params``, ``loaded_lora_adapters``, ``error``, ``loading_stage``,
  ``produces_video``, ``produces_audio``;
- the offer: 400 when nothing is loaded; frames only with ``initialParameters.pipeline_ids``
  and a sendrecv video transceiver; trickle ICE 204, and for an unknown session 204 with no
  candidates and 404 with some; teardown 204, known session or not;
- the ICE servers it is given (none by default; the real server offers a public STUN);
- the ``parameters`` channel: an 8-deep queue applying one update per generated chunk,
  dropping what does not fit; ``paused`` taking effect at once: a paused session repeats
  its last frame (the real track freezes the picture), and one that starts paused sends no
  frame until it is resumed; beat keys taken out of every message at once and recorded only
  while tempo sync is enabled (off by default; ``/api/v1/tempo/status|enable|disable``) and
  only when ``bpm`` and ``beat_phase`` come together, the rest queued even when empty
  (``{}``); ``tempo_update`` at 15 Hz while enabled; never ``parameters_updated`` for a
  data-channel update; ``stream_stopped`` when the stream ends;
- a restart (``restart()``): the HTTP port goes away for a moment, sessions end without a
  word, and it comes back with nothing loaded and tempo sync off;
- the other endpoints at the real paths: ``/api/v1/hardware/info``, ``/api/v1/models/status``
  (422 without ``?pipeline_id=``), ``/api/v1/models/download``, ``/api/v1/assets[/path]``,
  ``/api/v1/loras``, ``/api/v1/plugins``; unknown paths 404 with a JSON ``detail``.

Differences that remain (none of them changes what the client sees on the points above):
the video is generated colour, not a pipeline's output, and comes at ``chunk_rate`` x
``frames_per_chunk`` frames a second; pipelines other than ``broken`` always load, at once
after ``load_delay``; ``broken`` stands for any pipeline that fails; no ``loading_stage``
is reported (passthrough reports none either); tempo sync can be enabled without Link or a
MIDI device (the real server answers 400 when it has neither) and its own clock stands
still at 120 bpm; ``transition`` is merged as a parameter, not interpolated; the peer applies
updates at an even pace where the real server's pace is uneven (a sender pacing at exactly
its chunk rate lost 4 of 88 updates there and none here); while paused the
real server still applies queued updates, about one per 10 ms, the peer one per 10 ms too;
a real restart takes seconds, the peer's ``restart_delay``; bodies are not validated
beyond what the client relies on (the real server's FastAPI answers 422 for malformed ones).
"""

from __future__ import annotations

import asyncio
import collections
import fractions
import json
import time
import uuid
from typing import Any

import av
import numpy as np
import tornado.web
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

QUEUE_DEPTH = 8
BEAT_KEYS = ("bpm", "beat_phase", "bar_position", "beat_count", "is_playing")
PAUSED_APPLY_INTERVAL = 0.01  # the real pipeline worker's sleep while paused
TEMPO_UPDATE_INTERVAL = 1 / 15
LOAD_TASK_START = 0.15  # until then a load reads as the state before it


class GeneratedTrack(MediaStreamTrack):
    """Frames made per chunk, handed out as they come (in bursts, like a real pipeline)."""

    kind = "video"

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.frames: asyncio.Queue = asyncio.Queue()
        self.pts = 0
        self.last: np.ndarray | None = None

    def produce(self, shade: int) -> None:
        self.last = np.full((self.size, self.size, 3), (shade, 200 - shade // 2, 90), dtype=np.uint8)
        self._put(self.last)

    def repeat_last(self) -> None:
        """A paused track freezes the picture: the last frame again (none if there was none)."""
        if self.last is not None:
            self._put(self.last)

    def _put(self, image: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = self.pts, fractions.Fraction(1, 90000)
        self.pts += 3000
        self.frames.put_nowait(frame)

    async def recv(self) -> av.VideoFrame:
        return await self.frames.get()


class Tempo:
    """The server's tempo sync: off unless enabled; a client's beat state counts only when
    ``bpm`` and ``beat_phase`` arrive together."""

    STALE = 2.0  # seconds after which a client's beat state no longer counts

    def __init__(self) -> None:
        self.enabled = False
        self.source: str | None = None
        self.client_state: dict[str, Any] | None = None
        self.client_at = 0.0
        self.recorded: list[dict[str, Any]] = []  # every client beat state taken

    def take(self, beat: dict[str, Any]) -> None:
        if self.enabled and "bpm" in beat and "beat_phase" in beat:
            state = {
                "bpm": float(beat["bpm"]),
                "beat_phase": float(beat["beat_phase"]),
                "bar_position": float(beat.get("bar_position", beat["beat_phase"])),
                "beat_count": int(beat.get("beat_count", 0)),
                "is_playing": bool(beat.get("is_playing", True)),
            }
            self.client_state, self.client_at = state, time.time()
            self.recorded.append(state)

    def state(self) -> dict[str, Any] | None:
        if not self.enabled:
            return None
        if self.client_state is not None and time.time() - self.client_at < self.STALE:
            return {**self.client_state, "source": "client"}
        return {"bpm": 120.0, "beat_phase": 0.0, "bar_position": 0.0, "beat_count": 0, "is_playing": False,
                "source": self.source}

    def status(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "source": {"type": self.source} if self.source else None,
                "beats_per_bar": 4, "beat_state": self.state()}


class PeerSession:
    def __init__(self, peer: "ScopePeer", pc: RTCPeerConnection, initial: dict[str, Any], track: GeneratedTrack | None) -> None:
        self.peer = peer
        self.pc = pc
        self.initial = initial
        self.track = track
        self.channel: Any = None
        self.queue: collections.deque = collections.deque()
        self.applied: list[tuple[float, dict[str, Any]]] = []  # (time, update)
        self.parameters: dict[str, Any] = {k: v for k, v in initial.items() if k not in BEAT_KEYS}
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.dropped = 0
        self.candidates: list[dict] = []
        self.crashed = False
        self.paused = bool(initial.get("paused", False))
        self.task = asyncio.ensure_future(self.run())

    def on_message(self, raw: str) -> None:
        update = json.loads(raw)
        self.received.append((time.monotonic(), dict(update)))
        if "paused" in update:  # at once, before the queue
            self.paused = bool(update["paused"])
        self.peer.tempo.take({k: update[k] for k in BEAT_KEYS if k in update})
        update = {k: v for k, v in update.items() if k not in BEAT_KEYS}  # the rest, even {}, takes a slot
        if len(self.queue) >= QUEUE_DEPTH:
            self.dropped += 1  # as the real server: the update is dropped
        else:
            self.queue.append(update)

    async def run(self) -> None:
        """One chunk per ``1/chunk_rate``: apply one queued update, make its frames. Paused,
        updates are applied every 10 ms and the last frame is repeated at the same pace."""
        n = 0
        next_chunk = time.monotonic()
        while True:
            await asyncio.sleep(PAUSED_APPLY_INTERVAL if self.paused else max(0.0, next_chunk - time.monotonic()))
            if self.crashed:
                next_chunk = time.monotonic() + 1.0 / self.peer.chunk_rate
                continue  # a crashed pipeline sends nothing
            self._apply_one()
            if time.monotonic() < next_chunk:
                continue
            next_chunk += 1.0 / self.peer.chunk_rate
            if self.track is None:
                continue
            n += 1
            for _ in range(self.peer.frames_per_chunk):
                if self.paused:
                    self.track.repeat_last()
                else:
                    self.track.produce((n * 17) % 200)

    def _apply_one(self) -> None:
        if self.queue:
            update = self.queue.popleft()
            if "prompts" in update and "transition" not in update:
                self.parameters.pop("transition", None)
            self.parameters.update(update)
            self.applied.append((time.monotonic(), update))

    def send(self, message: dict[str, Any]) -> None:
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(json.dumps(message))

    async def stop(self) -> None:
        self.send({"type": "stream_stopped"})
        await asyncio.sleep(0.1)
        await self.vanish()

    async def vanish(self) -> None:
        """Gone without a word, as when the server process dies."""
        self.task.cancel()
        await self.pc.close()


class Handler(tornado.web.RequestHandler):
    def initialize(self, peer: "ScopePeer") -> None:
        self.peer = peer

    def body_json(self) -> Any:
        return json.loads(self.request.body or b"null")

    def fail(self, status: int, detail: Any) -> None:
        self.set_status(status)
        self.finish({"detail": detail})

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish({"detail": self._reason})


class Health(Handler):
    def get(self) -> None:
        self.finish({"status": "healthy", "version": "peer"})


class Load(Handler):
    def post(self) -> None:
        body = self.body_json() or {}
        ids = body.get("pipeline_ids")
        if not ids:
            return self.fail(400, "Either 'pipelines' or 'pipeline_ids' must be provided")
        self.peer.load(ids, body.get("load_params") or {})
        self.finish({"message": "Pipeline loading initiated successfully"})


class Status(Handler):
    def get(self) -> None:
        self.finish(self.peer.read_status())


class Ice(Handler):
    def get(self) -> None:
        self.finish({"iceServers": self.peer.ice_servers})


class Offer(Handler):
    async def post(self) -> None:
        if self.peer.status != "loaded":
            return self.fail(400, "Pipeline not loaded. Please load pipeline first.")
        body = self.body_json()
        initial = body.get("initialParameters") or {}
        servers = [RTCIceServer(**s) for s in self.peer.ice_servers]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        await pc.setRemoteDescription(RTCSessionDescription(body["sdp"], body["type"]))
        video_offered = [t for t in pc.getTransceivers() if t.kind == "video"]
        sends_video = any(t.direction in ("sendrecv", "recvonly") for t in video_offered)
        client_sends = "a=sendrecv" in body["sdp"].split("m=video", 1)[-1].split("m=", 1)[0]
        track = None
        if video_offered and initial.get("pipeline_ids") and client_sends and sends_video:
            track = GeneratedTrack(self.peer.frame_size)
            pc.addTrack(track)
        session = PeerSession(self.peer, pc, initial, track)

        @pc.on("datachannel")
        def on_channel(channel: Any) -> None:
            if channel.label == "parameters":
                session.channel = channel
                channel.on("message", session.on_message)

        await pc.setLocalDescription(await pc.createAnswer())
        session_id = uuid.uuid4().hex
        self.peer.sessions[session_id] = session
        self.finish({"sdp": pc.localDescription.sdp, "type": pc.localDescription.type, "sessionId": session_id})


class OfferSession(Handler):
    def patch(self, session_id: str) -> None:
        candidates = (self.body_json() or {}).get("candidates", [])
        session = self.peer.sessions.get(session_id)
        if session is None and candidates:  # the real server looks the session up per candidate
            return self.fail(404, f"Session {session_id} not found")
        if session is not None:
            session.candidates += candidates
        self.set_status(204)
        self.finish()

    async def delete(self, session_id: str) -> None:
        session = self.peer.sessions.pop(session_id, None)
        if session is not None:
            await session.stop()
        self.set_status(204)
        self.finish()


class TempoStatus(Handler):
    def get(self) -> None:
        self.finish(self.peer.tempo.status())


class TempoEnable(Handler):
    def post(self) -> None:
        source = (self.body_json() or {}).get("source")
        if source not in ("link", "midi_clock"):
            return self.fail(422, [{"type": "literal_error", "loc": ["body", "source"],
                                    "msg": "Input should be 'link' or 'midi_clock'"}])
        self.peer.tempo.enabled, self.peer.tempo.source = True, source
        self.finish(self.peer.tempo.status())


class TempoDisable(Handler):
    def post(self) -> None:
        self.peer.tempo.enabled, self.peer.tempo.source, self.peer.tempo.client_state = False, None, None
        self.finish(self.peer.tempo.status())


class Hardware(Handler):
    def get(self) -> None:
        absent = {"available": False, "reason": "not on this machine", "install_hint": None}
        self.finish({"vram_gb": None, "spout": absent, "ndi": absent, "syphon": absent})


class ModelsStatus(Handler):
    def get(self) -> None:
        if self.get_query_argument("pipeline_id", None) is None:
            return self.fail(422, [{"type": "missing", "loc": ["query", "pipeline_id"], "msg": "Field required",
                                    "input": None}])
        self.finish({"downloaded": True, "progress": None})


class Listing(Handler):
    """Assets, LoRAs, plugins, model downloads: enough to show the client calls them right."""

    def get(self, *_: str) -> None:
        self.finish({"path": self.request.path, "items": []})

    def post(self, *_: str) -> None:
        self.finish({"path": self.request.path, "accepted": self.body_json()})


class NotFound(Handler):
    def prepare(self) -> None:
        if self.request.method == "GET":
            self.fail(404, "Frontend not built")
        else:
            self.fail(405, "Method Not Allowed")


class ScopePeer:
    def __init__(
        self, chunk_rate: float = 10.0, frames_per_chunk: int = 3, frame_size: int = 128, load_delay: float = 0.3,
        extra_routes: list | None = None, ice_servers: list[dict[str, Any]] | None = None,
        restart_delay: float = 0.5,
    ) -> None:
        self.chunk_rate = chunk_rate
        self.frames_per_chunk = frames_per_chunk
        self.frame_size = frame_size
        self.load_delay = load_delay
        self.restart_delay = restart_delay
        self.ice_servers = list(ice_servers or [])
        self.status = "not_loaded"
        self.loaded: tuple[list[str], dict] | None = None
        self.tempo = Tempo()
        self.sessions: dict[str, PeerSession] = {}
        self.loads: list[tuple[list[str], dict]] = []
        self.restarts = 0
        args = {"peer": self}
        self.app = tornado.web.Application([
            *(extra_routes or []),
            (r"/health", Health, args),
            (r"/api/v1/pipeline/load", Load, args),
            (r"/api/v1/pipeline/status", Status, args),
            (r"/api/v1/webrtc/ice-servers", Ice, args),
            (r"/api/v1/webrtc/offer", Offer, args),
            (r"/api/v1/webrtc/offer/([^/]+)", OfferSession, args),
            (r"/api/v1/tempo/status", TempoStatus, args),
            (r"/api/v1/tempo/enable", TempoEnable, args),
            (r"/api/v1/tempo/disable", TempoDisable, args),
            (r"/api/v1/hardware/info", Hardware, args),
            (r"/api/v1/models/status", ModelsStatus, args),
            (r"/api/v1/(models/download|assets|assets/.+|loras|plugins)", Listing, args),
            (r"/.*", NotFound, args),
        ])
        self.server: Any = None
        self.port = 0
        self.url = ""
        self._tempo_task: asyncio.Task | None = None

    def start(self) -> "ScopePeer":
        from tornado.httpserver import HTTPServer
        from tornado.netutil import bind_sockets

        sockets = bind_sockets(self.port, "127.0.0.1")
        self.server = HTTPServer(self.app)
        self.server.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._tempo_task = asyncio.ensure_future(self._tempo_updates())
        return self

    async def stop(self) -> None:
        for session in list(self.sessions.values()):
            await session.stop()
        self.sessions.clear()
        self._stop_listening()

    def _stop_listening(self) -> None:
        self.server.stop()
        if self._tempo_task is not None:
            self._tempo_task.cancel()

    async def restart(self) -> None:
        """As the real server killed and started again: sessions gone without a word, the
        port away for a moment, then nothing loaded and tempo sync off."""
        self._stop_listening()
        await self.server.close_all_connections()
        for session in list(self.sessions.values()):
            await session.vanish()
        self.sessions.clear()
        self.status, self.loaded, self.tempo = "not_loaded", None, Tempo()
        self.restarts += 1
        await asyncio.sleep(self.restart_delay)
        self.start()

    async def _tempo_updates(self) -> None:
        while True:
            await asyncio.sleep(TEMPO_UPDATE_INTERVAL)
            state = self.tempo.state()
            if state is not None:
                message = {"type": "tempo_update", **{k: state[k] for k in BEAT_KEYS}}
                for session in list(self.sessions.values()):
                    session.send(message)

    def load(self, ids: list[str], params: dict) -> None:
        """The real server starts loading in a task of its own: until it runs, the status
        still says what was there before (``loaded`` with the old pipeline, or ``not_loaded``)."""
        self.loads.append((ids, params))
        loop = asyncio.get_running_loop()

        def start() -> None:
            self.status = "loading"
            loop.call_later(self.load_delay, done)

        def done() -> None:
            if "broken" in ids:  # logged, not tracked: the status says error once, with no reason
                self.status, self.loaded = "error", None
            else:
                self.status, self.loaded = "loaded", (ids, params)

        loop.call_later(LOAD_TASK_START, start)

    def read_status(self) -> dict[str, Any]:
        status = {
            "status": self.status,
            "pipeline_id": self.loaded[0][0] if self.loaded else None,
            "load_params": self.loaded[1] if self.loaded else None,
            "loaded_lora_adapters": None,
            "error": None,
            "loading_stage": None,
            "produces_video": True,
            "produces_audio": False,
        }
        if self.status == "error":  # reported once, then it reads not_loaded
            self.status = "not_loaded"
        return status

    @property
    def session(self) -> PeerSession:
        return next(iter(self.sessions.values()))
