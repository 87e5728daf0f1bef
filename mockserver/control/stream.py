"""GET /__mock/journal/stream: the journal as Server-Sent Events, for the console and ``tap4book-mock tail``.

The stream follows the journal files of every worker (store/journal/) by polling them, a few times a second:
it never sits in the path of an API request, so a slow or stalled reader cannot slow the API down. Entries are
sent in journal order, each once: only entries older than ``SETTLE_MS`` are sent, by which time every worker
has committed what it numbered before them (an id is the microsecond its entry was recorded), and never past an
entry a worker still holds unwritten; ``Last-Event-ID`` resumes after the last one a client saw.

Bounded in bytes per stream, whatever the reader does: each write is at most ``CHUNK_BYTES`` (or one entry),
and the server (granian) takes the next write only once the previous one is on its way to the socket, so a
reader that stops reading holds one write's worth of memory, not the journal's growth. A reader that falls more
than ``BUFFER`` entries or ``BUFFER_BYTES`` behind skips to the newest ones and is told how many it missed (a
``dropped`` event); entries the journal could not write at all (a full disk) are counted in an ``unrecorded``
event. A stream's slot (``MAX_STREAMS`` per process) is freed when its connection ends, however it ends.
"""

from __future__ import annotations

import collections
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from mockserver.answer import Answer
from mockserver.errors import InvalidParameter
from mockserver.render import to_json
from mockserver.store.journal import Journal, Stored, entry

POLL_SECONDS = 0.25
SETTLE_MS = 300
HEARTBEAT_SECONDS = 1.0  # a closed connection is noticed at the next write: the reader's thread is freed soon
BUFFER = 500  # entries a reader may be behind before it skips to the newest
BUFFER_BYTES = 1024 * 1024  # ... and bytes of them
CHUNK_BYTES = 64 * 1024  # the most one write carries (beyond a single entry's event)
STEP = 100  # entries read per turn at most
EVENTS_BYTES = 4 * 1024 * 1024  # entries' events remembered for the other streams, while any stream is open
MAX_STREAMS = 16  # per server process

_events: collections.OrderedDict[tuple[int, int], str] = collections.OrderedDict()
_events_bytes = 0
_events_lock = threading.Lock()  # streams outside a server (tests) take no turns


class _Slots:
    def __init__(self) -> None:
        self.open = 0
        self._lock = threading.Lock()

    def take(self) -> Callable[[], None]:
        """A slot, or INVALID_PARAMETER at the limit; returns the slot's release (which may be called again)."""
        with self._lock:
            if self.open >= MAX_STREAMS:
                raise InvalidParameter(f"At most {MAX_STREAMS} journal streams per server process: close one first")
            self.open += 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if released.is_set():
                    return
                released.set()
                self.open -= 1
                if not self.open:
                    _forget_events()

        return release


_slots = _Slots()


class EventStream:
    """The stream's events (text). Its slot is released by ``close()``, which the server calls when the
    connection ends, whatever the method: a HEAD request never starts the body (a generator's ``finally`` would
    never run), so the slot is this object's, not the generator's; and should nobody close it, when it is
    collected."""

    def __init__(self, events: Iterator[str], release: Callable[[], None]) -> None:
        self._events = events
        self._release = release
        self._finalizer = weakref.finalize(self, release)

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> str:
        return next(self._events)

    def close(self) -> None:
        try:
            close = getattr(self._events, "close", None)
            if close is not None:
                close()
        finally:
            self._finalizer()


