"""One request at a time runs the app in each process; the others wait their turn, in arrival order.

Why: granian serves each request on one of its blocking threads. Threads are
needed (a ``delay_ms`` rule sleeps, an SSE stream stays open, a slow upload blocks its reader), but
when several threads run the app at once they fight over the GIL: every SQLite call releases it, and
each hand-over to a thread on another CPU costs more than the call (measured on 2 cores: 1 thread
3,200 req/s, 2-64 threads 1,500-1,800 req/s, p99 x2-3). So the app runs under a FIFO lock:

* ``wrap(app)`` takes the lock for the WSGI call (routing, hooks, view, rendering) and releases it when
  the call returns (granian then sends the body from the same thread, outside the lock);
* ``sleep(seconds)`` is how the app sleeps (``delay_ms`` rules): it gives the lock up meanwhile, so 16
  delayed requests sleep side by side and the others keep being served;
* the request body is read *before* taking the lock (a client trickling its body must not hold it),
  up to the limit + 1 byte; ``CONTENT_LENGTH`` becomes what was read (and a chunked body loses its
  ``Transfer-Encoding``), so a chunked body over the limit is refused by werkzeug with the same 413
  envelope as one announced by Content-Length, instead of being cut at the limit (issue 15, item 9);
* unless ``--cpu-affinity off``, the threads that run the app are pinned to one CPU, chosen at start:
  GIL hand-overs then stay on one core (granian's Rust I/O thread stays free). On 2 vCPUs: 1,600 ->
  2,800 req/s with 32 threads at 16 connections (bench/README.md#serving-stack).

Outside a server (Flask test client) nothing here is used, and ``sleep`` is ``time.sleep``.
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mockserver.storagemode import StorageMode

_state = threading.local()


class FifoLock:
    """A lock handed over in arrival order (``threading.Lock`` lets a running thread barge in first,
    which starves waiting requests: p99 34 ms instead of 7-10 ms in the same run)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: collections.deque[threading.Lock] = collections.deque()
        self._busy = False

    def acquire(self) -> None:
        with self._mutex:
            if not self._busy:
                self._busy = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by the holder handing over: _busy stays True

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._busy = False


_lock = FifoLock()


def sleep(seconds: float) -> None:
    """time.sleep that lets other requests run meanwhile when called under ``wrap``."""
    if not getattr(_state, "held", False):
        time.sleep(seconds)
        return
    _state.held = False
    _lock.release()
    try:
        time.sleep(seconds)
    finally:
        _lock.acquire()
        _state.held = True


@contextlib.contextmanager
def turn() -> Iterator[None]:
    """Run a piece of app work outside a request (a stream's poll, after its request returned) in the
    same queue as the requests, so that it never fights them over the GIL."""
    if getattr(_state, "held", False):
        yield
        return
    _lock.acquire()
    _state.held = True
    try:
        yield
    finally:
        _state.held = False
        _lock.release()


#: How the stores of an app served under ``wrap`` keep their connections (mockserver/storagemode.py): one set
#: per process, since the requests take turns, and the turn of work outside a request is this lock's.
SERIALIZED = StorageMode(per_process=True, turn=turn)


_worker_index: int | None = None


def set_worker(index: int) -> None:
    """Called in each forked worker: worker i pins its request threads to the i-th allowed CPU."""
    global _worker_index
    _worker_index = index


def _pick_cpu(setting: str) -> set[int] | None:
    if setting == "off" or not hasattr(os, "sched_getaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None
    if setting != "auto":
        return {int(setting)}
    # one worker: spread several sandboxes (pytest-xdist) over the CPUs; N workers: one CPU each
    index = _worker_index if _worker_index is not None else os.getpid()
    return {allowed[index % len(allowed)]}


def wrap(
    app: Callable[..., Iterable[bytes]], body_limit: Callable[[dict[str, Any]], int], affinity: str = "auto"
) -> Callable[..., Any]:
    """The app under the request lock; ``body_limit(environ)`` is the byte limit for that request, ``affinity``
    the ``--cpu-affinity`` setting. The app's stores must have been made with ``SERIALIZED``."""
    cpus: list[set[int] | None] = []  # chosen at the first request, in the process that serves

    def call(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not getattr(_state, "pinned", False):
            if not cpus:
                cpus.append(_pick_cpu(affinity))
            if cpus[0] is not None:
                os.sched_setaffinity(0, cpus[0])  # Linux: pid 0 is the calling thread only
            _state.pinned = True
        _buffer_body(environ, body_limit(environ))
        _lock.acquire()
        _state.held = True
        try:
            return app(environ, start_response)
        finally:
            _state.held = False
            _lock.release()

    return call


def _buffer_body(environ: dict[str, Any], limit: int) -> None:
    length = environ.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not chunked and not length:
        return
    if length.isdigit() and int(length) > limit:
        return  # werkzeug refuses it from the header alone (413), nothing to read
    stream, parts, got = environ["wsgi.input"], [], 0
    while got <= limit:
        part = stream.read(min(65536, limit + 1 - got))
        if not part:
            break
        parts.append(part)
        got += len(part)
    data = b"".join(parts)
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    if chunked:
        # werkzeug ignores CONTENT_LENGTH beside "Transfer-Encoding: chunked" (and then cuts the body at
        # the limit without a word): the body is a plain byte string now.
        environ["tap4book.transfer_encoding"] = environ.pop("HTTP_TRANSFER_ENCODING")
