"""How every SQLite connection of the sandbox is opened (tenant databases, control state, journal), and the
one transaction helper every writer uses.

Tuned for a sandbox: durability does not matter, concurrency and speed do. WAL lets readers run beside a
writer; a writer waits (busy timeout) rather than failing; each connection's page cache is kept small,
because every thread of every worker holds its own (the OS page cache holds a file once for all of them).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar


class Connection(sqlite3.Connection):
    """A connection that can tell whether its database changed since a given moment.

    ``PRAGMA data_version`` moves when another connection (another thread or worker) commits; ``writes``
    moves when this one does. Together they key every cache built over the database. A connection that is the
    only one writing its file (``sole``: see StorageMode.sole_writer) needs only its own count, and saves the
    pragma (a few microseconds on every cached answer).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.writes = 0
        self.sole = False

    def version(self) -> tuple[int, int]:
        if self.sole:
            return 0, self.writes
        return self.execute("PRAGMA data_version").fetchone()[0], self.writes


C = TypeVar("C", bound=Connection)


def connect(path: str | Path, cache_kib: int, factory: type[C] = Connection) -> C:  # type: ignore[assignment]
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30, factory=factory)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` .. ``COMMIT``: the write lock is taken before the first read, so a check and the
    write that depends on it cannot interleave with another writer, in this process or another worker.
    Anything raised inside rolls back, leaving the database as it was."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back already (a full disk, say)
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    if isinstance(conn, Connection):
        conn.writes += 1
