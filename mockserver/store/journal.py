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

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockserver.store.sqlite import connect

SECRET_NAMES = frozenset({"access-token", "x-mock-admin-token", "authorization", "cookie", "proxy-authorization"})
BODY_LIMIT = 65536
#: How much of each answer's body is kept (enough to read an envelope's message and first records).
ANSWER_LIMIT = 2048
HEADER_BYTES = 8192
HEADER_VALUE_LIMIT = 1024
TRIM_EVERY = 256  # reads never look past the newest `size` overall: a file may hold a few more meanwhile

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, tenant TEXT, method TEXT NOT NULL, path TEXT NOT NULL,
    query TEXT NOT NULL, headers TEXT NOT NULL, body TEXT, status INTEGER NOT NULL, error_code TEXT,
    rule_id INTEGER, duration_ms REAL NOT NULL, hint TEXT, fault TEXT, answer_type TEXT, answer TEXT,
    size INTEGER NOT NULL DEFAULT 0);
"""
_COLUMNS = (
    "id, at, tenant, method, path, query, headers, body, status, error_code, rule_id, duration_ms, hint, fault,"
    " answer_type, answer"
)
_STATUS_CLASSES = {"2xx": (200, 299), "3xx": (300, 399), "4xx": (400, 499), "5xx": (500, 599)}


def mask(value: str) -> str:
    """Enough of a secret to tell two apart in a journal, not enough to reuse it."""
    return value[:4] + "…" if len(value) > 8 else "…"


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
        self._pattern = _alternation(self.secrets)
        self._lock = threading.Lock()
        self._reading = threading.local()
        self._writer: sqlite3.Connection | None = None
        self._pid = 0
        self._last_id = 0
        self._writes = 0
        self._bytes = 0

    def _own(self) -> sqlite3.Connection:
        """This process's file (a forked worker starts its own)."""
        if self._pid != os.getpid():
            self._writer = connect(self.directory / f"{os.getpid()}.sqlite", cache_kib=256)
            self._writer.executescript(SCHEMA)
            self._pid, self._last_id = os.getpid(), 0
            self._bytes = int(self._writer.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0])
        assert self._writer is not None
        return self._writer

    # -- writing -------------------------------------------------------------------------------

    def _masker(self, query: list[tuple[str, str]], headers: list[tuple[str, str]]) -> Any:
        """A function that masks every secret in a text: the known tokens, and the values this request sent
        under a secret name. Most texts hold none: a substring test is cheaper than a regex over them."""
        found = {value for name, value in [*query, *headers] if len(value) >= 8 and _secret_name(name)}
        secrets = self.secrets if found <= set(self.secrets) else sorted({*self.secrets, *found}, key=len, reverse=True)
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
    ) -> None:
        if self.size == 0:
            return
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
        query_text = json.dumps(shown_query, ensure_ascii=False)
        headers_text = json.dumps(shown_headers, ensure_ascii=False)
        size = len(query_text) + len(headers_text) + len(text or "") + len(answer_text or "") + len(path) + 200
        now = time.time()
        row = (tenant, method, path[:2048], query_text, headers_text, text, status, error_code, rule_id)
        with self._lock:
            conn = self._own()
            # Ids are microsecond timestamps: in time order across every worker's file (and still exact
            # as JavaScript numbers, which a larger id would not be).
            entry_id = self._last_id = max(int(now * 1_000_000), self._last_id + 1)
            self._writes += 1
            self._bytes += size
            conn.execute(
                f"INSERT INTO entries ({_COLUMNS}, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (entry_id, now, *row, round(duration_ms, 3), hint, fault, answer_type, answer_text, size),
            )
            if self._writes % TRIM_EVERY == 0 or self._bytes > self.max_bytes:
                self._trim(conn)

    def _trim(self, conn: sqlite3.Connection) -> None:
        """Keep the newest ``size`` entries and, by dropping the oldest, 3/4 of the byte budget at most.

        Both by an id threshold found on the primary key, so that a trim costs a few index steps."""
        row = conn.execute("SELECT id FROM entries ORDER BY id DESC LIMIT 1 OFFSET ?", (self.size,)).fetchone()
        if row is not None:
            self._bytes -= self._drop_through(conn, row[0])
        if self._bytes > self.max_bytes:
            keep, kept = self.max_bytes * 3 // 4, 0
            for entry_id, size in conn.execute("SELECT id, size FROM entries ORDER BY id DESC"):
                kept += size
                if kept > keep:
                    self._bytes -= self._drop_through(conn, entry_id)
                    break

    @staticmethod
    def _drop_through(conn: sqlite3.Connection, entry_id: int) -> int:
        """Delete the entries up to this id; returns their bytes."""
        dropped = conn.execute("SELECT COALESCE(SUM(size), 0) FROM entries WHERE id <= ?", (entry_id,)).fetchone()[0]
        conn.execute("DELETE FROM entries WHERE id <= ?", (entry_id,))
        return int(dropped)

    # -- reading -------------------------------------------------------------------------------

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("*.sqlite"))

    def _readers(self) -> list[sqlite3.Connection]:
        """This thread's read connections, one per worker file (kept: a stream polls several times a second)."""
        local = self._reading
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

    def entries(
        self,
        *,
        limit: int = 100,
        before: int | None = None,
        after: int | None = None,
        upto: int | None = None,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` matching entries (older than ``before``), oldest first; with ``after``, the
        oldest ``limit`` entries after that id (up to ``upto``), for a stream to follow the journal."""
        where, params = Filters(**filters).sql()
        bounds = ["id >= ?"]
        values: list[Any] = [self._oldest_visible()]
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
            f"SELECT {_COLUMNS} FROM entries WHERE {' AND '.join(bounds)} AND {where} ORDER BY id {order} LIMIT ?",
            [*values, *params, limit],
        )
        rows.sort(key=lambda row: row[0], reverse=order == "DESC")
        chosen = rows[:limit]
        if order == "DESC":
            chosen.reverse()
        return [_entry(row) for row in chosen]

    def count(self, *, after: int | None = None, upto: int | None = None, **filters: Any) -> int:
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
        visible = self.count(tenant=tenant)
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
        with self._lock:
            if self._writer is not None and self._pid == os.getpid():
                self._bytes = int(self._writer.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0])
        return visible


def _entry(row: tuple[Any, ...]) -> dict[str, Any]:
    rid, at, tenant, method, path, query, headers, body, status, code, rule_id, duration, hint, fault, kind, answer = (
        row
    )
    return {
        "id": rid,
        "at": at,
        "tenant": tenant,
        "method": method,
        "path": path,
        "query": json.loads(query),
        "headers": json.loads(headers),
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
    """A recorded body: its JSON value when it is whole JSON, else the text as recorded."""
    if not text:
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text
