"""Control-plane state shared by every server worker: clocks, tenants, the default seed and scenario rules.

It lives in one SQLite file next to the tenant databases, so that a rule added through one worker, or a
clock frozen through it, holds for the next request whichever worker serves it. Each thread keeps a
snapshot and reloads it only when the file changed (``Connection.version``), so the hot path costs one
tiny query.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.clock import ClockState
from mockserver.errors import InvalidParameter
from mockserver.storagemode import THREADS, StorageMode
from mockserver.store.sqlite import Connection, connect, transaction

GLOBAL = "*"

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
"""
#: Columns added since the first release, for a --data-dir made by an older sandbox.
_ADDED_COLUMNS = {
    "tenants": (("active_at", "REAL NOT NULL DEFAULT 0"), ("options", "TEXT NOT NULL DEFAULT '{}'")),
}


@dataclass(frozen=True)
class TenantRecord:
    tenant: str
    dataset: str
    created_at: float
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Snapshot:
    seed: int
    clocks: dict[str, ClockState]
    rules: list[dict[str, Any]] = field(default_factory=list)
    tenants: dict[str, TenantRecord] = field(default_factory=dict)

    def clock(self, scope: str) -> ClockState:
        """A tenant's own clock, or the server's (``GLOBAL``) when it has none."""
        return self.clocks.get(scope) or self.clocks[GLOBAL]


class TenantLimit(InvalidParameter):
    """Creating one more tenant would pass --max-tenants (and no idle tenant could make room)."""


