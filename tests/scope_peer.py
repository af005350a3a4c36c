"""A Scope-compatible peer for the tests (tornado + aiortc), behaving as ARCHITECTURE §5 says
the real server does: the load lifecycle with its error trap, ``pipeline_ids`` required for
frames, no frames for a recvonly client, an 8-deep parameter queue applying one update per
generated chunk, generated video, ``stream_stopped`` when the stream ends."""

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
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

QUEUE_DEPTH = 8


class GeneratedTrack(MediaStreamTrack):
    """Frames made per chunk, handed out as they come (in bursts, like a real pipeline)."""

    kind = "video"

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.frames: asyncio.Queue = asyncio.Queue()
        self.pts = 0

    def produce(self, shade: int) -> None:
        image = np.full((self.size, self.size, 3), (shade, 200 - shade // 2, 90), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = self.pts, fractions.Fraction(1, 90000)
        self.pts += 3000
        self.frames.put_nowait(frame)

    async def recv(self) -> av.VideoFrame:
        return await self.frames.get()


class PeerSession:
    def __init__(self, peer: "ScopePeer", pc: RTCPeerConnection, initial: dict[str, Any], track: GeneratedTrack | None) -> None:
        self.peer = peer
        self.pc = pc
        self.initial = initial
        self.track = track
        self.channel: Any = None
        self.queue: collections.deque = collections.deque()
        self.applied: list[tuple[float, dict[str, Any]]] = []  # (time, update)
        self.parameters: dict[str, Any] = dict(initial)
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.dropped = 0
        self.candidates: list[dict] = []
        self.crashed = False
        self.task = asyncio.ensure_future(self.run())

    def on_message(self, raw: str) -> None:
        update = json.loads(raw)
        self.received.append((time.monotonic(), update))
        if len(self.queue) >= QUEUE_DEPTH:
            self.dropped += 1  # as the real server: the update is dropped
        else:
            self.queue.append(update)

    async def run(self) -> None:
        n = 0
        while True:
            await asyncio.sleep(1.0 / self.peer.chunk_rate)
            if self.crashed:
                continue  # a crashed pipeline sends nothing
            if self.queue:
                update = self.queue.popleft()
                if "prompts" in update and "transition" not in update:
                    self.parameters.pop("transition", None)
                self.parameters.update(update)
                self.applied.append((time.monotonic(), update))
            if self.track is not None:
                n += 1
                for _ in range(self.peer.frames_per_chunk):
                    self.track.produce((n * 17) % 200)

    def send(self, message: dict[str, Any]) -> None:
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(json.dumps(message))

    async def stop(self) -> None:
        self.send({"type": "stream_stopped"})
        await asyncio.sleep(0.1)
        self.task.cancel()
        await self.pc.close()


class Handler(tornado.web.RequestHandler):
    def initialize(self, peer: "ScopePeer") -> None:
        self.peer = peer

    def body_json(self) -> Any:
        return json.loads(self.request.body or b"null")

    def fail(self, status: int, detail: str) -> None:
        self.set_status(status)
        self.finish({"detail": detail})


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
        self.finish({"iceServers": []})


class Offer(Handler):
    async def post(self) -> None:
        if self.peer.status != "loaded":
            return self.fail(400, "Pipeline not loaded. Please load pipeline first.")
        body = self.body_json()
        initial = body.get("initialParameters") or {}
        pc = RTCPeerConnection()
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
        session = self.peer.sessions.get(session_id)
        if session is None:
            return self.fail(404, f"Session {session_id} not found")
        session.candidates += (self.body_json() or {}).get("candidates", [])
        self.set_status(204)
        self.finish()

    async def delete(self, session_id: str) -> None:
        session = self.peer.sessions.pop(session_id, None)
        if session is not None:
            await session.stop()
        self.set_status(204)
        self.finish()


class Echo(Handler):
    """The additional endpoints: enough to show the client calls them right."""

    def get(self, *_: str) -> None:
        self.finish({"path": self.request.path, "items": []})

    def post(self, *_: str) -> None:
        self.finish({"path": self.request.path, "accepted": self.body_json()})


class ScopePeer:
    def __init__(
        self, chunk_rate: float = 10.0, frames_per_chunk: int = 3, frame_size: int = 128, load_delay: float = 0.3,
        extra_routes: list | None = None,
    ) -> None:
        self.chunk_rate = chunk_rate
        self.frames_per_chunk = frames_per_chunk
        self.frame_size = frame_size
        self.load_delay = load_delay
        self.status = "not_loaded"
        self.error: str | None = None
        self.sessions: dict[str, PeerSession] = {}
        self.loads: list[tuple[list[str], dict]] = []
        args = {"peer": self}
        self.app = tornado.web.Application([
            *(extra_routes or []),
            (r"/health", Health, args),
            (r"/api/v1/pipeline/load", Load, args),
            (r"/api/v1/pipeline/status", Status, args),
            (r"/api/v1/webrtc/ice-servers", Ice, args),
            (r"/api/v1/webrtc/offer", Offer, args),
            (r"/api/v1/webrtc/offer/([^/]+)", OfferSession, args),
            (r"/api/v1/(hardware|models/status|models/download|assets|loras)", Echo, args),
            (r"/plugins", Echo, args),  # only the old place: the client must fall back
        ])
        self.server: Any = None
        self.url = ""

    def start(self) -> "ScopePeer":
        from tornado.httpserver import HTTPServer
        from tornado.netutil import bind_sockets

        sockets = bind_sockets(0, "127.0.0.1")
        self.server = HTTPServer(self.app)
        self.server.add_sockets(sockets)
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        for session in list(self.sessions.values()):
            await session.stop()
        self.sessions.clear()
        self.server.stop()

    def load(self, ids: list[str], params: dict) -> None:
        self.loads.append((ids, params))
        self.status = "loading"

        def done() -> None:
            if "broken" in ids:
                self.status, self.error = "error", "CUDA out of memory while loading 'broken'"
            else:
                self.status = "loaded"

        asyncio.get_running_loop().call_later(self.load_delay, done)

    def read_status(self) -> dict[str, Any]:
        status = {"status": self.status}
        if self.status == "error":  # reported once, then it reads not_loaded
            status["error"] = self.error
            self.status = "not_loaded"
        return status

    @property
    def session(self) -> PeerSession:
        return next(iter(self.sessions.values()))
