"""Control-plane state shared by every server worker: clocks, tenants, the default seed and scenario rules.

It lives in one SQLite file next to the tenant databases, so that a rule added through one worker, or a
clock frozen through it, holds for the next request whichever worker serves it. Each thread keeps a
snapshot and reloads it only when the file changed (``Connection.version``), so the hot path costs one
tiny query.

ControlState holds the snapshot, the clocks and the seed; it builds on the tenant registry (tenants.py) and the
scenario rules (rules.py), both over the file's tables and connections (database.py).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.clock import ClockState
from mockserver.storagemode import THREADS, StorageMode
from mockserver.store.control.rules import RULE_SETS_KEPT, Rules
from mockserver.store.control.tenants import TenantRecord, Tenants

GLOBAL = "*"


@dataclass
class Snapshot:
    seed: int
    clocks: dict[str, ClockState]
    tenants: dict[str, TenantRecord] = field(default_factory=dict)
    #: Loads the rules one tenant's requests are matched against (ControlState._rules_for), cached per thread.
    rules_of: Callable[[str | None], list[dict[str, Any]]] = field(default=lambda _tenant: [], repr=False)
    #: Loads every rule: what ``rules`` gives (the pipeline's matching before ``rules_for``).
    every_rule: Callable[[], list[dict[str, Any]]] = field(default=list, repr=False)

    def clock(self, scope: str) -> ClockState:
        """A tenant's own clock, or the server's (``GLOBAL``) when it has none."""
        return self.clocks.get(scope) or self.clocks[GLOBAL]

    def rules_for(self, tenant: str | None) -> list[dict[str, Any]]:
        """The rules a request of ``tenant`` is matched against: the server-wide ones and the tenant's own, in id
        order. Their ``hits`` and ``evaluations`` are as of loading: ``ControlState.fire`` keeps the real count.
        Loading and matching cost nothing for other tenants' rules."""
        return self.rules_of(tenant)

    @functools.cached_property
    def rules(self) -> list[dict[str, Any]]:
        """Every rule of every tenant, in id order."""
        return self.every_rule()


class ControlState(Rules, Tenants):
    def __init__(self, path: Path, seed: int, clock: ClockState, storage: StorageMode = THREADS) -> None:
        super().__init__(path, storage)
        # A server start (re)establishes the configured seed and clock and drops old rules.
        with self.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO settings VALUES ('seed', ?)", (str(seed),))
            tx.execute("DELETE FROM clocks")
            tx.execute("DELETE FROM rules")
            tx.execute("INSERT INTO clocks VALUES (?, ?, ?)", (GLOBAL, clock.frozen_at, clock.offset))

    # -- snapshots -----------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        conn = self._conn()
        local = self._local.get()
        marks = conn.version()
        if local.snapshot is None or local.marks != marks:
            local.snapshot = self._load(conn)
            local.marks = marks
        return local.snapshot

    def _load(self, conn: sqlite3.Connection) -> Snapshot:
        seed = int(conn.execute("SELECT value FROM settings WHERE key = 'seed'").fetchone()[0])
        clocks = {
            scope: ClockState(frozen_at=frozen, offset=offset)
            for scope, frozen, offset in conn.execute("SELECT scope, frozen_at, offset FROM clocks")
        }
        tenants = {
            tenant: TenantRecord(tenant, dataset, created, json.loads(options))
            for tenant, dataset, created, options in conn.execute(
                "SELECT tenant, dataset, created_at, options FROM tenants"
            )
        }
        return Snapshot(
            seed,
            clocks,
            tenants,
            rules_of=functools.lru_cache(maxsize=RULE_SETS_KEPT)(self._rules_for),
            every_rule=lambda: self._rules(conn),
        )

    # -- clocks --------------------------------------------------------------------------------

    def clock(self, scope: str) -> ClockState:
        return self.snapshot().clock(scope)

    def set_clocks(self, states: dict[str, ClockState]) -> None:
        with self.transaction() as tx:
            tx.executemany(
                "INSERT OR REPLACE INTO clocks VALUES (?, ?, ?)",
                [(scope, state.frozen_at, state.offset) for scope, state in states.items()],
            )

    def set_clock(self, scope: str, state: ClockState) -> None:
        self.set_clocks({scope: state})

    def drop_clock(self, scope: str) -> None:
        with self.transaction() as tx:
            if scope == GLOBAL:
                tx.execute("UPDATE clocks SET frozen_at = NULL, offset = 0 WHERE scope = ?", (GLOBAL,))
            else:
                tx.execute("DELETE FROM clocks WHERE scope = ?", (scope,))

    def restore_clocks(self, tenant: str | None, configured: ClockState) -> None:
        """A tenant back to the server's clock, or (tenant None) the server back to its configured clock."""
        with self.transaction() as tx:
            if tenant is None:
                tx.execute("DELETE FROM clocks WHERE scope != ?", (GLOBAL,))
                tx.execute(
                    "UPDATE clocks SET frozen_at = ?, offset = ? WHERE scope = ?",
                    (configured.frozen_at, configured.offset, GLOBAL),
                )
            else:
                tx.execute("DELETE FROM clocks WHERE scope = ?", (tenant,))

    # -- the seed ------------------------------------------------------------------------------

    @property
    def seed(self) -> int:
        return self.snapshot().seed

    def set_seed(self, seed: int) -> None:
        with self.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO settings VALUES ('seed', ?)", (str(seed),))
            tx.execute("UPDATE tenants SET seed = NULL")
