"""The request journal: the most recent API requests, with what the sandbox answered.

Kept in its own SQLite file (shared by every worker, bounded to ``journal_size`` entries) so that an
integrator's test can assert "my code called POST /api/appointment once, with this body" whichever
worker served the call. Access tokens are masked before anything is stored.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

SECRET_HEADERS = {"access-token", "x-mock-admin-token", "authorization", "cookie"}
SECRET_PARAMS = {"access_token"}
BODY_LIMIT = 65536
TRIM_EVERY = 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, tenant TEXT, method TEXT NOT NULL, path TEXT NOT NULL,
    query TEXT NOT NULL, headers TEXT NOT NULL, body TEXT, status INTEGER NOT NULL, error_code TEXT,
    rule_id INTEGER, duration_ms REAL NOT NULL);
CREATE INDEX IF NOT EXISTS entries_by_tenant ON entries (tenant, id);
"""


_COLUMNS = "id, at, tenant, method, path, query, headers, body, status, error_code, rule_id, duration_ms"


def mask(value: str) -> str:
    """Enough of a secret to tell two apart in a journal, not enough to reuse it."""
    return value[:4] + "…" if len(value) > 8 else "…"


class Journal:
    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size
        self._local = threading.local()
        self._conn().executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA cache_size = -256")
            local.conn, local.pid = conn, os.getpid()
        return local.conn

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
        conn = self._conn()
        cursor = conn.execute(
            "INSERT INTO entries (at, tenant, method, path, query, headers, body, status, error_code, rule_id,"
            " duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                time.time(),
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
            ),
        )
        last = cursor.lastrowid or 0
        if last % TRIM_EVERY == 0:  # reads never look past the newest `size`, so trimming can wait
            conn.execute("DELETE FROM entries WHERE id <= ?", (last - self.size,))

    def _where(self, method: str | None, path: str | None, tenant: str | None) -> tuple[str, list[Any]]:
        clauses: list[str] = ["id > (SELECT COALESCE(MAX(id), 0) FROM entries) - ?"]
        params: list[Any] = [self.size]
        if method:
            clauses.append("method = ?")
            params.append(method.upper())
        if path:
            clauses.append("path GLOB ?")
            params.append(path)
        if tenant:
            clauses.append("tenant = ?")
            params.append(tenant)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def entries(
        self, method: str | None = None, path: str | None = None, tenant: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` matching entries, oldest first."""
        where, params = self._where(method, path, tenant)
        rows = (
            self._conn()
            .execute(
                f"SELECT * FROM (SELECT {_COLUMNS} FROM entries {where} ORDER BY id DESC LIMIT ?) ORDER BY id",
                [*params, limit],
            )
            .fetchall()
        )
        return [_entry(row) for row in rows]

    def count(self, method: str | None = None, path: str | None = None, tenant: str | None = None) -> int:
        where, params = self._where(method, path, tenant)
        return int(self._conn().execute(f"SELECT COUNT(*) FROM entries {where}", params).fetchone()[0])

    def clear(self, tenant: str | None = None) -> int:
        """Forget the entries (of one tenant); returns how many were visible."""
        visible = self.count(tenant=tenant)
        if tenant is None:
            self._conn().execute("DELETE FROM entries")
        else:
            self._conn().execute("DELETE FROM entries WHERE tenant = ?", (tenant,))
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
