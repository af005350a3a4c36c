"""Shared by the server benchmarks: the two servers under test, a lean HTTP/1.1 client, a lean
SSE reader, and per-process CPU accounting.

The load generators here are written on raw asyncio protocols (keep-alive connections,
pre-built request bytes, a response parsed by its Content-Length) so that the client side
costs far less than the server it measures: on a 2-core machine shared by the server, the
HTTP clients and the SSE subscribers, a heavy client would cap the figures it reports.

Targets:

- ``ours``: ``python -m oiduna_nb.cli serve`` with this interpreter and the caller's
  environment (so ``PYTHONPATH=/work/main`` measures that tree).
- ``original``: the original Oiduna (KengoTobita/oiduna at 6baf60a, FastAPI + uvicorn) from
  ``--original-dir`` (default ``$OIDUNA_ORIGINAL_DIR`` or /work/peers/oiduna-original): its
  ``venv/bin/python -m uvicorn oiduna_api.main:app`` with ``PYTHONPATH=src/packages``,
  configured by its environment variables ``OSC_HOST``/``OSC_PORT`` (where it sends OSC),
  ``OSC_RECEIVE_PORT`` (unused at that commit, set to a free port anyway) and ``ASSETS_DIR``.
  It loads a session with ``POST /playback/pattern`` (its README says ``/playback/session``;
  the route at that commit is ``/pattern``), the same body as our ``POST /playback/session``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from measuring import hold_collections

ORIGINAL_DIR = Path(os.environ.get("OIDUNA_ORIGINAL_DIR", "/work/peers/oiduna-original"))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return float("nan")


def machine_cpu() -> tuple[float, float, float]:
    """(busy, steal, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    steal = v[7] if len(v) > 7 else 0
    total = sum(v[:8])
    return total - idle - steal, steal, total


def machine_share(before: tuple[float, float, float], after: tuple[float, float, float]) -> dict:
    """The machine's CPU between two machine_cpu() samples: busy and stolen, in cores."""
    busy, steal, total = (a - b for a, b in zip(after, before))
    cores = os.cpu_count() or 1
    return {"busy": cores * busy / total if total else 0.0, "steal": cores * steal / total if total else 0.0}


def unread_bytes(sock: socket.socket) -> int:
    """Bytes the kernel holds for ``sock`` that nobody has read yet (FIONREAD)."""
    import array
    import fcntl
    import termios

    buf = array.array("i", [0])
    try:
        fcntl.ioctl(sock.fileno(), termios.FIONREAD, buf, True)
    except OSError:
        return 0
    return buf[0]


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def open_file_limit(want: int = 65536) -> int:
    """Raise this process's soft fd limit towards ``want`` (within the hard one); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---- the servers under test --------------------------------------------------------------


@dataclass
class Target:
    name: str  # "ours" | "original"
    port: int
    proc: subprocess.Popen
    tmp: Path
    session_path: str  # where the session body is POSTed
    log: Path
    extra: dict = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_ours(osc_port: int, env: dict[str, str] | None = None, args: list[str] | None = None) -> Target:
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ours-"))
    log = tmp / "serve.log"
    full_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [code_root(), os.environ.get("PYTHONPATH")])),
        "OIDUNA_DATA_DIR": str(tmp / "data"),
        "OIDUNA_ASSETS_DIR": str(tmp / "assets"),
        "OIDUNA_MIDI_API": "alsa",
        "OIDUNA_OUTPUT": "superdirt",
        **(env or {}),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "oiduna_nb.cli", "serve", "--port", str(port), "--osc-port", str(osc_port),
             *(args or [])],
            env=full_env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp,
        )
    target = Target("ours", port, proc, tmp, "/playback/session", log)
    wait_ready(target)
    return target


def code_root() -> str:
    """The folder holding the oiduna_nb this process imports: the server runs the same code."""
    import oiduna_nb

    return str(Path(oiduna_nb.__file__).resolve().parent.parent)


def start_original(osc_port: int, original_dir: Path = ORIGINAL_DIR) -> Target:
    python = original_dir / "venv" / "bin" / "python"
    packages = original_dir / "src" / "packages"
    if not python.exists() or not packages.exists():
        raise SystemExit(
            f"the original Oiduna is not set up in {original_dir} (want venv/bin/python and src/packages); "
            "see the header of bench/server_load.py, or pass --target ours"
        )
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="bench-original-"))
    log = tmp / "uvicorn.log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "PYTHONPATH": str(packages),
        "OSC_HOST": "127.0.0.1",
        "OSC_PORT": str(osc_port),
        "OSC_RECEIVE_PORT": str(free_port()),
        "ASSETS_DIR": str(tmp / "oiduna_data"),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(python), "-m", "uvicorn", "oiduna_api.main:app", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp,
        )
    target = Target("original", port, proc, tmp, "/playback/pattern", log)
    wait_ready(target)
    return target


def start_target(name: str, osc_port: int, original_dir: Path = ORIGINAL_DIR) -> Target:
    return start_ours(osc_port) if name == "ours" else start_original(osc_port, original_dir)


def wait_ready(target: Target, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if target.proc.poll() is not None:
            raise RuntimeError(f"{target.name} server exited ({target.proc.returncode}):\n{target.log_tail()}")
        try:
            status, _ = http(target.base, "GET", "/playback/status", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    target.stop()
    raise RuntimeError(f"{target.name} server did not answer in {timeout:g} s:\n{target.log_tail()}")


def http(base: str, method: str, path: str, body: Any = None, timeout: float = 30.0,
         raw: bytes | None = None) -> tuple[int, Any]:
    """One plain request (setup and teardown, not load): (status, parsed JSON or text)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            text = r.read()
            status = r.status
    except urllib.error.HTTPError as exc:
        text, status = exc.read(), exc.code
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text.decode(errors="replace")


# ---- the sessions -------------------------------------------------------------------------


def osc_session(tracks: int = 16, bpm: float = 140, loop_steps: int = 256, timing: str = "now") -> dict:
    """The engine benchmark's session without its MIDI track: ``tracks`` OSC tracks, an event on
    every step, the POST /playback/session body (the original's POST /playback/pattern)."""
    env: dict = {"bpm": bpm}
    if loop_steps != 256:
        env["loop_steps"] = loop_steps
    body: dict = {"environment": env, "tracks": {}, "sequences": {}, "apply": {"timing": timing}}
    for i in range(tracks):
        tid = f"t{i:02d}"
        body["tracks"][tid] = {"meta": {"track_id": tid}, "params": {"s": "bd", "n": i, "orbit": i % 12, "gain": 0.8}}
        body["sequences"][tid] = {"track_id": tid, "events": [{"step": s, "velocity": 0.9} for s in range(loop_steps)]}
    return body


# ---- a UDP receiver with room for bursts ----------------------------------------------------


def udp_receiver(conn, rcvbuf: int = 64 << 20) -> None:
    """(arrival ns, datagram) of everything sent to it, until told to stop. As root the
    buffer is forced past net.core.rmem_max, so a burst of thousands of messages is kept."""
    hold_collections()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUFFORCE, rcvbuf)
    except (OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    conn.send(sock.getsockname()[1])
    packets = []
    recv, now = sock.recv, time.time_ns
    while not conn.poll():
        try:
            while True:
                data = recv(65536)
                packets.append((now(), data))
        except socket.timeout:
            continue
    conn.recv()
    conn.send((packets, {"rcvbuf": sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
                         "dropped": udp_drops(sock.getsockname()[1])}))


def udp_drops(port: int) -> int | None:
    """Datagrams the kernel dropped for the UDP socket on ``port`` (its buffer was full)."""
    try:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            return int(fields[-1])
    return None


def bundle_info(data: bytes) -> tuple[int, int, int] | None:
    """(timetag as Unix ns, tick from the first message's ``cycle``, messages in it) of an OSC
    bundle from the engine; None for anything else."""
    if not data.startswith(b"#bundle"):
        return None
    from pythonosc.osc_message import OscMessage

    (tag,) = struct.unpack(">Q", data[8:16])
    pos, count, first = 16, 0, None
    while pos + 4 <= len(data):
        (size,) = struct.unpack(">i", data[pos:pos + 4])
        if first is None:
            first = data[pos + 4:pos + 4 + size]
        pos += 4 + size
        count += 1
    tick = -1
    if first is not None and first.startswith(b"/"):
        params = OscMessage(first).params
        if "cycle" in params:
            tick = round(params[params.index("cycle") + 1] * 16)
    return round(tag * 1e9 / 2**32 - 2208988800 * 1e9), tick, count


# ---- a lean HTTP/1.1 keep-alive client ------------------------------------------------------

_CL = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.I)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[ \t]*chunked", re.I)


