"""Network faults under granian, which gives the app no socket.

Each checked 30 times with a raw socket client (tests/test_server_stack.py holds them):

* close with no byte at all (the client's recv() returns b''): answer with an invalid ``Content-Length``
  header; hyper refuses to write such a head and closes the connection (30/30).
* truncated body (headers promise N bytes, fewer come, then FIN): stream the first part, pause a few
  milliseconds so that it is flushed, end the iterator early; hyper sees the body end short of its
  Content-Length and closes (30/30 with a 5 ms pause; without the pause the head is sometimes dropped too).
* RST (the client gets ECONNRESET): SO_LINGER {1, 0} on the connection's socket, then closing it. The WSGI
  environ has no socket, so the connection's descriptor is looked up among the process's sockets by the
  client's address; granian gives REMOTE_ADDR but not REMOTE_PORT, so when several connections come from
  that address, the one that received data last (``TCP_INFO``'s ``last_data_recv``: this request, a moment
  ago) is taken if no other received any within ``RECENT_MS``; else it is the no-byte close above. The
  server's descriptor is then pointed at a dummy socket (dup2) so that our duplicate is the socket's last
  reference: closing it sends the RST at once, before hyper can send a FIN (30/30).
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

INVALID_LENGTH = "invalid"  # a Content-Length value hyper will not send
FLUSH_PAUSE = 0.02
RECENT_MS = 20
_LAST_DATA_RECV = 52  # offset of tcpi_last_data_recv (milliseconds ago) in Linux's struct tcp_info


def connection_fd(environ: dict[str, Any]) -> int | None:
    """This request's connection descriptor in this process, or None when it cannot be told apart."""
    addr = (environ.get("REMOTE_ADDR") or "").strip("[]")
    port = environ.get("REMOTE_PORT")
    server_port = int(environ.get("SERVER_PORT") or 0)
    if not addr:
        return None
    found = []
    for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else ():
        try:
            dup = os.dup(int(name))
        except OSError:
            continue
        try:
            sock = socket.socket(fileno=dup)
        except OSError:
            os.close(dup)
            continue
        try:
            if sock.type != socket.SOCK_STREAM or sock.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            peer, local = sock.getpeername()[:2], sock.getsockname()[:2]
            if peer[0] == addr and local[1] == server_port and (port is None or str(peer[1]) == str(port)):
                found.append((_quiet_ms(sock), int(name)))
        except OSError:
            continue
        finally:
            sock.close()
    if len(found) == 1:
        return found[0][1]
    found.sort()
    if len(found) > 1 and found[0][0] is not None and found[1][0] is not None and found[1][0] > RECENT_MS:
        return found[0][1]
    return None


def _quiet_ms(sock: socket.socket) -> int | None:
    """How long ago the connection last received data, in milliseconds (None where TCP_INFO is missing)."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        return int(struct.unpack_from("I", info, _LAST_DATA_RECV)[0])
    except (OSError, AttributeError, struct.error):
        return None


def reset(fd: int) -> None:
    """Abort the connection behind ``fd`` (owned by the server) with a TCP RST, now."""
    conn = socket.socket(fileno=os.dup(fd))
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    dummy = socket.socket(conn.family, socket.SOCK_STREAM)
    os.dup2(dummy.fileno(), fd, inheritable=False)  # the server's fd number now names a dummy: never freed
    dummy.close()
    conn.close()  # the last reference, with linger 0: RST


def short_body(part: bytes) -> Iterator[bytes]:
    """Yield ``part``, give the server time to flush it, then end (short of the promised length)."""
    yield part
    time.sleep(FLUSH_PAUSE)
