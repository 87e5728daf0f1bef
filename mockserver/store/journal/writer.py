"""The batch writer: each worker process writes its own journal file (``journal/<pid>.sqlite``), a few
milliseconds after its requests, with the others of that moment, in one transaction (a fraction of an
autocommitted INSERT per entry). Writes never wait on another process, where SQLite's busy handler would sleep
for milliseconds and show up in every percentile.

Nothing is ever read stale: a read flushes this process's entries first, and waits for the other workers',
each of which says in its ``.pending`` marker since when it holds unwritten entries.

A write that fails (a full disk, an I/O error) loses nothing at once: the entries go back to the queue and the
writer tries again, a little later each time (up to ``RETRY_SECONDS``). Meanwhile the queue keeps to the
journal's bounds, dropping its oldest entries and counting them in the marker, where streams find the count
and say so; one line on stderr says when writing stopped and when it resumed.
"""

from __future__ import annotations

import atexit
import contextlib
import mmap
import os
import sqlite3
import struct
import sys
import threading
import time
import traceback
import weakref
from pathlib import Path

from mockserver.storagemode import StorageMode
from mockserver.store.journal.rows import INSERT, INSERT_ANSWER, SCHEMA, Written
from mockserver.store.journal.trimming import Retention
from mockserver.store.sqlite import connect, transaction

FLUSH_SECONDS = 0.005
RETRY_SECONDS = (0.05, 1.0)  # first and longest wait before writing again after a failed write
#: Answers remembered per process to store a repeated one once (a test suite's or a dashboard's reads repeat).
ANSWERS_REMEMBERED = 256
_MARKER = struct.Struct("qq")  # the oldest unwritten entry's id (0: none), entries dropped unwritten


class PendingMarker:
    """Sixteen bytes in a small file: the id of this worker's oldest unwritten entry (0 when it has none) and how
    many entries it dropped unwritten. Shared memory (mmap) for the writer, whose every request may set it;
    readers in other workers read the file, twice until both reads agree (the writer does not lock it)."""

    def __init__(self, path: Path) -> None:
        path.write_bytes(b"\0" * _MARKER.size)
        with path.open("r+b") as file:  # the map keeps the file open itself
            self._map = mmap.mmap(file.fileno(), _MARKER.size)
        self._lost = 0

    def set(self, oldest: int, lost: int | None = None) -> None:
        if lost is not None:
            self._lost = lost
        _MARKER.pack_into(self._map, 0, oldest, self._lost)

    @staticmethod
    def read(path: Path) -> tuple[int, int]:
        try:
            first = path.read_bytes()
            second = path.read_bytes()
        except OSError:
            return 0, 0
        if first != second:
            return 1, 0  # being written: wait once more
        if len(first) != _MARKER.size:
            return 0, 0  # an older sandbox's marker, in a kept --data-dir
        oldest, lost = _MARKER.unpack(first)
        return int(oldest), int(lost)


