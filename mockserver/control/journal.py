"""The request journal: the most recent API requests, with what the sandbox answered.

Every worker process writes its own SQLite file in the data directory (``journal/<pid>.sqlite``), under a
lock of its own: writes never wait on another process, where SQLite's busy handler would sleep for
milliseconds and show up in every percentile. A read merges the files, keeps the newest ``journal_size``
entries overall, then filters them, so that an integrator's test can assert "my code called POST
/api/appointment once, with this body" whichever worker served the call. Access tokens are masked before
anything is stored.
"""

from __future__ import annotations

import fnmatch
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from mockserver.store.sqlite import connect

SECRET_HEADERS = {"access-token", "x-mock-admin-token", "authorization", "cookie"}
SECRET_PARAMS = {"access_token"}
BODY_LIMIT = 65536
TRIM_EVERY = 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, tenant TEXT, method TEXT NOT NULL, path TEXT NOT NULL,
    query TEXT NOT NULL, headers TEXT NOT NULL, body TEXT, status INTEGER NOT NULL, error_code TEXT,
    rule_id INTEGER, duration_ms REAL NOT NULL);
"""
_COLUMNS = "id, at, tenant, method, path, query, headers, body, status, error_code, rule_id, duration_ms"


def mask(value: str) -> str:
    """Enough of a secret to tell two apart in a journal, not enough to reuse it."""
    return value[:4] + "…" if len(value) > 8 else "…"


def _open(path: Path) -> sqlite3.Connection:
    return connect(path, cache_kib=256)


class Journal:
    def __init__(self, directory: Path, size: int) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.size = size
        self._lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._pid = 0
        self._last_id = 0
        self._writes = 0

    def _own(self) -> sqlite3.Connection:
        """This process's file (a forked worker starts its own)."""
        if self._pid != os.getpid():
            self._writer = _open(self.directory / f"{os.getpid()}.sqlite")
            self._writer.executescript(SCHEMA)
            self._pid, self._last_id = os.getpid(), 0
        assert self._writer is not None
        return self._writer

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
    ) -> None:
        if self.size == 0:
            return
        shown_query = {}
        for name, value in query:
            shown_query.setdefault(name, mask(value) if name in SECRET_PARAMS else value)
        shown_headers = {name: mask(value) if name.lower() in SECRET_HEADERS else value for name, value in headers}
        text = body[:BODY_LIMIT].decode("utf-8", "replace") if body else None
        now = time.time()
        row = (
            tenant,
            method,
            path,
            json.dumps(shown_query, ensure_ascii=False),
            json.dumps(shown_headers, ensure_ascii=False),
            text,
            status,
            error_code,
            rule_id,
            round(duration_ms, 3),
        )
        with self._lock:
            conn = self._own()
            # Ids are microsecond timestamps: in time order across every worker's file (and still exact
            # as JavaScript numbers, which a larger id would not be).
            entry_id = self._last_id = max(int(now * 1_000_000), self._last_id + 1)
            self._writes += 1
            conn.execute(
                f"INSERT INTO entries ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (entry_id, now, *row)
            )
            if self._writes % TRIM_EVERY == 0:  # reads never look past the newest `size`, so trimming can wait
                conn.execute(
                    "DELETE FROM entries WHERE id NOT IN (SELECT id FROM entries ORDER BY id DESC LIMIT ?)",
                    (self.size,),
                )

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("*.sqlite"))

    def _visible(self) -> list[tuple[Any, ...]]:
        """The newest ``size`` entries of every worker together, newest first."""
        rows: list[tuple[Any, ...]] = []
        for path in self._files():
            conn = _open(path)
            try:
                rows += conn.execute(
                    f"SELECT {_COLUMNS} FROM entries ORDER BY id DESC LIMIT ?", (self.size,)
                ).fetchall()
            except sqlite3.Error:
                continue  # a file a worker is still creating
            finally:
                conn.close()
        rows.sort(key=lambda row: row[0], reverse=True)
        return rows[: self.size]

    @staticmethod
    def _matching(
        rows: list[tuple[Any, ...]], method: str | None, path: str | None, tenant: str | None
    ) -> list[tuple[Any, ...]]:
        wanted = method.upper() if method else None
        return [
            row
            for row in rows
            if (wanted is None or row[3] == wanted)
            and (not path or fnmatch.fnmatchcase(row[4], path))
            and (not tenant or row[2] == tenant)
        ]

    def entries(
        self, method: str | None = None, path: str | None = None, tenant: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` matching entries, oldest first."""
        found = self._matching(self._visible(), method, path, tenant)[:limit]
        return [_entry(row) for row in reversed(found)]

    def count(self, method: str | None = None, path: str | None = None, tenant: str | None = None) -> int:
        return len(self._matching(self._visible(), method, path, tenant))

    def clear(self, tenant: str | None = None) -> int:
        """Forget the entries (of one tenant); returns how many were visible."""
        visible = self.count(tenant=tenant)
        for path in self._files():
            conn = _open(path)
            try:
                if tenant is None:
                    conn.execute("DELETE FROM entries")
                else:
                    conn.execute("DELETE FROM entries WHERE tenant = ?", (tenant,))
            finally:
                conn.close()
        return visible


def _entry(row: tuple[Any, ...]) -> dict[str, Any]:
    rid, at, tenant, method, path, query, headers, body, status, code, rule_id, duration = row
    parsed: Any = body
    if body:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = body
    return {
        "id": rid,
        "at": at,
        "tenant": tenant,
        "method": method,
        "path": path,
        "query": json.loads(query),
        "headers": json.loads(headers),
        "body": parsed,
        "status": status,
        "error_code": code,
        "rule_id": rule_id,
        "duration_ms": duration,
    }
