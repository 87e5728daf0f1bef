"""How every SQLite connection of the sandbox is opened (tenant databases, control state, journal).

Tuned for a sandbox: durability does not matter, concurrency and speed do. WAL lets readers run beside a
writer; a writer waits (busy timeout) rather than failing; each connection's page cache is kept small,
because every thread of every worker holds its own (the OS page cache holds a file once for all of them).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TypeVar

C = TypeVar("C", bound=sqlite3.Connection)


def connect(path: str | Path, cache_kib: int, factory: type[C] = sqlite3.Connection) -> C:  # type: ignore[assignment]
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30, factory=factory)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
    return conn