class Writer:
    def __init__(self, directory: Path, retention: Retention, storage: StorageMode) -> None:
        self.directory = directory
        self.retention = retention
        self.storage = storage
        self._lock = threading.Lock()  # the pending entries and the answers' ids
        self._write_lock = threading.Lock()  # the connection to the file
        self._pid = 0
        self._conn: sqlite3.Connection | None = None
        self._last_id = 0
        self._pending: list[Written] = []
        self._pending_bytes = 0
        # An answer is stored once per file and entries point to it: most answers repeat, and writing (then
        # trimming) 2 KiB per entry was most of the journal's cost on a busy server.
        self._answer_ids: dict[str, int] = {}  # the texts of answers in the file or pending, newest last
        self._new_answers: list[tuple[int, str]] = []
        self._last_answer_id = 0
        self._marked = 0  # what the marker says: the oldest entry not yet in the file
        self._marker: PendingMarker | None = None
        self.failing: str | None = None  # why the last write failed, until one succeeds
        self.lost = 0  # entries dropped unwritten, since this process started

    # -- recording (requests) ------------------------------------------------------------------

    def new_id(self, at: float) -> int:
        """A fresh entry id: the microsecond of ``at``, in time order across every worker's file (and still exact
        as a JavaScript number, which a larger id would not be)."""
        with self._lock:
            self._adopt()
            return self._next_id(at)

    def _next_id(self, at: float) -> int:
        self._last_id = max(int(at * 1_000_000), self._last_id + 1)
        return self._last_id

    def add(self, row: Written, answer: str | None) -> int:
        """Queue an entry (its id and its answer's id are given here); returns its id."""
        with self._lock:
            self._adopt()
            entry_id = self._next_id(row.at)
            if not self._marked:
                self._marked = entry_id
                self._mark()
            answer_id = None if answer is None else self._answer_id(answer)
            self._pending.append(row._replace(id=entry_id, answer_id=answer_id))
            self._pending_bytes += row.size
            if self.failing is not None:
                self._bound_pending()
        _flusher.wants(self)
        return entry_id

    def _adopt(self) -> None:
        """This process's own state (a forked worker starts with none of its parent's)."""
        if self._pid == os.getpid():
            return
        self._pid, self._conn, self._last_id, self._marked = os.getpid(), None, 0, 0
        self._pending, self._pending_bytes, self._answer_ids, self._new_answers = [], 0, {}, []
        self._last_answer_id = 0
        self._marker = None

    def _mark(self) -> None:
        if self._marker is None:
            try:
                self._marker = PendingMarker(self.directory / f"{self._pid}.pending")
            except OSError:
                return  # (a full disk) other workers' reads do not wait for this one's entries until it can
        self._marker.set(self._marked, self.lost)

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

    def _bound_pending(self) -> None:
        """While nothing can be written: the newest entries within the journal's bounds, the others counted."""
        dropped = 0
        while self._pending and (
            len(self._pending) > self.retention.size or self._pending_bytes > self.retention.max_bytes
        ):
            self._pending_bytes -= self._pending.pop(0).size
            dropped += 1
        if dropped:
            self.lost += dropped
            self._marked = self._pending[0].id if self._pending else 0
            self._mark()

    def discard(self, tenant: str | None) -> None:
        """Forget the entries not written yet (of one tenant): a clear must not see them come back."""
        with self._lock:
            if self._pid != os.getpid():
                return
            self._pending = [row for row in self._pending if tenant is not None and row.tenant != tenant]
            self._pending_bytes = sum(row.size for row in self._pending)
            self._marked = self._pending[0].id if self._pending else 0
            self._mark()

    # -- writing (the flusher) -----------------------------------------------------------------

    def connection(self) -> sqlite3.Connection:
        """This process's file (a forked worker opens its own)."""
        if self._conn is None:
            conn = connect(self.directory / f"{os.getpid()}.sqlite", cache_kib=256)
            try:
                conn.executescript(SCHEMA)
                if "answer_id" not in {row[1] for row in conn.execute("PRAGMA table_info(entries)")}:
                    # A dead process's file of an older layout, under our pid in a kept --data-dir: stale anyway.
                    conn.execute("DROP TABLE entries")
                    conn.executescript(SCHEMA)
                self._last_answer_id = max(
                    self._last_answer_id, conn.execute("SELECT COALESCE(MAX(id), 0) FROM answers").fetchone()[0]
                )
                self.retention.reload(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def flush(self) -> bool:
        """Write this process's pending entries now (requests keep recording meanwhile). False when the write
        failed: the entries stay queued for the next try."""
        with self._write_lock:
            with self._lock:
                if not self._pending or self._pid != os.getpid():
                    return True
                rows, self._pending, self._pending_bytes = self._pending, [], 0
                answers, self._new_answers = self._new_answers, []
            try:
                conn = self.connection()
                with transaction(conn):
                    conn.executemany(INSERT_ANSWER, answers)
                    conn.executemany(INSERT, rows)
            except (sqlite3.Error, OSError) as exc:
                self._failed(rows, answers, exc)
                return False
            with self._lock:  # the oldest entry still unwritten: one recorded while these were written, or none
                self._marked = self._pending[0].id if self._pending else 0
                self._mark()
            if self.failing is not None:
                print(f"tap4book-mock: the journal writes again ({self.lost} entries dropped so far)", file=sys.stderr)
                self.failing = None
            self.retention.extend(rows)
            if self.retention.due:
                self._trim(conn)
            return True

    def _failed(self, rows: list[Written], answers: list[tuple[int, str]], exc: BaseException) -> None:
        if self._conn is not None and self._conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # (SQLite rolled back itself)
                self._conn.execute("ROLLBACK")
        with self._lock:
            self._pending[:0] = rows  # back in front: they are older than anything recorded since
            self._pending_bytes += sum(row.size for row in rows)
            self._new_answers[:0] = answers
            first = self.failing is None
            self.failing = str(exc) or type(exc).__name__
            self._bound_pending()
            waiting = len(self._pending)
        if first:
            print(
                f"tap4book-mock: the journal cannot write ({self.failing}): {waiting} entries wait in memory,"
                " within the journal's bounds; retrying",
                file=sys.stderr,
            )

    def _trim(self, conn: sqlite3.Connection) -> None:
        try:
            unused = self.retention.trim(conn)
        except sqlite3.Error:
            self.retention.reload(conn)  # (a full disk) the next flush tries again
            return
        with self._lock:  # an answer that a pending entry points to stays; the others are no longer handed out
            unused -= {row.answer_id for row in self._pending}
            self._answer_ids = {text: aid for text, aid in self._answer_ids.items() if aid not in unused}
        with contextlib.suppress(sqlite3.Error):  # (unused answers stay until the next trim finds them again)
            conn.executemany("DELETE FROM answers WHERE id = ?", [(aid,) for aid in unused])

    def reload(self) -> None:
        """Entries were deleted from the file (a clear): count what it holds again."""
        with self._write_lock:
            if self._conn is not None and self._pid == os.getpid():
                with contextlib.suppress(sqlite3.Error):
                    self.retention.reload(self._conn)


class _Flusher:
    """One thread per process writes every journal's pending entries, a few milliseconds after they come, each in
    its storage's turn (under the serving lock, no GIL fight with the requests)."""

    def __init__(self) -> None:
        self._dirty: weakref.WeakSet[Writer] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pid = 0

    def wants(self, writer: Writer) -> None:
        with self._lock:
            self._dirty.add(writer)
            if self._pid != os.getpid():  # the first write in this process (a forked worker has no thread)
                self._pid = os.getpid()
                self._wake = threading.Event()
                threading.Thread(target=self._run, name="tap4book-journal", daemon=True).start()
                atexit.register(self.flush_all)
        self._wake.set()

    def _run(self) -> None:
        retry = 0.0
        while True:
            # idle: no CPU until an entry is recorded; after a failed write, try again a little later each time
            self._wake.wait(timeout=retry or None)
            time.sleep(FLUSH_SECONDS)  # let the entries of this moment join the batch
            self._wake.clear()
            try:
                written = self.flush_all(take_turns=True)
            except Exception:  # a defect, not a full disk: say so, and keep the thread (the journal) alive
                traceback.print_exc()
                written = False
            retry = 0.0 if written else min(max(retry * 2, RETRY_SECONDS[0]), RETRY_SECONDS[1])

    def flush_all(self, take_turns: bool = False) -> bool:
        """Write every journal's pending entries; False if one could not (it stays due). At exit, no turns:
        a request thread stopped while holding the serving lock must not hang the process."""
        with self._lock:
            writers = list(self._dirty)
            self._dirty = weakref.WeakSet()
        failed = []
        for writer in writers:
            with writer.storage.turn() if take_turns else contextlib.nullcontext():
                if not writer.flush():
                    failed.append(writer)
        if failed:
            with self._lock:
                self._dirty.update(failed)
        return not failed


_flusher = _Flusher()
