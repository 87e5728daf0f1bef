"""The request journal: the most recent API requests, with what the sandbox answered and why.

Every worker process writes its own SQLite file in the data directory (writer.py); a read merges them
(reads.py). Bounded twice (docs/limits.md): in entries (``--journal-size``; 0 turns the journal off, and then
every read is empty) and in bytes (``--journal-bytes``, shared out between the workers, trimming.py); each entry
keeps at most ``HEADER_BYTES`` of headers and ``BODY_LIMIT`` of body, secrets masked (masking.py). Filters are
filters.py's, the shape of an entry presentation.py's.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mockserver.storagemode import THREADS, StorageMode
from mockserver.store.journal.filters import Filters
from mockserver.store.journal.masking import ANSWER_LIMIT, BODY_LIMIT, HEADER_BYTES, HEADER_VALUE_LIMIT, Masking, mask
from mockserver.store.journal.presentation import entry
from mockserver.store.journal.reads import Reader
from mockserver.store.journal.rows import READ, Stored, Written
from mockserver.store.journal.trimming import TRIM_EVERY, Retention
from mockserver.store.journal.writer import ANSWERS_REMEMBERED, FLUSH_SECONDS, Writer
from mockserver.store.sqlite import connect


class Journal:
    def __init__(
        self,
        directory: Path,
        size: int,
        max_bytes: int = 32 * 1024 * 1024,
        secrets: Iterable[str] = (),
        storage: StorageMode = THREADS,
    ) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.storage = storage
        self.masking = Masking(secrets)
        self._retention = Retention(size, max_bytes)
        self._writer = Writer(directory, self._retention, storage)
        self._reader = Reader(directory, storage)

    @property
    def size(self) -> int:
        return self._retention.size

    @property
    def max_bytes(self) -> int:
        return self._retention.max_bytes

    @max_bytes.setter
    def max_bytes(self, value: int) -> None:
        self._retention.max_bytes = value

    # -- writing -------------------------------------------------------------------------------

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
        """Record one API call; returns its entry's id (also with the journal off: the call still has one)."""
        now = time.time()
        if self.size == 0:
            return self._writer.new_id(now)
        kept = self.masking.keep(path=path, query=query, headers=headers, body=body, hint=hint, answer=answer)
        row = Written(
            id=0,  # given by the writer, with answer_id
            at=now,
            tenant=tenant,
            method=method,
            path=kept.path,
            query=kept.query,
            headers=kept.headers,
            body=kept.body,
            status=status,
            error_code=error_code,
            rule_id=rule_id,
            duration_ms=round(duration_ms, 3),
            hint=kept.hint,
            fault=fault,
            answer_type=answer_type,
            answer_id=None,
            size=kept.size,
        )
        return self._writer.add(row, kept.answer)

    def flush(self) -> bool:
        """Write this process's pending entries now; False if the write failed (they stay pending)."""
        return self._writer.flush()

    # -- reading -------------------------------------------------------------------------------

    def _settle(self) -> None:
        """Before a read: every entry recorded until now, in any worker, is in its file."""
        self._writer.flush()
        self._reader.settle()

    def _bounds(
        self, after: int | None, upto: int | None, before: int | None = None, floor: bool = True
    ) -> tuple[list[str], list[Any]]:
        if upto is None:
            self._settle()  # (a stream reads only entries older than its settle time: no wait)
        bounds, values = ["id >= ?"], [self._reader.oldest_visible(self.size) if floor else 0]
        for clause, value in (("id < ?", before), ("id > ?", after), ("id <= ?", upto)):
            if value is not None:
                bounds.append(clause)
                values.append(value)
        return bounds, values

    def rows(
        self,
        *,
        limit: int = 100,
        before: int | None = None,
        after: int | None = None,
        upto: int | None = None,
        **filters: Any,
    ) -> list[Stored]:
        """The newest ``limit`` matching entries (older than ``before``), oldest first; with ``after``, the
        oldest ``limit`` entries after that id (up to ``upto``), for a stream to follow the journal. Stored
        rows (``entry`` shows one): a stream makes each entry's event once for all its readers."""
        if self.size == 0:
            return []
        where, params = Filters(**filters).sql()
        # A stream following the journal (after= and upto=) needs no visibility floor: what it has not seen is
        # newer than what it saw, and finding the floor reads every worker's newest ids, several times a second.
        bounds, values = self._bounds(after, upto, before, floor=after is None or upto is None)
        order = "ASC" if after is not None else "DESC"
        rows = self._reader.each(
            f"SELECT {READ} FROM entries WHERE {' AND '.join(bounds)} AND {where} ORDER BY id {order} LIMIT ?",
            [*values, *params, limit],
            Stored._make,
        )
        rows.sort(key=lambda row: row.id, reverse=order == "DESC")
        chosen = rows[:limit]
        if order == "DESC":
            chosen.reverse()
        return chosen

    def entries(self, **query: Any) -> list[dict[str, Any]]:
        """The entries ``rows`` selects (same arguments), as the journal shows them."""
        return [entry(row) for row in self.rows(**query)]

    def count(self, *, after: int | None = None, upto: int | None = None, **filters: Any) -> int:
        if self.size == 0:
            return 0
        where, params = Filters(**filters).sql()
        bounds, values = self._bounds(after, upto)
        sql = f"SELECT COUNT(*) FROM entries WHERE {' AND '.join(bounds)} AND {where}"
        return sum(row[0] for row in self._reader.each(sql, [*values, *params]))

    def sizes(
        self, *, after: int, upto: int, limit: int, newest: bool = False, **filters: Any
    ) -> list[tuple[int, int]]:
        """(id, size) of the oldest ``limit`` matching entries after ``after`` up to ``upto`` (the newest, with
        ``newest``), oldest first: how a stream chooses what to read without reading the entries."""
        if self.size == 0:
            return []
        where, params = Filters(**filters).sql()
        order = "DESC" if newest else "ASC"
        found = self._reader.each(
            f"SELECT id, size FROM entries WHERE id > ? AND id <= ? AND {where} ORDER BY id {order} LIMIT ?",
            [after, upto, *params, limit],
        )
        found.sort(reverse=newest)
        chosen = found[:limit]
        if newest:
            chosen.reverse()
        return chosen

    def watch(self, upto: int) -> tuple[int, int]:
        """For a follower: the newest id it may read up to (``upto``, or just before an entry a worker still
        holds unwritten), and how many entries the workers together dropped unwritten (a full disk)."""
        return self._reader.watch(upto)

    def clear(self, tenant: str | None = None) -> int:
        """Forget the entries (of one tenant); returns how many were visible."""
        if self.size == 0:
            return 0
        visible = self.count(tenant=tenant)  # settles first: nothing recorded before the clear survives it
        self._writer.discard(tenant)  # (entries a failing writer still holds)
        for path in self._reader.files():
            try:
                conn = connect(path, cache_kib=256)
            except sqlite3.Error:
                continue
            try:
                if tenant is None:
                    conn.execute("DELETE FROM entries")
                else:
                    conn.execute("DELETE FROM entries WHERE tenant = ?", (tenant,))
            except sqlite3.Error:
                continue
            finally:
                conn.close()
        self._writer.reload()
        return visible


__all__ = [
    "ANSWERS_REMEMBERED",
    "ANSWER_LIMIT",
    "BODY_LIMIT",
    "FLUSH_SECONDS",
    "HEADER_BYTES",
    "HEADER_VALUE_LIMIT",
    "TRIM_EVERY",
    "Journal",
    "Stored",
    "entry",
    "mask",
]
