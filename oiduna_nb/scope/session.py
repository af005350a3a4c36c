"""One WebRTC session with Scope (aiortc): a sendrecv video transceiver preferring VP8, the
``parameters`` data channel, trickle ICE, the video coming back, and teardown.

ICE servers are the ones the server offers, or none: aiortc given no list would use a public
STUN server of its own, which a local connection does not need. An offered server that cannot
be reached only delays candidate gathering (aiortc gives up on it after about 5 s)."""

from __future__ import annotations

import asyncio
import fractions
import json
import logging
import time
from collections import deque
from typing import Any, Callable

import av
import numpy as np
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
    VideoStreamTrack,
)

from .client import ScopeClient
from .sender import ChunkRate, ParameterSender

log = logging.getLogger("oiduna_nb.scope")


class SourceTrack(VideoStreamTrack):
    """What we send (the server wants a sendrecv track): a slow colour wash, which the
    passthrough pipeline returns and text pipelines ignore."""

    def __init__(self, width: int = 512, height: int = 512, fps: int = 15) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._n = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        self._n += 1
        shade = int(127 + 100 * np.sin(self._n / 30))
        image = np.full((self.height, self.width, 3), (shade, 64, 255 - shade), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


def prefer_vp8(transceiver: Any) -> None:
    codecs = RTCRtpSender.getCapabilities("video").codecs
    vp8 = [c for c in codecs if c.mimeType.lower() == "video/vp8"]
    rest = [c for c in codecs if c.mimeType.lower() != "video/vp8"]
    transceiver.setCodecPreferences(vp8 + rest)


def candidates_of(sdp: str) -> list[dict[str, Any]]:
    """The ICE candidates in an SDP, in the trickle-ICE form."""
    out, mid, index = [], None, -1
    for line in sdp.splitlines():
        if line.startswith("m="):
            index += 1
            mid = None
        elif line.startswith("a=mid:"):
            mid = line[6:].strip()
        elif line.startswith("a=candidate:"):
            out.append({"candidate": line[2:].strip(), "sdpMid": mid, "sdpMLineIndex": max(index, 0)})
    return out


class ScopeSession:
    def __init__(
        self,
        client: ScopeClient,
        pipeline_ids: list[str],
        initial: dict[str, Any] | None = None,
        on_frame: Callable[[av.VideoFrame], Any] | None = None,
        on_message: Callable[[dict[str, Any]], Any] | None = None,
        direction: str = "sendrecv",
        max_rate: float = 30.0,
        size: tuple[int, int] = (512, 512),
    ) -> None:
        self.client = client
        self.pipeline_ids = list(pipeline_ids)
        self.initial = dict(initial or {})
        self.on_frame = on_frame
        self.on_message = on_message
        self.direction = direction
        self.size = size
        self.session_id: str | None = None
        self.pc: RTCPeerConnection | None = None
        self.channel: Any = None
        self.chunks = ChunkRate(default_interval=0.25)
        self.sender = ParameterSender(self._send_json, max_rate=max_rate, chunk_rate=self.chunks)
        self.sender.state.update(self.initial)
        self.frames = 0
        self.last_frame_at: float | None = None
        self.connected_at = time.monotonic()
        self.messages: deque[dict[str, Any]] = deque(maxlen=256)  # the latest (tempo_update comes at 15 Hz)
        self.last_tempo_update: float | None = None
        self.rtc_configuration: RTCConfiguration | None = None
        self._tasks: list[asyncio.Task] = []
        self._open = asyncio.Event()

    async def connect(self, open_timeout: float = 20.0) -> None:
        try:
            ice = await self.client.ice_servers()
        except Exception:  # no ICE servers is fine on a local network
            ice = []
        servers = [RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential")) for s in ice if s.get("urls")]
        self.rtc_configuration = RTCConfiguration(iceServers=servers)  # [] means none: never aiortc's default
        self.pc = pc = RTCPeerConnection(self.rtc_configuration)
        if self.direction == "sendrecv":
            transceiver = pc.addTransceiver(SourceTrack(*self.size), direction="sendrecv")
        else:
            transceiver = pc.addTransceiver("video", direction=self.direction)
        prefer_vp8(transceiver)
        self.channel = pc.createDataChannel("parameters")
        self.channel.on("open", self._open.set)
        self.channel.on("message", self._message)
        pc.on("track", self._track)
        await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers candidates here
        initial = {**self.initial, "pipeline_ids": self.pipeline_ids}
        answer = await self.client.offer(pc.localDescription.sdp, initial)
        self.session_id = answer.get("sessionId")
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        if self.session_id:
            try:  # the candidates again, as trickle ICE (servers that want them this way get them)
                await self.client.trickle(self.session_id, candidates_of(pc.localDescription.sdp))
            except Exception as exc:
                log.debug("trickle ICE not taken: %r", exc)
        await asyncio.wait_for(self._open.wait(), open_timeout)
        self.connected_at = time.monotonic()
        await self.refresh_tempo()
        self.sender.start()

    async def refresh_tempo(self) -> None:
        """Send beat state only while the server's tempo sync is on (it ignores it otherwise)."""
        try:
            status = await self.client.tempo_status()
        except Exception:  # unreachable now: keep what we knew, the watchdog deals with it
            return
        self.sender.beat_enabled = bool(status.get("enabled"))

    @property
    def connection_lost(self) -> bool:
        """The peer connection itself failed or closed (frames stopping can also be a pause)."""
        return self.pc is not None and self.pc.connectionState in ("failed", "closed")

    def _send_json(self, message: dict[str, Any]) -> None:
        if self.channel is None or self.channel.readyState != "open":
            raise ConnectionError("the parameters channel is not open")
        self.channel.send(json.dumps(message))

    def update(self, **changes: Any) -> None:
        self.sender.update(**changes)

    def _message(self, raw: Any) -> None:
        try:
            message = json.loads(raw)
        except (TypeError, ValueError):
            return
        self.messages.append(message)
        if isinstance(message, dict) and message.get("type") == "tempo_update":
            self.last_tempo_update = time.monotonic()  # sent only while its tempo sync is on
            self.sender.beat_enabled = True
        if self.on_message is not None:
            self.on_message(message)

    def _track(self, track: Any) -> None:
        if track.kind == "video":
            self._tasks.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track: Any) -> None:
        while True:
            try:
                frame = await track.recv()
            except Exception:  # the track ended
                return
            self.frames += 1
            self.last_frame_at = time.monotonic()
            self.chunks.frame(self.last_frame_at)
            if self.on_frame is not None:
                self.on_frame(frame)

    async def close(self) -> None:
        await self.sender.stop()
        for task in self._tasks:
            task.cancel()
        if self.session_id:
            try:
                await self.client.teardown(self.session_id)
            except Exception:  # the server may be gone already
                pass
        if self.pc is not None:
            await self.pc.close()


def jpeg(frame: av.VideoFrame, width: int | None = None) -> bytes:
    """A video frame as JPEG bytes (with av's MJPEG encoder: no imaging library needed)."""
    if width and frame.width > width:
        frame = frame.reformat(width=width, height=int(frame.height * width / frame.width) // 2 * 2)
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height = frame.width, frame.height
    codec.pix_fmt = "yuvj420p"
    codec.time_base = fractions.Fraction(1, 30)
    packets = codec.encode(frame.reformat(format="yuvj420p"))
    return b"".join(bytes(p) for p in packets)

