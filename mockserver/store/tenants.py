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

from mockserver.dataset import DatasetSpec
from mockserver.store.sqlite import connect
from mockserver.store.templates import Templates

TENANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CONNECTIONS_PER_THREAD = 32


class TenantConnection(sqlite3.Connection):
    """A tenant database connection that can tell whether its data changed since a given moment.

    ``PRAGMA data_version`` moves when another connection (another thread or worker) commits; ``writes``
    moves when this one does. Together they key the response cache held in ``responses``.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.writes = 0
        self.responses: OrderedDict[object, object] = OrderedDict()
        self.counts: OrderedDict[object, tuple[tuple[int, int], int]] = OrderedDict()

    def version(self) -> tuple[int, int]:
        return self.execute("PRAGMA data_version").fetchone()[0], self.writes


def open_db(path: str | Path) -> TenantConnection:
    return connect(path, cache_kib=1024, factory=TenantConnection)


class TenantFiles:
    """Where each tenant's database lives, and the per-thread connections to them."""

    def __init__(self, data_dir: Path, templates: Templates) -> None:
        self.directory = data_dir / "tenants"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.templates = templates
        self._local = threading.local()

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

    def connection(self, tenant: str) -> TenantConnection:
        cache: OrderedDict[str, TenantConnection] | None = getattr(self._local, "cache", None)
        if cache is None or getattr(self._local, "pid", None) != os.getpid():
            # A connection must not cross a fork: a worker starts with its own.
            cache = self._local.cache = OrderedDict()
            self._local.pid = os.getpid()
        conn = cache.get(tenant)
        if conn is None:
            conn = open_db(self.path(tenant))
            cache[tenant] = conn
            if len(cache) > CONNECTIONS_PER_THREAD:
                cache.popitem(last=False)[1].close()
        else:
            cache.move_to_end(tenant)
        return conn

    def restore(self, tenant: str, spec: DatasetSpec) -> None:
        """Put the template's pages back into the tenant's database, in place, under its write lock."""
        conn = self.connection(tenant)
        self.templates.copy_into(spec, conn)
        conn.writes += 1