class ControlState:
    def __init__(self, path: Path, seed: int, clock: ClockState, storage: StorageMode = THREADS) -> None:
        self.path = path
        self._local = storage.local()
        conn = self._conn()
        conn.executescript(SCHEMA)
        for table, columns in _ADDED_COLUMNS.items():
            present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            for name, declaration in columns:
                if name not in present:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
        # A server start (re)establishes the configured seed and clock and drops old rules.
        with self.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO settings VALUES ('seed', ?)", (str(seed),))
            tx.execute("DELETE FROM clocks")
            tx.execute("DELETE FROM rules")
            tx.execute("INSERT INTO clocks VALUES (?, ?, ?)", (GLOBAL, clock.frozen_at, clock.offset))

    # -- connections and snapshots -------------------------------------------------------------

    def _conn(self) -> Connection:
        local = self._local.get()
        if getattr(local, "pid", None) != os.getpid():
            conn = connect(self.path, cache_kib=256)
            local.conn, local.pid, local.snapshot, local.marks = conn, os.getpid(), None, None
        return local.conn

    def transaction(self) -> Any:
        return transaction(self._conn())

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
        return Snapshot(seed, clocks, self._rules(conn), tenants)

    @staticmethod
    def _rules(conn: sqlite3.Connection, where: str = "", params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        rows = conn.execute(
            f"SELECT id, tenant, spec, times, hits, evaluations, preset, created_at FROM rules {where} ORDER BY id",
            params,
        )
        return [
            {
                "id": rid,
                **json.loads(spec),
                "tenant": tenant,
                "times": times,
                "hits": hits,
                "evaluations": evaluations,
                "preset": preset,
                "created_at": created,
            }
            for rid, tenant, spec, times, hits, evaluations, preset, created in rows
        ]

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

    # -- seeds and tenants ---------------------------------------------------------------------

    @property
    def seed(self) -> int:
        return self.snapshot().seed

    def seed_override(self, tenant: str) -> int | None:
        """The seed a reset gave this tenant, or None when it follows the server's seed."""
        row = self._conn().execute("SELECT seed FROM tenants WHERE tenant = ?", (tenant,)).fetchone()
        return row[0] if row else None

    def reserve_tenant(
        self,
        tenant: str,
        dataset: str,
        *,
        limit: int,
        idle_seconds: float,
        protected: Collection[str],
        on_evict: Callable[[str], None],
    ) -> TenantRecord:
        """The tenant's record, registering it first if it is new; at ``limit`` tenants, the tenant idle
        longest (none of ``protected``, idle over ``idle_seconds``) makes room, else TenantLimit."""
        now = time.time()
        with self.transaction() as tx:
            row = tx.execute("SELECT dataset, created_at, options FROM tenants WHERE tenant = ?", (tenant,)).fetchone()
            if row is not None:
                return TenantRecord(tenant, row[0], row[1], json.loads(row[2]))
            count = tx.execute("SELECT COUNT(*) FROM tenants").fetchone()[0]
            if count >= limit:
                marks = ",".join("?" * len(protected)) or "''"
                idle = tx.execute(
                    f"SELECT tenant FROM tenants WHERE tenant NOT IN ({marks}) AND active_at < ?"
                    " ORDER BY active_at, tenant LIMIT 1",
                    (*protected, now - idle_seconds),
                ).fetchone()
                if idle is None:
                    raise TenantLimit(
                        f"This server already holds its {limit} tenants (--max-tenants): delete one with"
                        " DELETE /__mock/tenants/{tenant}, or start the server with a higher --max-tenants",
                        details={"field": "X-Mock-Tenant", "max_tenants": limit},
                        hint="Each X-Mock-Tenant name is a tenant of its own; reuse names between test runs.",
                    )
                self._forget(tx, idle[0])
                on_evict(idle[0])
            tx.execute(
                "INSERT INTO tenants (tenant, seed, dataset, created_at, active_at) VALUES (?, NULL, ?, ?, ?)",
                (tenant, dataset, now, now),
            )
        return TenantRecord(tenant, dataset, now)

    def record_reset(self, tenant: str, dataset: str, seed: int | None) -> None:
        now = time.time()
        with self.transaction() as tx:
            tx.execute(
                "UPDATE tenants SET dataset = ?, seed = ?, reset_at = ?, active_at = ?, resets = resets + 1"
                " WHERE tenant = ?",
                (dataset, seed, now, now, tenant),
            )

    def set_tenant_options(self, tenant: str, options: dict[str, Any]) -> None:
        with self.transaction() as tx:
            tx.execute("UPDATE tenants SET options = ? WHERE tenant = ?", (json.dumps(options), tenant))

    def set_seed(self, seed: int) -> None:
        with self.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO settings VALUES ('seed', ?)", (str(seed),))
            tx.execute("UPDATE tenants SET seed = NULL")

    @staticmethod
    def _forget(tx: sqlite3.Connection, tenant: str) -> None:
        tx.execute("DELETE FROM tenants WHERE tenant = ?", (tenant,))
        tx.execute("DELETE FROM rules WHERE tenant = ?", (tenant,))
        tx.execute("DELETE FROM clocks WHERE scope = ?", (tenant,))

    def drop_tenant(self, tenant: str) -> bool:
        with self.transaction() as tx:
            known = tx.execute("SELECT 1 FROM tenants WHERE tenant = ?", (tenant,)).fetchone() is not None
            self._forget(tx, tenant)
        return known

    def tenants(self) -> list[dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT tenant, seed, dataset, created_at, reset_at, resets, options FROM tenants ORDER BY tenant"
        )
        return [
            {
                "tenant": t,
                "seed": s,
                "dataset": d,
                "created_at": c,
                "reset_at": r,
                "resets": n,
                "options": json.loads(o),
            }
            for t, s, d, c, r, n, o in rows
        ]

    # -- scenario rules ------------------------------------------------------------------------

    def add_rules(self, specs: list[dict[str, Any]], preset: str | None = None) -> list[dict[str, Any]]:
        """Add rules in one transaction: all of them, or none."""
        ids = []
        with self.transaction() as tx:
            for spec in specs:
                body = {k: v for k, v in spec.items() if k not in ("tenant", "times")}
                ids.append(
                    tx.execute(
                        "INSERT INTO rules (tenant, spec, times, preset, created_at) VALUES (?, ?, ?, ?, ?)",
                        (spec.get("tenant"), json.dumps(body), spec.get("times"), preset, time.time()),
                    ).lastrowid
                )
        return [rule for rid in ids if (rule := self.rule(int(rid or 0))) is not None]

    def add_rule(self, spec: dict[str, Any], preset: str | None = None) -> dict[str, Any]:
        return self.add_rules([spec], preset)[0]

    def rule(self, rule_id: int) -> dict[str, Any] | None:
        found = self._rules(self._conn(), "WHERE id = ?", (rule_id,))
        return found[0] if found else None

    def rules(self, tenant: str | None = None) -> list[dict[str, Any]]:
        if tenant is None:
            return self._rules(self._conn())
        return self._rules(self._conn(), "WHERE tenant = ? OR tenant IS NULL", (tenant,))

    def remove_rule(self, rule_id: int, tenant: str | None = None) -> bool:
        """Remove one rule; scoped to a tenant, only that tenant's own rules can be removed."""
        with self.transaction() as tx:
            if tenant is None:
                return tx.execute("DELETE FROM rules WHERE id = ?", (rule_id,)).rowcount == 1
            return tx.execute("DELETE FROM rules WHERE id = ? AND tenant = ?", (rule_id, tenant)).rowcount == 1

    def clear_rules(self, tenant: str | None = None, preset: str | None = None) -> int:
        """Remove every rule (tenant None) or the rules scoped to one tenant; only a preset's, if named."""
        clauses, params = [], []
        if tenant is not None:
            clauses.append("tenant = ?")
            params.append(tenant)
        if preset is not None:
            clauses.append("preset = ?")
            params.append(preset)
        with self.transaction() as tx:
            return tx.execute(f"DELETE FROM rules WHERE {' AND '.join(clauses) or '1'}", params).rowcount

    def fire(self, rule: dict[str, Any], draw: Any) -> tuple[bool, int]:
        """Count an evaluation of a matching rule and decide, atomically across workers, whether it fires.

        ``draw(evaluation)`` gives the rule's seeded number for a probability rule; ``times`` is enforced
        by a conditional update, so N workers together fire a ``times: N`` rule exactly N times.
        """
        with self.transaction() as tx:
            row = tx.execute(
                "UPDATE rules SET evaluations = evaluations + 1 WHERE id = ? RETURNING evaluations",
                (rule["id"],),
            ).fetchone()
            if row is None:
                return False, 0
            evaluation = int(row[0])
            if rule.get("probability") is not None and draw(evaluation) >= rule["probability"]:
                return False, evaluation
            fired = (
                tx.execute(
                    "UPDATE rules SET hits = hits + 1 WHERE id = ? AND (times IS NULL OR hits < times)",
                    (rule["id"],),
                ).rowcount
                == 1
            )
            return fired, evaluation
