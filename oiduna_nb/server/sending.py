"""Sends on a non-blocking socket that keep the GIL.

``socket.send`` lets go of the GIL around its system call. While a notebook cell computes
(pure Python, holding the GIL between switches), each of those releases hands the GIL to the
cell's thread, and the server's thread then waits a whole switch interval to get it back: a
position written to 100 subscribers, a send each, took over 100 ms. A send on a non-blocking
socket returns in microseconds, so the fan-out calls libc's ``send`` through ``ctypes.PyDLL``,
which keeps the GIL. Where there is no such libc, it is ``socket.send``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import sys

_MSG_NOSIGNAL = getattr(socket, "MSG_NOSIGNAL", 0)  # a closed peer is an error here, not SIGPIPE


def _libc_send():
    if sys.platform == "win32":
        return None
    try:
        send = ctypes.PyDLL(None, use_errno=True).send
    except (OSError, AttributeError):
        return None
    send.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
    send.restype = ctypes.c_ssize_t
    return send


_send = _libc_send()


def send_holding_gil(sock: socket.socket, data: bytes | bytearray | memoryview) -> int:
    """``sock.send(data)`` (``sock`` non-blocking) without releasing the GIL: the bytes
    sent, ``BlockingIOError`` when the socket takes nothing now, ``OSError`` otherwise."""
    if _send is None or sock.gettimeout() != 0.0:  # one that may block must not hold the GIL meanwhile
        return sock.send(data)
    if not isinstance(data, bytes):  # ctypes passes bytes as they are; a view or bytearray is copied
        data = bytes(data)
    while True:
        sent = _send(sock.fileno(), data, len(data), _MSG_NOSIGNAL)
        if sent >= 0:
            return sent
        code = ctypes.get_errno()
        if code == errno.EINTR:
            continue
        if code in (errno.EAGAIN, errno.EWOULDBLOCK):
            raise BlockingIOError(code, os.strerror(code))
        raise OSError(code, os.strerror(code))
