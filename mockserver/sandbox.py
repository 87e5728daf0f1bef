"""The running sandbox: settings, accounts, control state, journal and tenant databases, wired once per app.

It owns the orchestration that spans several stores (creating, resetting and deleting a tenant touches its
database file, the control state and the journal), so that the planes above call one method and every
step is validated before anything changes.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from mockserver import tenancy
from mockserver.args import SQLITE_MAX
from mockserver.auth import AccountBook
from mockserver.clock import ClockState, local_date
from mockserver.config import Config
from mockserver.dataset import DatasetSpec, window_of
from mockserver.errors import InvalidParameter
from mockserver.storagemode import THREADS, StorageMode
from mockserver.store import datadir, writes
from mockserver.store.control import GLOBAL, ControlState, Snapshot
from mockserver.store.control.tenants import TenantRecord
from mockserver.store.journal import Journal
from mockserver.store.queries import slots
from mockserver.store.queries.calendars import list_calendars
from mockserver.store.templates import Templates, default_cache_dir
from mockserver.store.tenants import TenantConnection, TenantFiles

MAX_SEED = SQLITE_MAX  # the --seed limit too
TOUCH_SECONDS = 60  # how often a tenant in use has its last use written down (eviction reads it)


@dataclass(frozen=True)
class ResetResult:
    tenants: list[str]
    seed: int
    rules_removed: int
    journal_cleared: int


class Sandbox:
    def __init__(self, config: Config, storage: StorageMode = THREADS) -> None:
        """``storage``: how the stores keep their connections, as the app is served (mockserver/storagemode.py)."""
        self.config = config
        self.accounts = AccountBook.load(config.accounts_file)
        self.data_dir = self._data_dir(config.data_dir, config.seed)
        self.configured_clock = ClockState(frozen_at=config.now)
        self.control = ControlState(self.data_dir / "control.sqlite", config.seed, self.configured_clock, storage)
        self.journal = Journal(
            self.data_dir / "journal",
            config.journal_size,
            max_bytes=config.journal_bytes // config.workers,
            secrets=[*(account.token for account in self.accounts.accounts), *filter(None, [config.admin_token])],
            storage=storage,
        )
        self.templates = Templates(self._cache_dir(config.cache_dir), config.cache_keep)
        self.files = TenantFiles(self.data_dir, self.templates, storage)
        # Tenant records (by creation time) whose database file this process has seen made.
        self._files_made: set[float] = set()
        self._touched: dict[str, float] = {}  # tenant -> when this process last noted its use (monotonic)
        self.default_tenant = tenancy.tenant_id(self.accounts.default.account_id)
        self.protected = {self.default_tenant, tenancy.tenant_id(tenancy.DEBUG_SPACE)}
        # Build the default dataset now, so that "ready" means the first request is served from data.
        self.db(self.default_tenant)
        if config.debug_mode:
            self.db(tenancy.tenant_id(tenancy.DEBUG_SPACE))

    def _data_dir(self, configured: str | None, seed: int) -> Path:
        if configured:
            path = Path(configured)
            path.mkdir(parents=True, exist_ok=True)
            # Kept data: damaged files moved aside (one warning line each), another seed's data refused.
            datadir.prepare(path, seed, lambda text: print(f"tap4book-mock: warning: {text}", file=sys.stderr))
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

    def clock(self, scope: str) -> ClockState:
        """A tenant's clock (its own, or the server's), or the server's clock for ``GLOBAL``."""
        return self.control.snapshot().clock(scope)

    def now(self, tenant: str) -> float:
        return self.clock(tenant).now()

    def today(self, tenant: str) -> date:
        return local_date(self.now(tenant))

    def set_clock(self, scope: str, state: ClockState) -> None:
        self.control.set_clock(scope, state)

    def real_clock(self, scope: str) -> None:
        """Back to real time: a tenant to the server's clock, the server to the real one."""
        self.control.drop_clock(scope)

    @property
    def seed(self) -> int:
        return self.control.seed

    # -- tenants -------------------------------------------------------------------------------

    def spec_for(self, tenant: str, seed: int | None = None) -> DatasetSpec:
        if seed is None:
            override = self.control.seed_override(tenant)
            seed = override if override is not None else self.control.seed
        return DatasetSpec(seed=seed, anchor=self.today(tenant), scale=self.config.scale)

    def db(
        self, tenant: str, snapshot: Snapshot | None = None, *, evicted: Callable[[str], None] | None = None
    ) -> TenantConnection:
        """The tenant's database, created from the seeded template on first use, within its space's quota
        (``--max-tenants`` for an account, ``--max-debug-tenants`` for debug mode); ``evicted`` hears of an idle
        tenant removed to make room."""
        record = (snapshot or self.control.snapshot()).tenants.get(tenant)
        if record is None or record.created_at not in self._files_made:
            record = self._ensure(tenant, evicted)
        self._touch(tenant)
        return self.files.connection(tenant, record.created_at)

    def _touch(self, tenant: str) -> None:
        """Note that the tenant is in use (at most once a minute per process: it writes the control file)."""
        now = time.monotonic()
        if now - self._touched.get(tenant, -TOUCH_SECONDS) >= TOUCH_SECONDS:
            self._touched[tenant] = now
            self.control.touch(tenant, time.time())

    def _ensure(self, tenant: str, evicted: Callable[[str], None] | None = None) -> TenantRecord:
        spec = self.spec_for(tenant)
        debug = tenancy.space_of(tenant) == tenancy.DEBUG_SPACE
        record, removed = self.control.reserve_tenant(
            tenant,
            spec.key,
            limit=self.config.max_debug_tenants if debug else self.config.max_tenants,
            idle_seconds=self.config.tenant_idle_seconds,
            protected=self.protected,
            on_evict=self._evict,
            flag="--max-debug-tenants" if debug else "--max-tenants",
        )
        if removed is not None and evicted is not None:
            evicted(removed)
        if not self.files.exists(tenant):
            # Another worker may have registered the tenant a moment ago: build the dataset it registered.
            self.files.create(tenant, DatasetSpec.from_key(record.dataset) or spec)
        self._files_made.add(record.created_at)
        return record

    def _evict(self, tenant: str) -> None:
        self.files.remove(tenant)
        self._touched.pop(tenant, None)

    def delete_tenant(self, tenant: str) -> bool:
        if tenant in self.protected:
            raise InvalidParameter(f"Tenant {tenant!r} is built in and cannot be deleted (reset it instead)")
        known = self.control.drop_tenant(tenant)
        self.journal.clear(tenant)
        return self.files.remove(tenant) or known

    def tenants(self) -> list[dict[str, Any]]:
        return self.control.tenants()

    def tenant_names(self) -> list[str]:
        return [row["tenant"] for row in self.control.tenants()]

    def set_options(self, tenant: str, options: dict[str, Any]) -> None:
        self.db(tenant)
        self.control.set_tenant_options(tenant, options)

    def data_window(self, tenant: str, snapshot: Snapshot | None = None) -> tuple[date, date] | None:
        """The first and last day of the tenant's generated slots, when it is registered."""
        record = (snapshot or self.control.snapshot()).tenants.get(tenant)
        return window_of(record.dataset) if record else None

    def strict_lifecycle(self, tenant: str) -> bool:
        record = self.control.snapshot().tenants.get(tenant)
        option = record.options.get("strict_lifecycle") if record else None
        return self.config.strict_lifecycle if option is None else bool(option)

    # -- reset ---------------------------------------------------------------------------------

    def reset(
        self,
        tenant: str | None = None,
        seed: int | None = None,
        *,
        keep_rules: bool = False,
        keep_journal: bool = False,
        keep_clock: bool = True,
    ) -> ResetResult:
        """Restore one tenant (or every tenant) to its seeded dataset, around its clock's current date.

        Everything is validated before anything changes; a seed given for one tenant sticks to it, a seed
        given for the whole server becomes the server's.
        """
        if seed is not None and not 0 <= seed <= MAX_SEED:
            raise InvalidParameter(f"seed must be an integer from 0 to {MAX_SEED}", details={"field": "seed"})
        if tenant is not None:
            self.db(tenant)  # registers it (or refuses at --max-tenants) before anything is dropped
        targets = [tenant] if tenant is not None else self.tenant_names()
        removed = 0 if keep_rules else self.control.clear_rules(tenant)
        cleared = 0 if keep_journal else self.journal.clear(tenant)
        if not keep_clock:
            self.control.restore_clocks(tenant, self.configured_clock)
        if tenant is None and seed is not None:
            self.control.set_seed(seed)
        for name in targets:
            override = seed if tenant is not None and seed is not None else self.control.seed_override(name)
            spec = self.spec_for(name, override)
            self.db(name)
            self.files.restore(name, spec, self.control.snapshot().tenants[name].created_at)
            self.control.record_reset(name, spec.key, override)
        override = self.control.seed_override(tenant) if tenant else None
        return ResetResult(targets, override if override is not None else self.control.seed, removed, cleared)

    # -- rules ---------------------------------------------------------------------------------

    def rules(self, tenant: str | None) -> list[dict[str, Any]]:
        return self.control.rules(tenant)

    def rule(self, rule_id: int) -> dict[str, Any] | None:
        return self.control.rule(rule_id)

    def add_rule(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self.control.add_rule(spec)

    def remove_rule(self, rule_id: int, tenant: str | None) -> bool:
        return self.control.remove_rule(rule_id, tenant)

    def clear_rules(self, tenant: str | None, preset: str | None = None) -> int:
        return self.control.clear_rules(tenant, preset)

    # -- journal -------------------------------------------------------------------------------

    def journal_entries(self, filters: dict[str, Any], *, limit: int, before: int | None) -> list[dict[str, Any]]:
        return self.journal.entries(**filters, limit=limit, before=before)

    def journal_count(self, filters: dict[str, Any]) -> int:
        return self.journal.count(**filters)

    def clear_journal(self, tenant: str | None) -> int:
        return self.journal.clear(tenant)

    # -- what the console and the dataset transfer read ----------------------------------------

    def calendars(self, tenant: str) -> list[dict[str, Any]]:
        rows, _ = list_calendars(self.db(tenant), 1, 100_000)
        keep = ("calendar_id", "calendar_name", "is_active", "timezone")
        return [{key: row[key] for key in keep} for row in rows]

    def week(self, tenant: str, calendar_id: int, start: date, end: date) -> dict[str, Any]:
        return slots.week(self.db(tenant), calendar_id, start, end, self.now(tenant))

    # store/transfer.py is imported by these three only: 3.5 ms of every start, for calls few make.

    def export_dataset(self, tenant: str) -> dict[str, Any]:
        from mockserver.store import transfer

        return transfer.export(self.db(tenant))

    def import_dataset(self, tenant: str, document: Any) -> dict[str, int]:
        """Replace a tenant's state with an export (raw JSON bytes, read one record at a time)."""
        from mockserver.store import transfer

        return transfer.load(self.db(tenant), document)

    @staticmethod
    def give_back_memory() -> None:
        """After a big import, once its body is released (store/transfer.py says why)."""
        from mockserver.store import transfer

        transfer.give_back_memory()

    # -- data actions of presets ---------------------------------------------------------------

    def fill_slots(self, tenant: str) -> int:
        """Book every free place of every future slot (the 'fully-booked' preset), exactly to capacity."""
        return writes.fill_free_places(self.db(tenant), self.control.seed, self.now(tenant))


__all__ = ["GLOBAL", "ResetResult", "Sandbox"]
