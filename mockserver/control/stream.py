"""GET /__mock/journal/stream: the journal as Server-Sent Events, for the console and ``tap4book-mock tail``.

The stream follows the journal files of every worker (store/journal.py) by polling them, a few times a
second: it never sits in the path of an API request, so a slow or stalled reader cannot slow the API down.
Entries are sent in journal order, each once: only entries older than ``SETTLE_MS`` are sent, by which time
every worker has committed what it numbered before them (an id is the microsecond its entry was recorded,
taken just before the insert), and ``Last-Event-ID`` resumes after the last one a client saw. A reader that
falls more than ``BUFFER`` entries behind skips to the newest ones and is told how many it missed.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator
from typing import Any

from mockserver import requestlock
from mockserver.answer import Answer
from mockserver.errors import InvalidParameter
from mockserver.render import to_json
from mockserver.store.journal import Journal, entry

POLL_SECONDS = 0.25
SETTLE_MS = 300
HEARTBEAT_SECONDS = 1.0  # a closed connection is noticed at the next write: the reader's thread is freed soon
BUFFER = 500
STEP = 100  # entries read per turn
EVENTS_KEPT = 600  # entries' events remembered for the other streams: a few MB, while any stream is open
MAX_STREAMS = 16  # per server process

_open = 0
_events: collections.OrderedDict[tuple[int, int], str] = collections.OrderedDict()
_events_lock = threading.Lock()  # streams outside a server (tests) have no request lock around them
_open_lock = threading.Lock()


def _event(kind: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {to_json(data).decode()}\n\n"  # to_json: integers past 64 bits too


def follow(journal: Journal, filters: dict[str, Any], after: int, stop: threading.Event | None = None) -> Iterator[str]:
    """The SSE text of every entry after ``after`` that matches, as the journal grows, until closed."""
    global _open
    with _open_lock:
        if _open >= MAX_STREAMS:
            raise InvalidParameter(f"At most {MAX_STREAMS} journal streams per server process: close one first")
        _open += 1

    def events() -> Iterator[str]:
        global _open
        last, quiet_since = after, time.monotonic()
        try:
            yield f"retry: 1000\n\n: following the journal after {last}\n\n"
            while stop is None or not stop.is_set():
                upto = int(time.time() * 1_000_000) - SETTLE_MS * 1000
                rows, dropped = _read(journal, filters, last, upto)
                chunk = [_event("dropped", dropped)] if dropped else []
                chunk += [text for _, text in rows]
                if rows:
                    last = rows[-1][0]
                if chunk:
                    yield "".join(chunk)  # one write per poll, whatever the number of entries
                now = time.monotonic()
                if rows:
                    quiet_since = now
                elif now - quiet_since >= HEARTBEAT_SECONDS:
                    yield ": heartbeat\n\n"  # also how a closed connection is noticed
                    quiet_since = now
                time.sleep(POLL_SECONDS)
        finally:
            with _open_lock:
                _open -= 1
                if not _open:
                    with _events_lock:
                        _events.clear()

    return events()


def _read(
    journal: Journal, filters: dict[str, Any], last: int, upto: int
) -> tuple[list[tuple[int, str]], dict[str, int] | None]:
    """The (id, event) of each entry after ``last`` up to ``upto``; past ``BUFFER`` of them, the newest
    ``BUFFER`` and what was skipped. Read ``STEP`` at a time, each step in the requests' queue (a poll never
    fights them over the GIL) and short: a busy server's poll read 500 entries in one turn, a 5 ms wait for the
    requests behind."""
    with requestlock.turn():
        pending = journal.count(after=last, upto=upto, **filters)
    rows: list[tuple[int, str]] = []
    if pending <= BUFFER:
        while True:
            with requestlock.turn():
                page = _events_of(journal.rows(after=rows[-1][0] if rows else last, upto=upto, limit=STEP, **filters))
            rows += page
            if len(page) < STEP:
                break
        if len(rows) <= BUFFER:
            return rows, None
        # More than counted: entries past the journal's visible window, still in a file until its next trim.
        pending, rows = len(rows), rows[-BUFFER:]
        return rows, {"dropped": pending - BUFFER, "resume_after": rows[0][0] - 1}
    before = upto + 1
    while len(rows) < BUFFER:  # fell behind: the newest BUFFER, read backwards from upto
        want = min(STEP, BUFFER - len(rows))
        with requestlock.turn():
            page = _events_of(journal.rows(limit=want, before=before, upto=upto, **filters))
        rows[:0] = page
        if len(page) < want:
            break
        before = page[0][0]
    resume_after = rows[0][0] - 1 if rows else upto
    return rows, {"dropped": pending - len(rows), "resume_after": resume_after}


def _events_of(rows: list[Any]) -> list[tuple[int, str]]:
    """Each row's id and event, made once for every stream of this process: the console and `tail` follow the
    same entries, and parsing and serialising an entry is most of a poll's work. Keyed by the whole row (its
    id and a hash of the rest: two workers may number an entry with the same microsecond)."""
    made = []
    for row in rows:
        key = (row[0], hash(row))
        with _events_lock:
            text = _events.get(key)
            if text is not None:
                _events.move_to_end(key)
        if text is None:
            text = _event("entry", entry(row), row[0])
            with _events_lock:
                _events[key] = text
                if len(_events) > EVENTS_KEPT:
                    _events.popitem(last=False)
        made.append((row[0], text))
    return made


def answer(events: Iterator[str]) -> Answer:
    return Answer(
        200,
        (chunk.encode() for chunk in events),
        [
            ("Content-Type", "text/event-stream; charset=utf-8"),
            ("Cache-Control", "no-cache"),
            ("X-Accel-Buffering", "no"),
        ],
    )
