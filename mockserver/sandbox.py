"""The running sandbox: settings, accounts, control state and tenant databases, wired once per app.

Tenants are named ``<space>/<name>``: the space is the account id of the caller's token, or ``debug`` for
debug mode; the name is ``default`` unless the request picks one with ``X-Mock-Tenant``. A tenant can
therefore never reach outside its own account's space.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
from datetime import date
from pathlib import Path

from mockserver.auth import AccountBook
from mockserver.clock import ClockState, local_date
from mockserver.config import Config
from mockserver.control.journal import Journal
from mockserver.control.state import ControlState
from mockserver.dataset import DatasetSpec
from mockserver.store.templates import Templates, default_cache_dir
from mockserver.store.tenants import TenantFiles

DEBUG_SPACE = "debug"
DEFAULT_TENANT = "default"


def tenant_id(space: str, name: str | None = None) -> str:
    return f"{space}/{name or DEFAULT_TENANT}"


class Sandbox:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.accounts = AccountBook.load(config.accounts_file)
        self.data_dir = self._data_dir(config.data_dir)
        self.control = ControlState(self.data_dir / "control.sqlite", config.seed, ClockState(frozen_at=config.now))
        self.journal = Journal(self.data_dir / "journal", config.journal_size)
        self.templates = Templates(self._cache_dir(config.cache_dir))
        self.files = TenantFiles(self.data_dir, self.templates)
        self._ready: set[str] = set()
        # Build the default dataset now, so that "ready" means the first request is served from data.
        self.db(tenant_id(self.accounts.default.account_id))
        if config.debug_mode:
            self.db(tenant_id(DEBUG_SPACE))

    def _data_dir(self, configured: str | None) -> Path:
        if configured:
            path = Path(configured)
            path.mkdir(parents=True, exist_ok=True)
            return path
        path = Path(tempfile.mkdtemp(prefix="tap4book-mock-"))
        owner = os.getpid()
        # Forked server workers inherit this hook; only the process that made the directory removes it.
        atexit.register(lambda: os.getpid() == owner and shutil.rmtree(path, ignore_errors=True))
        return path

    @staticmethod
    def _cache_dir(configured: str | None) -> Path | None:
        if configured is None:
            return default_cache_dir()
        return None if configured.lower() == "off" else Path(configured)

    # -- time ----------------------------------------------------------------------------------

    def clock(self, tenant: str) -> ClockState:
        return self.control.clock(tenant)

    def now(self, tenant: str) -> float:
        return self.control.clock(tenant).now()

    def today(self, tenant: str) -> date:
        return local_date(self.now(tenant))

    # -- data ----------------------------------------------------------------------------------

    def spec_for(self, tenant: str, seed: int | None = None) -> DatasetSpec:
        if seed is None:
            override = self.control.seed_override(tenant)
            seed = override if override is not None else self.control.seed
        return DatasetSpec(seed=seed, anchor=self.today(tenant), scale=self.config.scale)

    def db(self, tenant: str) -> sqlite3.Connection:
        """The tenant's database, created from the seeded template on first use."""
        if tenant not in self._ready:
            if not self.files.exists(tenant):
                spec = self.spec_for(tenant)
                if self.files.create(tenant, spec):
                    self.control.register_tenant(tenant, spec.key, self.control.seed_override(tenant))
            self._ready.add(tenant)
        return self.files.connection(tenant)

    def reset(self, tenant: str | None = None, seed: int | None = None) -> list[str]:
        """Restore one tenant (or every tenant) to its seeded dataset; a seed given here sticks."""
        if tenant is None:
            if seed is not None:
                self.control.set_seed(seed)
            targets = [row["tenant"] for row in self.control.tenants()]
        else:
            targets = [tenant]
        for name in targets:
            # A seed for one tenant sticks to it; a seed for all became the server's (set_seed above).
            override = seed if tenant is not None and seed is not None else self.control.seed_override(name)
            spec = self.spec_for(name, override)
            if self.files.exists(name):
                self.files.restore(name, spec)
            else:
                self.files.create(name, spec)
            self.control.register_tenant(name, spec.key, override, reset=True)
            self._ready.add(name)
        return targets
