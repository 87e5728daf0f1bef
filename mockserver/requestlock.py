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
* ...by ``BodyReaders``, with a timeout and a cap (``BodyReaders`` below says why and how): a body that stalls is
  answered 400 INVALID_JSON after ``--body-timeout`` seconds, and stalled bodies can never hold every
  request thread;
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
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

from mockserver.errors import InvalidJson
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


READ_SIZE = 65536  # granian's read(n) returns once n bytes (or the end) arrived: the unit of "progress"
STALLED = 0.5  # seconds without progress after which a read counts as stalled (a live one moves in milliseconds)
SPOOL_ABOVE = 1 << 20  # a body larger than this waits in a temporary file (a dataset import: up to 128 MiB)
POLL = 0.05  # how often a body waiting for a reader looks again whether the busy ones are all stalled


def wrap(
    app: Callable[..., Iterable[bytes]],
    body_limit: Callable[[dict[str, Any]], int],
    affinity: str = "auto",
    *,
    threads: int,
    body_timeout: float,
) -> Callable[..., Any]:
    """The app under the request lock; ``body_limit(environ)`` is the byte limit for that request, ``affinity``
    the ``--cpu-affinity`` setting, ``threads`` and ``body_timeout`` those of the server (for its body readers). The
    app's stores must have been made with ``SERIALIZED``."""
    cpus: list[set[int] | None] = []  # chosen at the first request, in the process that serves
    readers = BodyReaders(threads, body_timeout)

    def call(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not getattr(_state, "pinned", False):
            if not cpus:
                cpus.append(_pick_cpu(affinity))
            if cpus[0] is not None:
                os.sched_setaffinity(0, cpus[0])  # Linux: pid 0 is the calling thread only
            _state.pinned = True
        readers.buffer(environ, body_limit(environ))
        _lock.acquire()
        _state.held = True
        try:
            return app(environ, start_response)
        finally:
            _state.held = False
            _lock.release()

    return call


class BodyReaders:
    """Reads request bodies with a timeout, and never on every request thread at once.

    Granian hands the app a ``wsgi.input`` whose ``read(n)`` blocks on a Rust future until n bytes or the end
    of the body arrived (``WSGIBody.fill_buffer`` in granian's src/wsgi/types.rs): no timeout, nothing in
    Python can interrupt it, so a client that sent a head and part of a body held a request thread for as long
    as it kept the connection open; 64 of them (``--threads``) froze the server (issue 22, item 10). And when the
    app returns, granian takes the body's lock *holding the GIL* (``body_stream.blocking_lock()`` in
    src/wsgi/callbacks.rs): a read still pending then would stop every thread of the process. So:

    * each read runs on a reader thread of ours while the request thread waits for it, at most ``timeout``
      seconds without progress; then the request is answered 400 INVALID_JSON ("did not arrive within N
      seconds") at once, and its thread waits (without the GIL) for the read to end before it returns to
      granian (``finish_body_read``): when the client sends the rest or goes away, which a client that got its
      answer does;
    * at most ``threads // 2`` reads at once, stalled ones included: stalled bodies hold at most half the
      request threads, whatever the clients do. A body that finds every reader busy waits for one while any of
      them is still moving (a burst of bodies that arrive: measured, 8 threads and 48 racing bookings need it);
      when every busy reader has been STALLED (half a second), it is answered 400 INVALID_JSON at once, without
      being read. Requests without a body never wait.

    docs/limits.md#request-bodies documents both answers.
    """

    def __init__(self, threads: int, timeout: float) -> None:
        self.size = max(1, threads // 2)
        self.timeout = timeout
        self._jobs: queue.SimpleQueue[_Read] = queue.SimpleQueue()
        self._busy: set[_Read] = set()  # reads under way, stalled or not (at most ``size``)
        self._changed = threading.Condition()  # a read ended: a reader is free
        self._started = 0

    def buffer(self, environ: dict[str, Any], limit: int) -> None:
        """Replace ``wsgi.input`` by the body read in full (up to limit + 1 bytes), or by a stream that raises
        the INVALID_JSON saying why it could not be read."""
        length = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not chunked and not length:
            return
        if length.isdigit() and int(length) > limit:
            return  # werkzeug refuses it from the header alone (413), nothing to read
        if chunked:
            # werkzeug ignores CONTENT_LENGTH beside "Transfer-Encoding: chunked" (and then cuts the body at
            # the limit without a word): the body will be a plain byte string.
            environ["tap4book.transfer_encoding"] = environ.pop("HTTP_TRANSFER_ENCODING")
        outcome = self._read(environ, limit)
        if isinstance(outcome, InvalidJson):
            # No CONTENT_LENGTH: the journal records no body rather than reading the failing stream again.
            environ.pop("CONTENT_LENGTH", None)
            environ["wsgi.input"] = _Unreadable(outcome)
            return
        environ["CONTENT_LENGTH"] = str(outcome.seek(0, io.SEEK_END))
        outcome.seek(0)
        environ["wsgi.input"] = outcome

    def _read(self, environ: dict[str, Any], limit: int) -> BinaryIO | InvalidJson:
        job = self._claim(environ["wsgi.input"], limit)
        if job is None:
            return InvalidJson(
                f"The request body was not read: {self.size} request bodies are stalled already, "
                "the most this server reads at once",
                hint="Send each body right after its headers; this answer means other clients are stalling theirs.",
            )
        self._jobs.put(job)
        if job.wait(self.timeout):
            if job.broken is not None:
                return InvalidJson(f"The request body could not be read: {job.broken}")
            return job.sink
        environ[_PENDING] = job
        return InvalidJson(
            f"The request body did not arrive within {self.timeout:g} seconds",
            hint=f"Send the body right after its headers: the sandbox waits {self.timeout:g} s for each 64 KiB of "
            "it (--body-timeout).",
        )

    def _claim(self, stream: Any, limit: int) -> _Read | None:
        """A read for this body, once a reader is free; None when every reader is stalled (or for too long)."""
        deadline = time.monotonic() + self.timeout
        with self._changed:
            while len(self._busy) >= self.size:
                now = time.monotonic()
                if now >= deadline or all(now - job.moved >= STALLED for job in self._busy):
                    return None
                self._changed.wait(POLL)
            job = _Read(stream, limit, self._ended)
            self._busy.add(job)
            if self._started < len(self._busy):  # reader threads are started as needed, then kept
                self._started += 1
                threading.Thread(target=self._serve, name="tap4book-body-reader", daemon=True).start()
        return job

    def _ended(self, job: _Read) -> None:
        with self._changed:
            self._busy.discard(job)
            self._changed.notify()

    def _serve(self) -> None:
        while True:
            self._jobs.get().run()


class _Read:
    """One body being read: the reader thread runs it, the request thread waits for it."""

    def __init__(self, stream: Any, limit: int, ended: Callable[[_Read], None]) -> None:
        self.stream, self.limit, self.ended = stream, limit, ended
        # A dataset import may be 128 MiB: past a megabyte the body waits in a temporary file, so that it is
        # read in full before the request lock is taken, yet the import still reads it a record at a time.
        self.sink: BinaryIO = tempfile.SpooledTemporaryFile(max_size=SPOOL_ABOVE)  # noqa: SIM115 (the request's)
        self.progress = threading.Condition()
        self.moved = time.monotonic()
        self.done = False
        self.broken: Exception | None = None

    def run(self) -> None:
        got = 0
        try:
            while got <= self.limit:
                part = self.stream.read(min(READ_SIZE, self.limit + 1 - got))
                if not part:
                    break
                got += len(part)
                self.sink.write(part)
                with self.progress:
                    self.moved = time.monotonic()
        except Exception as exc:  # the server's stream failed: the request must say so, not use half a body
            self.broken = exc
        finally:
            with self.progress:
                self.done = True
                self.progress.notify_all()
            self.ended(self)

    def wait(self, timeout: float) -> bool:
        """True once the whole body is read; False when ``timeout`` seconds pass without a part arriving."""
        with self.progress:
            while not self.done:
                left = self.moved + timeout - time.monotonic()
                if left <= 0:
                    return False
                self.progress.wait(left)
            return True

    def finish(self) -> None:
        with self.progress:
            while not self.done:
                self.progress.wait()


_PENDING = "tap4book.pending_body_read"


def finish_body_read(environ: dict[str, Any]) -> None:
    """Wait for a body read that outlived its request (see BodyReaders), once its answer has been handed over."""
    job = environ.get(_PENDING)
    if job is not None:
        job.finish()


class _Unreadable(io.RawIOBase):
    """``wsgi.input`` of a body that could not be read: every read raises the error that says why (the
    pipeline reads bodies through ``Incoming.body()``, which lets an ApiError become the answer)."""

    def __init__(self, error: InvalidJson) -> None:
        self.error = error

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        raise self.error

    def readinto(self, buffer: Any) -> int:
        raise self.error