def _event(kind: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {to_json(data).decode()}\n\n"  # to_json: integers past 64 bits too


def follow(journal: Journal, filters: dict[str, Any], after: int, stop: threading.Event | None = None) -> EventStream:
    """The SSE text of every entry after ``after`` that matches, as the journal grows, until closed."""
    return EventStream(_follow(journal, filters, after, stop), _slots.take())


def _follow(journal: Journal, filters: dict[str, Any], after: int, stop: threading.Event | None) -> Iterator[str]:
    last, quiet_since = after, time.monotonic()
    _, lost = journal.watch(0)  # (small files read: no turn needed, the GIL is released meanwhile)
    yield f"retry: 1000\n\n: following the journal after {last}\n\n"
    while stop is None or not stop.is_set():
        upto, now_lost = journal.watch(int(time.time() * 1_000_000) - SETTLE_MS * 1000)
        if now_lost > lost:
            yield _event("unrecorded", {"unrecorded": now_lost - lost})
            lost = now_lost
        sent, full = False, False
        for chunk, reached, cut in _poll(journal, filters, last, upto):
            sent, last, full = True, reached, cut
            yield chunk
        now = time.monotonic()
        if sent:
            quiet_since = now
        elif now - quiet_since >= HEARTBEAT_SECONDS:
            yield ": heartbeat\n\n"  # also how a closed connection is noticed
            quiet_since = now
        if not full:  # a poll cut short by its byte budget goes on at once
            time.sleep(POLL_SECONDS)


def _poll(journal: Journal, filters: dict[str, Any], last: int, upto: int) -> Iterator[tuple[str, int, bool]]:
    """(chunk, id of its last entry, cut short) for the entries after ``last`` up to ``upto``; past ``BUFFER``
    entries or ``BUFFER_BYTES``, a ``dropped`` event first and the newest that fit. Each step is one short turn
    in the requests' queue (a poll never fights them over the GIL, nor keeps them waiting long), and what a step
    reads is chosen by the entries' sizes before any is read."""
    turn = journal.storage.turn
    with turn():
        pending = journal.count(after=last, upto=upto, **filters)
    if not pending:
        return
    with turn():
        newest = journal.sizes(after=last, upto=upto, limit=BUFFER, newest=True, **filters)
    fit, weight = 0, 0
    for _, size in reversed(newest):
        if fit and weight + size > BUFFER_BYTES:
            break
        fit, weight = fit + 1, weight + size
    if fit < pending:
        resume = newest[len(newest) - fit][0] - 1 if fit else upto
        yield _event("dropped", {"dropped": pending - fit, "resume_after": resume}), resume, False
        last = resume
    sent = 0
    while sent < BUFFER_BYTES:
        with turn():
            ahead = journal.sizes(after=last, upto=upto, limit=STEP, **filters)
        if not ahead:
            return
        take, weight = 0, 0
        for _, size in ahead:
            if take and weight + size > CHUNK_BYTES:
                break
            take, weight = take + 1, weight + size
        with turn():
            rows = journal.rows(after=last, upto=ahead[take - 1][0], limit=take, **filters)
        chunk = "".join(text for _, text in _events_of(rows))
        last, sent = ahead[take - 1][0], sent + len(chunk)
        yield chunk, last, sent >= BUFFER_BYTES
        if take == len(ahead) < STEP:
            return


def _events_of(rows: list[Stored]) -> list[tuple[int, str]]:
    """Each row's id and event, made once for every stream of this process: the console and `tail` follow the
    same entries, and parsing and serialising an entry is most of a poll's work. Keyed by the whole row (its
    id and a hash of the rest: two workers may number an entry with the same microsecond)."""
    global _events_bytes
    made = []
    for row in rows:
        key = (row.id, hash(row))
        with _events_lock:
            text = _events.get(key)
            if text is not None:
                _events.move_to_end(key)
        if text is None:
            text = _event("entry", entry(row), row.id)
            with _events_lock:
                if key not in _events:
                    _events[key] = text
                    _events_bytes += len(text)
                while _events_bytes > EVENTS_BYTES and _events:
                    _events_bytes -= len(_events.popitem(last=False)[1])
        made.append((row.id, text))
    return made


def _forget_events() -> None:
    global _events_bytes
    with _events_lock:
        _events.clear()
        _events_bytes = 0


class _Encoded:
    """The events as the bytes the server sends, closed with them."""

    def __init__(self, events: EventStream) -> None:
        self._events = events

    def __iter__(self) -> _Encoded:
        return self

    def __next__(self) -> bytes:
        return next(self._events).encode()

    def close(self) -> None:
        self._events.close()


def answer(events: EventStream) -> Answer:
    return Answer(
        200,
        _Encoded(events),
        [
            ("Content-Type", "text/event-stream; charset=utf-8"),
            ("Cache-Control", "no-cache"),
            ("X-Accel-Buffering", "no"),
        ],
    )
