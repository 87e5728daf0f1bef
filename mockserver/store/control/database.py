"""The control file itself: its tables, and one connection per thread (and per process, after a fork).

The parts of the control state (tenants.py, rules.py, and ControlState in __init__.py) build on this class.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mockserver.storagemode import StorageMode
from mockserver.store.sqlite import Connection, connect, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clocks (scope TEXT PRIMARY KEY, frozen_at REAL, offset REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS tenants (
    tenant TEXT PRIMARY KEY, seed INTEGER, dataset TEXT NOT NULL, created_at REAL NOT NULL,
    reset_at REAL, resets INTEGER NOT NULL DEFAULT 0, active_at REAL NOT NULL DEFAULT 0,
    options TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT, spec TEXT NOT NULL, times INTEGER,
    hits INTEGER NOT NULL DEFAULT 0, evaluations INTEGER NOT NULL DEFAULT 0, preset TEXT,
    created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS rules_by_tenant ON rules (tenant, id);
"""
#: Columns added since the first release, for a --data-dir made by an older sandbox.
_ADDED_COLUMNS = {
    "tenants": (("active_at", "REAL NOT NULL DEFAULT 0"), ("options", "TEXT NOT NULL DEFAULT '{}'")),
}


class ControlDatabase:
    def __init__(self, path: Path, storage: StorageMode) -> None:
        self.path = path
        self._sole = storage.sole_writer
        self._local = storage.local()
        conn = self._conn()
        conn.executescript(SCHEMA)
        for table, columns in _ADDED_COLUMNS.items():
            present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            for name, declaration in columns:
                if name not in present:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")

    def _conn(self) -> Connection:
        local = self._local.get()
        if getattr(local, "pid", None) != os.getpid():
            conn = connect(self.path, cache_kib=256)
            conn.sole = self._sole
            local.conn, local.pid, local.snapshot, local.marks = conn, os.getpid(), None, None
        return local.conn

    def transaction(self) -> Any:
        return transaction(self._conn())