def request_bytes(method: str, path: str, host: str, body: bytes | None = None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + (body or b"")


class HttpConn(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    @classmethod
    async def open(cls, host: str, port: int) -> "HttpConn":
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(cls, host, port)
        return conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.waiter is None or self.waiter.done():
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end])
        m = _CL.search(head)
        if m is not None:
            total = end + 4 + int(m.group(1))
            if len(self.buf) < total:
                return
            body = bytes(self.buf[end + 4:total])
            del self.buf[:total]
        elif _CHUNKED.search(head):
            parsed = _dechunk(self.buf, end + 4)
            if parsed is None:
                return
            body, total = parsed
            del self.buf[:total]
        else:  # no length: the body ends with the connection (not used by either server)
            return
        self.waiter.set_result((int(head[9:12]), body))

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.closed or self.transport is None:
            raise ConnectionError("connection closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _dechunk(buf: bytearray, pos: int) -> tuple[bytes, int] | None:
    out = []
    while True:
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
        start = line_end + 2
        if size == 0:
            if len(buf) < start + 2:
                return None
            return b"".join(out), start + 2
        if len(buf) < start + size + 2:
            return None
        out.append(bytes(buf[start:start + size]))
        pos = start + size + 2


# ---- a lean SSE reader ---------------------------------------------------------------------

_POSITION = re.compile(rb'event: position\r?\ndata: \{"step": ?(\d+)')
_ID = re.compile(rb"(?:^|\n)id: (\d+)\n")


class SseConn(asyncio.Protocol):
    """One SSE subscriber: records (arrival ns, step) of every position event, the number of
    events of each type, whether the event ids it saw were consecutive, and the longest
    silence between two arrivals."""

    def __init__(self, host: str, path: str, keep_positions: bool = True, record_arrivals: bool = False) -> None:
        self.request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode()
        self.keep_positions = keep_positions
        self.arrivals: list[int] | None = [] if record_arrivals else None  # every read, for silences
        self.transport: asyncio.Transport | None = None
        self.raw = bytearray()
        self.text = bytearray()
        self.received: list[tuple[int, bytes]] = []  # (arrival ns, bytes), read by result()
        self.head_done = False
        self.chunked = False
        self.status = 0
        self.positions: list[tuple[int, int]] = []
        self.counts = {"position": 0, "status": 0, "tracks": 0, "other": 0}
        self.events = 0
        self.first_id = 0
        self.last_id = 0
        self.id_gaps = 0  # times the ids were not consecutive
        self.bytes = 0
        self.last_arrival = 0
        self.max_silence_ns = 0
        self.silence_at = 0  # when the longest silence ended
        self.closed = False
        self.connected = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.connected.done():
            self.connected.set_exception(ConnectionError("closed before the headers"))

    def reset_silence(self) -> None:
        self.last_arrival = time.time_ns()
        self.max_silence_ns = 0

    def data_received(self, data: bytes) -> None:
        now = time.time_ns()
        if self.last_arrival and now - self.last_arrival > self.max_silence_ns:
            self.max_silence_ns = now - self.last_arrival
            self.silence_at = now
        self.last_arrival = now
        if self.arrivals is not None:
            self.arrivals.append(now)
        self.bytes += len(data)
        if self.head_done:
            # Kept as it came, read after the run: a hundred readers that parse as they go
            # take a core of the machine the server is measured on.
            self.received.append((now, data))
            return
        self.raw += data
        end = self.raw.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.raw[:end])
        self.status = int(head[9:12])
        self.chunked = _CHUNKED.search(head) is not None
        self.head_done = True
        self.received.append((now, bytes(self.raw[end + 4:])))
        self.raw = bytearray()
        if not self.connected.done():
            self.connected.set_result(self.status)

    def _read_received(self) -> None:
        """Every event received so far, each at its arrival time."""
        received, self.received = self.received, []
        for now, data in received:
            if self.chunked:
                self.raw += data
                pos = 0
                buf = self.raw
                while True:
                    line_end = buf.find(b"\r\n", pos)
                    if line_end < 0:
                        break
                    size = int(bytes(buf[pos:line_end]).split(b";")[0] or b"0", 16)
                    start = line_end + 2
                    if len(buf) < start + size + 2:
                        break
                    self.text += buf[start:start + size]
                    pos = start + size + 2
                del buf[:pos]
            else:
                self.text += data
            end = self.text.rfind(b"\n\n")
            if end < 0:
                continue
            complete = bytes(self.text[:end + 2])
            del self.text[:end + 2]
            self._events(complete, now)

    def _events(self, block: bytes, now: int) -> None:
        n = block.count(b"\nevent: ") + block.startswith(b"event: ")
        self.events += n
        pos = block.count(b"event: position\n")
        st = block.count(b"event: status\n")
        tr = block.count(b"event: tracks\n")
        c = self.counts
        c["position"] += pos
        c["status"] += st
        c["tracks"] += tr
        c["other"] += n - pos - st - tr
        if pos and self.keep_positions:
            self.positions += [(now, int(m)) for m in _POSITION.findall(block)]
        ids = _ID.findall(block)
        if ids:
            first, last = int(ids[0]), int(ids[-1])
            if self.last_id and first != self.last_id + 1:
                self.id_gaps += 1
            if last - first != len(ids) - 1:
                self.id_gaps += 1
            if not self.first_id:
                self.first_id = first
            self.last_id = last

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def result(self) -> dict:
        self._read_received()
        return {
            "status": self.status,
            "positions": self.positions,
            "counts": dict(self.counts),
            "events": self.events,
            "first_id": self.first_id,
            "last_id": self.last_id,
            "id_gaps": self.id_gaps,
            "bytes": self.bytes,
            "closed_early": self.closed,
            "max_silence_ms": self.max_silence_ns / 1e6,
            "arrivals": self.arrivals,
        }


async def open_subscribers(host: str, port: int, count: int, path: str = "/stream",
                           keep_positions: bool = True, batch: int = 200,
                           record_arrivals: bool = False) -> list[SseConn]:
    """``count`` SSE subscribers, connected (headers read) when this returns."""
    loop = asyncio.get_running_loop()
    conns: list[SseConn] = []
    hostport = f"{host}:{port}"
    for i in range(0, count, batch):
        made = await asyncio.gather(
            *(loop.create_connection(lambda: SseConn(hostport, path, keep_positions, record_arrivals), host, port)
              for _ in range(min(batch, count - i))),
            return_exceptions=True,
        )
        for item in made:
            if isinstance(item, BaseException):
                raise item
            conns.append(item[1])
    await asyncio.gather(*(c.connected for c in conns), return_exceptions=True)
    return conns
