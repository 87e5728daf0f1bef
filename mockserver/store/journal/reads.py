"""Merged reads: every worker's journal file, read as one journal.

The newest ``size`` entries overall are visible, filtered in SQL and paged, so that an integrator's test can
assert "my code called POST /api/appointment once, with this body" whichever worker served the call. Each
caller keeps its read connections (a stream polls several times a second), per thread or per process as the
storage mode says.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mockserver.storagemode import StorageMode
from mockserver.store.journal.writer import PendingMarker
from mockserver.store.sqlite import connect

T = TypeVar("T")


class Reader:
    def __init__(self, directory: Path, storage: StorageMode) -> None:
        self.directory = directory
        self._local = storage.local()

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("*.sqlite"))

    def _connections(self) -> list[sqlite3.Connection]:
        local = self._local.get()
        if getattr(local, "pid", None) != os.getpid():
            local.pid, local.conns = os.getpid(), {}
        conns: dict[Path, sqlite3.Connection] = local.conns
        paths = self.files()
        for gone in set(conns) - set(paths):
            conns.pop(gone).close()
        for path in paths:
            if path not in conns:
                try:
                    conns[path] = connect(path, cache_kib=256)
                except sqlite3.Error:
                    continue  # a file a worker is still creating
        return list(conns.values())

    def each(self, sql: str, params: list[Any], make: Callable[[tuple[Any, ...]], T] = tuple) -> list[T]:  # type: ignore[assignment]
        """The rows of one query over every file, together (unordered)."""
        rows: list[T] = []
        for conn in self._connections():
            try:
                rows += map(make, conn.execute(sql, params))
            except sqlite3.Error:
                continue  # a file a worker is still creating
        return rows

    def markers(self) -> list[tuple[str, int, int]]:
        """(pid, oldest unwritten entry id or 0, entries dropped unwritten) of every live worker (a dead one's
        marker, in a kept --data-dir or after a crash, would hold every read and stream back)."""
        paths = [path for path in self.directory.glob("*.pending") if _alive(path.stem)]
        return [(path.stem, *PendingMarker.read(path)) for path in paths]

    def settle(self, timeout: float = 0.5) -> None:
        """Before a read: every entry the other workers recorded until now is in its file (this process's own
        are the caller's to flush). A worker that cannot write holds its read up to ``timeout``, no more."""
        asked = int(time.time() * 1_000_000)
        deadline = time.monotonic() + timeout
        own = str(os.getpid())
        for pid, _, _ in self.markers():
            if pid == own:
                continue
            marker = self.directory / f"{pid}.pending"
            while 0 < PendingMarker.read(marker)[0] <= asked and time.monotonic() < deadline:
                time.sleep(0.002)

    def watch(self, upto: int) -> tuple[int, int]:
        """For a follower: ``upto``, or less (the entry before the oldest one a worker holds unwritten: a
        follower that went past it would never see it), and how many entries the workers dropped unwritten."""
        markers = self.markers()
        oldest = [marked - 1 for _, marked, _ in markers if marked > 1]
        return min([upto, *oldest]), sum(lost for _, _, lost in markers)

    def oldest_visible(self, size: int) -> int:
        """The id of the oldest entry among the newest ``size`` of every worker together (0: all are)."""
        if size <= 0:
            return 0
        ids = sorted(self.each("SELECT id FROM entries ORDER BY id DESC LIMIT ?", [size]), reverse=True)
        return ids[size - 1][0] if len(ids) >= size else 0


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except (ValueError, OverflowError):
        return False  # not a worker's marker
    return True
