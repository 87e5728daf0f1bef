"""The request journal: the most recent API requests, with what the sandbox answered and why.

Every worker process writes its own SQLite file in the data directory (``journal/<pid>.sqlite``), under a
lock of its own: writes never wait on another process, where SQLite's busy handler would sleep for
milliseconds and show up in every percentile. A read merges the files: the newest ``size`` entries overall
are visible, filtered in SQL and paged, so that an integrator's test can assert "my code called POST
/api/appointment once, with this body" whichever worker served the call.

Bounded twice (docs/limits.md): in entries (``--journal-size``) and in bytes (``--journal-bytes``, shared
out between the workers); each entry keeps at most ``HEADER_BYTES`` of headers and ``BODY_LIMIT`` of body.
Secrets are masked before anything is stored: the value of any token header or parameter, whatever its
spelling, and every known account or admin token wherever it appears (a Referer, another header, a body).
"""

from __future__ import annotations

import atexit
import collections
import json
import mmap
import os
import re
import sqlite3
import struct
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mockserver import requestlock
from mockserver.store.sqlite import connect, transaction

SECRET_NAMES = frozenset({"access-token", "x-mock-admin-token", "authorization", "cookie", "proxy-authorization"})
BODY_LIMIT = 65536
#: How much of each answer's body is kept (enough to read an envelope's message and first records).
ANSWER_LIMIT = 2048
#: Answers remembered per process to store a repeated one once (a test suite's or a dashboard's reads repeat).
ANSWERS_REMEMBERED = 256
HEADER_BYTES = 8192
HEADER_VALUE_LIMIT = 1024
FLUSH_SECONDS = 0.005
TRIM_EVERY = 256  # reads never look past the newest `size` overall: a file may hold a few more meanwhile

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, tenant TEXT, method TEXT NOT NULL, path TEXT NOT NULL,
    query TEXT NOT NULL, headers TEXT NOT NULL, body TEXT, status INTEGER NOT NULL, error_code TEXT,
    rule_id INTEGER, duration_ms REAL NOT NULL, hint TEXT, fault TEXT, answer_type TEXT, answer_id INTEGER,
    size INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS answers (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
"""
_FIELDS = (
    "id, at, tenant, method, path, query, headers, body, status, error_code, rule_id, duration_ms, hint, fault,"
    " answer_type"
)
_WRITTEN = f"{_FIELDS}, answer_id, size"
_READ = f"{_FIELDS}, (SELECT text FROM answers WHERE answers.id = entries.answer_id)"
_STATUS_CLASSES = {"2xx": (200, 299), "3xx": (300, 399), "4xx": (400, 499), "5xx": (500, 599)}


class _PendingMarker:
    """Eight bytes in a small file: the id of this worker's oldest unwritten entry, 0 when it has none.

    Shared memory (mmap) for the writer, whose every request may set it; readers in other workers read the
    file, twice until both reads agree (the writer does not lock it)."""

    def __init__(self, path: Path) -> None:
        path.write_bytes(b"\0" * 8)
        with path.open("r+b") as file:  # the map keeps the file open itself
            self._map = mmap.mmap(file.fileno(), 8)

    def set(self, value: int) -> None:
        struct.pack_into("q", self._map, 0, value)

    @staticmethod
    def read(path: Path) -> int:
        try:
            first = path.read_bytes()
            second = path.read_bytes()
        except OSError:
            return 0
        if first != second or len(first) != 8:
            return 1  # being written: wait once more
        return int(struct.unpack("q", first)[0])


def mask(value: str) -> str:
    """Enough of a secret to tell two apart in a journal, not enough to reuse it."""
    return value[:4] + "…" if len(value) > 8 else "…"


class _Flusher:
    """One thread per process writes every journal's pending entries, a few milliseconds after they come."""

    def __init__(self) -> None:
        self._dirty: weakref.WeakSet[Journal] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pid = 0

    def wants(self, journal: Journal) -> None:
        with self._lock:
            self._dirty.add(journal)
            if self._pid != os.getpid():  # the first write in this process (a forked worker has no thread)
                self._pid = os.getpid()
                self._wake = threading.Event()
                threading.Thread(target=self._run, name="tap4book-journal", daemon=True).start()
                atexit.register(self.flush_all)
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()  # idle: no CPU until an entry is recorded
            time.sleep(FLUSH_SECONDS)  # let the entries of this moment join the batch
            self._wake.clear()
            with requestlock.turn():  # in the requests' queue: no GIL fight with them
                self.flush_all()

    def flush_all(self) -> None:
        with self._lock:
            journals = list(self._dirty)
            self._dirty = weakref.WeakSet()
        for journal in journals:
            journal.flush()


_flusher = _Flusher()


def _alternation(secrets: list[str]) -> re.Pattern[str]:
    """One pattern for many secrets, the longest first (a secret inside another must not win)."""
    return re.compile("|".join(re.escape(secret) for secret in secrets) or "(?!)")


def _secret_name(name: str) -> bool:
    return name.lower().replace("_", "-") in SECRET_NAMES


@dataclass(frozen=True)
class Filters:
    method: str | None = None
    path: str | None = None
    tenant: str | None = None
    status_class: str | None = None
    error_code: str | None = None

    def sql(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if self.method:
            clauses.append("method = ?")
            params.append(self.method.upper())
        if self.path:
            # GLOB: '*', '?' and '[...]' as in a shell pattern, case-sensitive like the paths themselves.
            clauses.append("(path GLOB ? OR rtrim(path, '/') GLOB ?)")
            params += [self.path, self.path]
        if self.tenant:
            clauses.append("tenant = ?")
            params.append(self.tenant)
        if self.status_class:
            low, high = _STATUS_CLASSES[self.status_class]
            clauses.append("status BETWEEN ? AND ?")
            params += [low, high]
        if self.error_code:
            clauses.append("error_code = ?")
            params.append(self.error_code.upper())
        return " AND ".join(clauses) or "1", params


class Journal:
    def __init__(
        self, directory: Path, size: int, max_bytes: int = 32 * 1024 * 1024, secrets: Iterable[str] = ()
    ) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.size = size
        self.max_bytes = max_bytes
        self.secrets = sorted({secret for secret in secrets if len(secret) >= 8}, key=len, reverse=True)
        self._known = frozenset(self.secrets)
        self._pattern = _alternation(self.secrets)
        self._lock = threading.Lock()
        self._reading = requestlock.Local()
        self._writer: sqlite3.Connection | None = None
        self._pid = 0
        self._last_id = 0
        # The id and size of every entry in this process's file, oldest first: trimming pops them here and
        # deletes by id, instead of counting rows and summing sizes in SQL on every trim.
        self._kept: collections.deque[tuple[int, int]] = collections.deque()
        self._bytes = 0  # of the entries in the file
        self._pending: list[tuple[Any, ...]] = []
        # An answer is stored once per file and entries point to it: most answers repeat, and writing (then
        # trimming) 2 KiB per entry was most of the journal's cost on a busy server.
        self._answer_ids: dict[str, int] = {}  # the texts of answers in the file or pending, newest last
        self._new_answers: list[tuple[int, str]] = []
        self._last_answer_id = 0
        self._write_lock = threading.Lock()  # the writer connection; _lock guards only the pending rows
        self._marked = 0  # what the marker says: the oldest entry not yet in the file
        self._marker: Any = None

    def _own(self) -> sqlite3.Connection:
        """This process's file and its flusher (a forked worker starts its own)."""
        if self._pid != os.getpid():
            self._writer = connect(self.directory / f"{os.getpid()}.sqlite", cache_kib=256)
            self._writer.executescript(SCHEMA)
            if "answer_id" not in {row[1] for row in self._writer.execute("PRAGMA table_info(entries)")}:
                # A dead process's file of an older layout, under our pid in a kept --data-dir: stale anyway.
                self._writer.execute("DROP TABLE entries")
                self._writer.executescript(SCHEMA)
            self._pid, self._last_id, self._pending, self._marked = os.getpid(), 0, [], 0
            self._answer_ids, self._new_answers = {}, []
            self._last_answer_id = self._writer.execute("SELECT COALESCE(MAX(id), 0) FROM answers").fetchone()[0]
            self._count_kept(self._writer)
            self._marker = _PendingMarker(self.directory / f"{os.getpid()}.pending")
        assert self._writer is not None
        return self._writer

    # -- batching ------------------------------------------------------------------------------
    # An entry is written a few milliseconds after its request, with the others of that moment, in one
    # transaction: per entry that costs a fraction of an autocommitted INSERT. Nothing is ever read stale:
    # a read flushes this process's entries first, and waits for the other workers' (each says, in its
    # ``.pending`` marker, since when it holds unwritten entries); a stream only reads entries older than
    # the flush interval many times over.

    def flush(self) -> None:
        """Write this process's pending entries now (requests keep recording meanwhile)."""
        with self._write_lock:
            with self._lock:
                if not self._pending or self._pid != os.getpid():
                    return
                rows, self._pending = self._pending, []
                answers, self._new_answers = self._new_answers, []
                conn = self._own()
            with transaction(conn):
                conn.executemany("INSERT INTO answers (id, text) VALUES (?, ?)", answers)
                conn.executemany(
                    f"INSERT INTO entries ({_WRITTEN}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            with self._lock:  # the oldest entry still unwritten: one recorded while these were written, or none
                self._marked = self._pending[0][0] if self._pending else 0
                self._marker.set(self._marked)
            self._kept.extend((row[0], row[-1]) for row in rows)
            self._bytes += sum(row[-1] for row in rows)
            if len(self._kept) >= self.size + TRIM_EVERY or self._bytes > self.max_bytes:
                self._trim(conn)

    def _count_kept(self, conn: sqlite3.Connection) -> None:
        self._kept = collections.deque(conn.execute("SELECT id, size FROM entries ORDER BY id"))
        self._bytes = sum(size for _, size in self._kept)

    def _settle(self, timeout: float = 0.5) -> None:
        """Before a read: every entry recorded until now, in any worker, is in its file."""
        self.flush()
        asked = int(time.time() * 1_000_000)
        deadline = time.monotonic() + timeout
        for marker in self.directory.glob("*.pending"):
            if marker.stem == str(os.getpid()):
                continue
            while 0 < _PendingMarker.read(marker) <= asked and time.monotonic() < deadline:
                time.sleep(0.002)

    # -- writing -------------------------------------------------------------------------------

    def _masker(self, query: list[tuple[str, str]], headers: list[tuple[str, str]]) -> Any:
        """A function that masks every secret in a text: the known tokens, and the values this request sent
        under a secret name. Most texts hold none: a substring test is cheaper than a regex over them."""
        found = {value for name, value in [*query, *headers] if len(value) >= 8 and _secret_name(name)}
        secrets = self.secrets if found <= self._known else sorted({*self.secrets, *found}, key=len, reverse=True)
        if not secrets:
            return lambda text: text
        pattern = self._pattern if secrets is self.secrets else _alternation(secrets)

        def hide(text: str) -> str:
            if any(secret in text for secret in secrets):
                return pattern.sub(lambda match: mask(match.group()), text)
            return text

        return hide

    def record(
        self,
        *,
        tenant: str | None,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: list[tuple[str, str]],
        body: bytes,
        status: int,
        error_code: str | None,
        rule_id: int | None,
        duration_ms: float,
        hint: str | None = None,
        fault: str | None = None,
        answer_type: str | None = None,
        answer: bytes = b"",
    ) -> int:
        """Record one request; returns its entry's id (an id is made even when the journal is off)."""
        if self.size == 0:
            with self._lock:
                self._last_id = max(int(time.time() * 1_000_000), self._last_id + 1)
                return self._last_id
        hide = self._masker(query, headers)
        shown_query: dict[str, str] = {}
        for name, value in query:
            shown_query.setdefault(name, mask(value) if _secret_name(name) else hide(value[:HEADER_VALUE_LIMIT]))
        shown_headers: dict[str, str] = {}
        budget = HEADER_BYTES
        for number, (name, value) in enumerate(headers):
            shown = mask(value) if _secret_name(name) else hide(value[:HEADER_VALUE_LIMIT])
            budget -= len(name) + len(shown)
            if budget < 0:
                shown_headers["…"] = f"{len(headers) - number} more headers not recorded ({HEADER_BYTES} bytes kept)"
                break
            shown_headers[name] = shown
        text = hide(body[:BODY_LIMIT].decode("utf-8", "replace")) if body else None
        answer_text = hide(answer[:ANSWER_LIMIT].decode("utf-8", "replace")) if answer else None
        query_text = orjson.dumps(shown_query).decode()
        headers_text = orjson.dumps(shown_headers).decode()
        size = len(query_text) + len(headers_text) + len(text or "") + len(answer_text or "") + len(path) + 200
        now = time.time()
        row = (tenant, method, path[:2048], query_text, headers_text, text, status, error_code, rule_id)
        with self._lock:
            self._own()
            # Ids are microsecond timestamps: in time order across every worker's file (and still exact
            # as JavaScript numbers, which a larger id would not be).
            entry_id = self._last_id = max(int(now * 1_000_000), self._last_id + 1)
            if not self._marked:
                self._marked = entry_id
                self._marker.set(entry_id)
            answer_id = None if answer_text is None else self._answer_id(answer_text)
            self._pending.append(
                (entry_id, now, *row, round(duration_ms, 3), hint, fault, answer_type, answer_id, size)
            )
        _flusher.wants(self)
        return entry_id

    def _answer_id(self, text: str) -> int:
        """The id of this answer's text in the file, stored (at the next flush) if it is not remembered."""
        answer_id = self._answer_ids.pop(text, None)  # popped and put back: the newest stays last
        if answer_id is None:
            self._last_answer_id = answer_id = self._last_answer_id + 1
            self._new_answers.append((answer_id, text))
            if len(self._answer_ids) >= ANSWERS_REMEMBERED:  # forgotten, not deleted: its entries keep it
                del self._answer_ids[next(iter(self._answer_ids))]
        self._answer_ids[text] = answer_id
        return answer_id

    def _trim(self, conn: sqlite3.Connection) -> None:
        """Keep the newest ``size`` entries and, by dropping the oldest, 3/4 of the byte budget at most."""
        last = 0
        while len(self._kept) > self.size:
            last, size = self._kept.popleft()
            self._bytes -= size
        if self._bytes > self.max_bytes:
            keep = self.max_bytes * 3 // 4
            while self._kept and self._bytes > keep:
                last, size = self._kept.popleft()
                self._bytes -= size
        if not last:
            return
        conn.execute("DELETE FROM entries WHERE id <= ?", (last,))
        unused = {
            row[0]
            for row in conn.execute(
                "SELECT id FROM answers WHERE id NOT IN (SELECT answer_id FROM entries WHERE answer_id IS NOT NULL)"
            )
        }
        with self._lock:  # an answer that a pending entry points to stays; the others are no longer handed out
            unused -= {row[-2] for row in self._pending}
            self._answer_ids = {text: aid for text, aid in self._answer_ids.items() if aid not in unused}
        conn.executemany("DELETE FROM answers WHERE id = ?", [(aid,) for aid in unused])

    # -- reading -------------------------------------------------------------------------------

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("*.sqlite"))

    def _readers(self) -> list[sqlite3.Connection]:
        """This thread's read connections, one per worker file (kept: a stream polls several times a second)."""
        local = self._reading.get()
        if getattr(local, "pid", None) != os.getpid():
            local.pid, local.conns = os.getpid(), {}
        conns: dict[Path, sqlite3.Connection] = local.conns
        paths = self._files()
        for gone in set(conns) - set(paths):
            conns.pop(gone).close()
        for path in paths:
            if path not in conns:
                try:
                    conns[path] = connect(path, cache_kib=256)
                except sqlite3.Error:
                    continue  # a file a worker is still creating
        return list(conns.values())

    def _each(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for conn in self._readers():
            try:
                rows += conn.execute(sql, params).fetchall()
            except sqlite3.Error:
                continue  # a file a worker is still creating
        return rows

    def _oldest_visible(self) -> int:
        """The id of the oldest entry among the newest ``size`` of every worker together."""
        ids = sorted(
            (row[0] for row in self._each("SELECT id FROM entries ORDER BY id DESC LIMIT ?", [self.size])), reverse=True
        )
        return ids[self.size - 1] if len(ids) >= self.size else 0

    def entries(self, **query: Any) -> list[dict[str, Any]]:
        """The entries ``rows`` selects (same arguments), as the journal shows them."""
        return [entry(row) for row in self.rows(**query)]

    def rows(
        self,
        *,
        limit: int = 100,
        before: int | None = None,
        after: int | None = None,
        upto: int | None = None,
        **filters: Any,
    ) -> list[tuple[Any, ...]]:
        """The newest ``limit`` matching entries (older than ``before``), oldest first; with ``after``, the
        oldest ``limit`` entries after that id (up to ``upto``), for a stream to follow the journal. Stored
        rows (``entry`` reads one): a stream makes each entry's event once for all its readers."""
        if upto is None:
            self._settle()  # (a stream reads only entries older than its settle time: no wait)
        where, params = Filters(**filters).sql()
        # A stream following the journal (after=) needs no visibility floor: what it has not seen is newer than
        # what it saw, and finding the floor reads every worker's newest ids, several times a second.
        bounds = ["id >= ?"]
        values: list[Any] = [0 if after is not None and upto is not None else self._oldest_visible()]
        if before is not None:
            bounds.append("id < ?")
            values.append(before)
        if after is not None:
            bounds.append("id > ?")
            values.append(after)
        if upto is not None:
            bounds.append("id <= ?")
            values.append(upto)
        order = "ASC" if after is not None else "DESC"
        rows = self._each(
            f"SELECT {_READ} FROM entries WHERE {' AND '.join(bounds)} AND {where} ORDER BY id {order} LIMIT ?",
            [*values, *params, limit],
        )
        rows.sort(key=lambda row: row[0], reverse=order == "DESC")
        chosen = rows[:limit]
        if order == "DESC":
            chosen.reverse()
        return chosen

    def count(self, *, after: int | None = None, upto: int | None = None, **filters: Any) -> int:
        if upto is None:
            self._settle()
        where, params = Filters(**filters).sql()
        bounds, values = ["id >= ?"], [self._oldest_visible()]
        if after is not None:
            bounds.append("id > ?")
            values.append(after)
        if upto is not None:
            bounds.append("id <= ?")
            values.append(upto)
        sql = f"SELECT COUNT(*) FROM entries WHERE {' AND '.join(bounds)} AND {where}"
        return sum(row[0] for row in self._each(sql, [*values, *params]))

    def clear(self, tenant: str | None = None) -> int:
        """Forget the entries (of one tenant); returns how many were visible."""
        visible = self.count(tenant=tenant)  # settles first: nothing recorded before the clear survives it
        for path in self._files():
            conn = connect(path, cache_kib=256)
            try:
                if tenant is None:
                    conn.execute("DELETE FROM entries")
                else:
                    conn.execute("DELETE FROM entries WHERE tenant = ?", (tenant,))
            except sqlite3.Error:
                continue
            finally:
                conn.close()
        with self._write_lock:
            if self._writer is not None and self._pid == os.getpid():
                self._count_kept(self._writer)
        return visible


def entry(row: tuple[Any, ...]) -> dict[str, Any]:
    """A stored row as the journal shows it."""
    rid, at, tenant, method, path, query, headers, body, status, code, rule_id, duration, hint, fault, kind, answer = (
        row
    )
    return {
        "id": rid,
        "at": at,
        "tenant": tenant,
        "method": method,
        "path": path,
        "query": orjson.loads(query),
        "headers": orjson.loads(headers),
        "body": _parsed(body),
        "status": status,
        "error_code": code,
        "rule_id": rule_id,
        "duration_ms": duration,
        "hint": hint,
        "fault": fault,
        "response": {"content_type": kind, "body": _parsed(answer)} if kind is not None else None,
    }


def _parsed(text: str | None) -> Any:
    """A recorded body: its JSON value when it is whole, standard JSON, else the text as recorded.

    Standard: NaN, Infinity, 1e999 or a lone surrogate escape stay text, as sent (read as JSON values, they
    were shown as null or could not be rendered at all). orjson, because a stream reads hundreds of entries
    a poll and the standard parser was most of a poll's time; but orjson reads an integer past 64 bits as a
    float, so a value with a float in it is read again by the standard parser, which is exact."""
    if not text:
        return text
    try:
        value = orjson.loads(text)
        return json.loads(text) if _has_float(value) else value
    except (ValueError, RecursionError):
        return text


def _has_float(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
