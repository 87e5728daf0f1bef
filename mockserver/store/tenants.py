"""Tenant databases: one SQLite file per tenant, created from a template and reset by copying it back.

Creating or resetting a tenant is a page copy from its template (templates.py; the SQLite backup API),
which is what makes a reset cheap enough to run before every test. The files live in one data directory,
so every server worker process sees the same state; SQLite's locking makes the writes of different
workers atomic with respect to each other.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from mockserver.dataset import DatasetSpec
from mockserver.storagemode import THREADS, StorageMode
from mockserver.store.sqlite import Connection, connect
from mockserver.store.templates import Templates

CONNECTIONS_PER_THREAD = 32
ANSWERS_KEPT = 32
COUNTS_KEPT = 64


class TenantConnection(Connection):
    """A tenant database connection with the caches that live as long as its data does not change.

    ``answers`` holds rendered GET answers (api/cache.py), ``counts`` list totals (queries/paging.py); both are
    keyed with ``version()``, so any commit, by any thread or worker, makes them stale.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._answers: OrderedDict[object, object] = OrderedDict()
        self._counts: OrderedDict[object, tuple[tuple[int, int], int]] = OrderedDict()

    def answer(self, key: object) -> object | None:
        hit = self._answers.get(key)
        if hit is not None:
            self._answers.move_to_end(key)
        return hit

    def keep_answer(self, key: object, answer: object) -> None:
        self._answers[key] = answer
        if len(self._answers) > ANSWERS_KEPT:
            self._answers.popitem(last=False)

    def count(self, sql: str, params: list[Any]) -> int:
        """``SELECT COUNT(*) ...``, remembered until the data changes: walking one filter's pages counts once."""
        key = (sql, tuple(params))
        version = self.version()
        known = self._counts.get(key)
        if known is not None and known[0] == version:
            self._counts.move_to_end(key)
            return known[1]
        total = int(self.execute(sql, params).fetchone()[0])
        self._counts[key] = (version, total)
        if len(self._counts) > COUNTS_KEPT:
            self._counts.popitem(last=False)
        return total


def open_db(path: str | Path) -> TenantConnection:
    return connect(path, cache_kib=1024, factory=TenantConnection)


class TenantFiles:
    """Where each tenant's database lives, and the per-thread connections to them."""

    def __init__(self, data_dir: Path, templates: Templates, storage: StorageMode = THREADS) -> None:
        self.directory = data_dir / "tenants"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.templates = templates
        self._sole = storage.sole_writer
        self._local = storage.local()

    def path(self, tenant: str) -> Path:
        # Readable and collision-free: a slug for people, a digest for uniqueness and path safety.
        slug = re.sub(r"[^A-Za-z0-9_-]+", "_", tenant)[:40]
        digest = hashlib.sha1(tenant.encode()).hexdigest()[:12]
        return self.directory / f"{slug}-{digest}.sqlite"

    def exists(self, tenant: str) -> bool:
        return self.path(tenant).exists()

    def create(self, tenant: str, spec: DatasetSpec) -> bool:
        """Create the tenant's database from its template unless another worker already did; True if created."""
        target = self.path(tenant)
        if target.exists():
            return False
        scratch = target.parent / f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        scratch.write_bytes(self.templates.image(spec))
        conn = sqlite3.connect(scratch)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.close()
        try:
            os.link(scratch, target)  # atomic create-if-absent: two workers racing create it once
            created = True
        except FileExistsError:
            created = False
        finally:
            scratch.unlink()
        return created

    def connection(self, tenant: str, generation: float = 0.0) -> TenantConnection:
        """This thread's connection to the tenant's database; ``generation`` tells a tenant deleted and made
        again (by any worker) from the one a cached connection was opened on."""
        local = self._local.get()
        cache: OrderedDict[str, tuple[float, TenantConnection]] | None = getattr(local, "cache", None)
        if cache is None or getattr(local, "pid", None) != os.getpid():
            # A connection must not cross a fork: a worker starts with its own.
            cache = local.cache = OrderedDict()
            local.pid = os.getpid()
        cached = cache.get(tenant)
        if cached is not None and cached[0] == generation:
            cache.move_to_end(tenant)
            return cached[1]
        if cached is not None:
            cached[1].close()
        conn = open_db(self.path(tenant))
        conn.sole = self._sole
        cache[tenant] = (generation, conn)
        if len(cache) > CONNECTIONS_PER_THREAD:
            cache.popitem(last=False)[1][1].close()
        return conn

    def remove(self, tenant: str) -> bool:
        """Delete the tenant's files; connections still open elsewhere notice by their generation."""
        found = False
        base = self.path(tenant)
        for suffix in ("", "-wal", "-shm"):
            try:
                base.with_name(base.name + suffix).unlink()
                found = True
            except FileNotFoundError:
                pass
        cache = getattr(self._local.get(), "cache", None)
        if cache is not None and tenant in cache:
            cache.pop(tenant)[1].close()
        return found

    def restore(self, tenant: str, spec: DatasetSpec, generation: float = 0.0) -> None:
        """Put the template's pages back into the tenant's database, in place, under its write lock."""
        conn = self.connection(tenant, generation)
        self.templates.copy_into(spec, conn)
        conn.writes += 1
