"""How much of the journal a worker's file keeps: the newest ``size`` entries, within its share of the bytes.

The id and size of every entry in the file are kept in memory, oldest first: trimming pops them there and
deletes by id, instead of counting rows and summing sizes in SQL on every trim. A file may hold up to
``TRIM_EVERY`` entries more than ``size`` between two trims; reads never look past the newest ``size`` overall.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Iterable

from mockserver.store.journal.rows import Written

TRIM_EVERY = 256


class Retention:
    def __init__(self, size: int, max_bytes: int) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._kept: collections.deque[tuple[int, int]] = collections.deque()
        self.bytes = 0  # of the entries in the file

    def reload(self, conn: sqlite3.Connection) -> None:
        """What the file holds (a file found at start, or after entries were deleted by a clear)."""
        self._kept = collections.deque(conn.execute("SELECT id, size FROM entries ORDER BY id"))
        self.bytes = sum(size for _, size in self._kept)

    def extend(self, rows: Iterable[Written]) -> None:
        for row in rows:
            self._kept.append((row.id, row.size))
            self.bytes += row.size

    @property
    def due(self) -> bool:
        return len(self._kept) >= self.size + TRIM_EVERY or self.bytes > self.max_bytes

    def trim(self, conn: sqlite3.Connection) -> set[int]:
        """Keep the newest ``size`` entries and, by dropping the oldest, 3/4 of the byte budget at most.
        Returns the ids of the answers no entry of the file points to any more (the writer decides which of
        them its pending entries still need)."""
        last = 0
        while len(self._kept) > self.size:
            last, size = self._kept.popleft()
            self.bytes -= size
        if self.bytes > self.max_bytes:
            keep = self.max_bytes * 3 // 4
            while self._kept and self.bytes > keep:
                last, size = self._kept.popleft()
                self.bytes -= size
        if not last:
            return set()
        conn.execute("DELETE FROM entries WHERE id <= ?", (last,))
        return {
            row[0]
            for row in conn.execute(
                "SELECT id FROM answers WHERE id NOT IN (SELECT answer_id FROM entries WHERE answer_id IS NOT NULL)"
            )
        }
