"""The fan-out's send keeps socket.send's meaning (bytes taken, BlockingIOError when full,
OSError when the peer is gone), with libc's send and with the fallback."""

from __future__ import annotations

import socket

import pytest

from oiduna_nb.server import sending


@pytest.fixture(params=["libc", "socket.send"])
def send(request, monkeypatch):
    if request.param == "socket.send":
        monkeypatch.setattr(sending, "_send", None)
    else:
        assert sending._send is not None, "libc's send should load on this platform"
    return sending.send_holding_gil


def test_sends_what_the_socket_takes_then_says_it_is_full(send):
    a, b = socket.socketpair()
    a.setblocking(False)
    try:
        assert send(a, b"event: position\n\n") == 17
        assert send(a, memoryview(bytearray(b"ab"))) == 2
        assert b.recv(100) == b"event: position\n\nab"
        big = b"x" * (8 << 20)
        sent = send(a, big)
        assert 0 < sent < len(big)  # a partial send, as socket.send
        with pytest.raises(BlockingIOError):
            send(a, big)
    finally:
        a.close()
        b.close()


def test_a_vanished_peer_is_an_oserror_not_a_signal(send):
    a, b = socket.socketpair()
    a.setblocking(False)
    b.close()
    try:
        with pytest.raises(OSError) as caught:
            send(a, b"data")
        assert not isinstance(caught.value, BlockingIOError)
    finally:
        a.close()


def test_a_socket_that_may_block_is_sent_to_as_socket_send_does():
    a, b = socket.socketpair()
    try:
        assert a.gettimeout() is None  # blocking: libc's send would block holding the GIL
        assert sending.send_holding_gil(a, b"x") == 1 and b.recv(1) == b"x"
    finally:
        a.close()
        b.close()


def test_the_subscribers_streams_are_non_blocking_so_their_writes_keep_the_gil():
    """tornado makes a stream's socket non-blocking: the fan-out's sends take libc's path."""
    import asyncio

    from tornado.iostream import IOStream

    async def made() -> float | None:
        a, b = socket.socketpair()
        stream = IOStream(a)
        try:
            return stream.socket.gettimeout()
        finally:
            stream.close()
            b.close()

    assert asyncio.run(made()) == 0.0
