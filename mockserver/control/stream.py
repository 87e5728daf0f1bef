"""GET /__mock/journal/stream: the journal as Server-Sent Events, for the console and ``tap4book-mock tail``.

The stream follows the journal files of every worker (store/journal.py) by polling them, a few times a
second: it never sits in the path of an API request, so a slow or stalled reader cannot slow the API down.
Entries are sent in journal order, each once: only entries older than ``SETTLE_MS`` are sent, by which time
every worker has committed what it numbered before them (an id is the microsecond its entry was recorded,
taken just before the insert), and ``Last-Event-ID`` resumes after the last one a client saw. A reader that
falls more than ``BUFFER`` entries behind skips to the newest ones and is told how many it missed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
from flask import Response

from mockserver import requestlock
from mockserver.errors import InvalidParameter
from mockserver.store.journal import Journal

POLL_SECONDS = 0.25
SETTLE_MS = 300
HEARTBEAT_SECONDS = 1.0  # a closed connection is noticed at the next write: the reader's thread is freed soon
BUFFER = 500
MAX_STREAMS = 16  # per server process

_open = 0
_open_lock = threading.Lock()


def _event(kind: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {orjson.dumps(data).decode()}\n\n"


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
                with requestlock.turn():  # in the requests' queue: a poll never fights them over the GIL
                    entries = journal.entries(after=last, upto=upto, limit=BUFFER + 1, **filters)
                    dropped = None
                    if len(entries) > BUFFER:  # fell behind: the newest BUFFER, and how many were skipped
                        pending = journal.count(after=last, upto=upto, **filters)
                        entries = journal.entries(limit=BUFFER, before=upto + 1, **filters)
                        skipped_to = entries[0]["id"] - 1 if entries else upto
                        dropped = {"dropped": pending - len(entries), "resume_after": skipped_to}
                chunk = [_event("dropped", dropped)] if dropped else []
                chunk += [_event("entry", entry, entry["id"]) for entry in entries]
                if entries:
                    last = entries[-1]["id"]
                if chunk:
                    yield "".join(chunk)  # one write per poll, whatever the number of entries
                now = time.monotonic()
                if entries:
                    quiet_since = now
                elif now - quiet_since >= HEARTBEAT_SECONDS:
                    yield ": heartbeat\n\n"  # also how a closed connection is noticed
                    quiet_since = now
                time.sleep(POLL_SECONDS)
        finally:
            with _open_lock:
                _open -= 1

    return events()


def response(events: Iterator[str]) -> Response:
    return Response(
        (chunk.encode() for chunk in events),
        content_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        direct_passthrough=True,
    )
