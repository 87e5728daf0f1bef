"""Control-plane state shared by every server worker: clocks, tenants, the default seed and scenario rules.

It lives in one SQLite file next to the tenant databases, so that a rule added through one worker, or a
clock frozen through it, holds for the next request whichever worker serves it. Each thread keeps a
snapshot and reloads it only when the file changed (``PRAGMA data_version`` for other connections' commits,
a process-wide generation for our own), so the hot path costs one tiny query.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.clock import ClockState
from mockserver.store.sqlite import connect

GLOBAL = "*"

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clocks (scope TEXT PRIMARY KEY, frozen_at REAL, offset REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS tenants (
    tenant TEXT PRIMARY KEY, seed INTEGER, dataset TEXT NOT NULL, created_at REAL NOT NULL,
    reset_at REAL, resets INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT, spec TEXT NOT NULL, times INTEGER,
    hits INTEGER NOT NULL DEFAULT 0, evaluations INTEGER NOT NULL DEFAULT 0, preset TEXT,
    created_at REAL NOT NULL);
"""


@dataclass
class Snapshot:
    seed: int
    clocks: dict[str, ClockState]
    rules: list[dict[str, Any]] = field(default_factory=list)


class ControlState:
    def __init__(self, path: Path, seed: int, clock: ClockState) -> None:
        self.path = path
        self._local = threading.local()
        self._generation = itertools.count(1)
        self._current = 0
        conn = self._conn()
        conn.executescript(SCHEMA)
        # A server start (re)establishes the configured seed and clock and drops old rules.
        with self.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO settings VALUES ('seed', ?)", (str(seed),))
            tx.execute("DELETE FROM clocks")
            tx.execute("DELETE FROM rules")
            tx.execute("INSERT INTO clocks VALUES (?, ?, ?)", (GLOBAL, clock.frozen_at, clock.offset))

    # -- connections and snapshots -------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            conn = connect(self.path, cache_kib=256)
            local.conn, local.pid, local.snapshot, local.marks = conn, os.getpid(), None, None
        return local.conn

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    def _wrote(self) -> None:
        self._current = next(self._generation)

    def snapshot(self) -> Snapshot:
        conn = self._conn()
        local = self._local
        marks = (conn.execute("PRAGMA data_version").fetchone()[0], self._current)
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
        return Snapshot(seed, clocks, self._rules(conn))

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

    def clock(self, tenant: str) -> ClockState:
        clocks = self.snapshot().clocks
        return clocks.get(tenant) or clocks[GLOBAL]

    def set_clock(self, scope: str, state: ClockState) -> None:
        with self.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO clocks VALUES (?, ?, ?)", (scope, state.frozen_at, state.offset))

    def drop_clock(self, scope: str) -> None:
        with self.transaction() as tx:
            if scope == GLOBAL:
                tx.execute("UPDATE clocks SET frozen_at = NULL, offset = 0 WHERE scope = ?", (GLOBAL,))
            else:
                tx.execute("DELETE FROM clocks WHERE scope = ?", (scope,))

    def drop_tenant_clocks(self) -> None:
        with self.transaction() as tx:
            tx.execute("DELETE FROM clocks WHERE scope != ?", (GLOBAL,))

    # -- seeds and tenants ---------------------------------------------------------------------

    @property
    def seed(self) -> int:
        return self.snapshot().seed

    def set_seed(self, seed: int) -> None:
        with self.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO settings VALUES ('seed', ?)", (str(seed),))
            tx.execute("UPDATE tenants SET seed = NULL")

    def seed_override(self, tenant: str) -> int | None:
        """The seed a reset gave this tenant, or None when it follows the server's seed."""
        row = self._conn().execute("SELECT seed FROM tenants WHERE tenant = ?", (tenant,)).fetchone()
        return row[0] if row else None

    def register_tenant(self, tenant: str, dataset: str, seed: int | None, reset: bool = False) -> None:
        now = time.time()
        with self.transaction() as tx:
            tx.execute(
                "INSERT INTO tenants (tenant, seed, dataset, created_at) VALUES (:tenant, :seed, :dataset, :now)"
                " ON CONFLICT (tenant) DO UPDATE SET dataset = excluded.dataset, seed = excluded.seed,"
                " reset_at = CASE WHEN :reset THEN :now ELSE reset_at END, resets = resets + :reset",
                {"tenant": tenant, "seed": seed, "dataset": dataset, "now": now, "reset": int(reset)},
            )

    def tenants(self) -> list[dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT tenant, seed, dataset, created_at, reset_at, resets FROM tenants ORDER BY tenant"
        )
        return [
            {"tenant": t, "seed": s, "dataset": d, "created_at": c, "reset_at": r, "resets": n}
            for t, s, d, c, r, n in rows
        ]

    # -- scenario rules ------------------------------------------------------------------------

    def add_rule(self, spec: dict[str, Any], preset: str | None = None) -> dict[str, Any]:
        body = {k: v for k, v in spec.items() if k not in ("tenant", "times")}
        with self.transaction() as tx:
            rid = tx.execute(
                "INSERT INTO rules (tenant, spec, times, preset, created_at) VALUES (?, ?, ?, ?, ?)",
                (spec.get("tenant"), json.dumps(body), spec.get("times"), preset, time.time()),
            ).lastrowid
        return self.rule(int(rid or 0)) or {}

    def rule(self, rule_id: int) -> dict[str, Any] | None:
        found = self._rules(self._conn(), "WHERE id = ?", (rule_id,))
        return found[0] if found else None

    def rules(self, tenant: str | None = None) -> list[dict[str, Any]]:
        if tenant is None:
            return self._rules(self._conn())
        return self._rules(self._conn(), "WHERE tenant = ? OR tenant IS NULL", (tenant,))

    def remove_rule(self, rule_id: int) -> bool:
        with self.transaction() as tx:
            return tx.execute("DELETE FROM rules WHERE id = ?", (rule_id,)).rowcount == 1

    def clear_rules(self, tenant: str | None = None) -> int:
        """Remove every rule (tenant None) or the rules scoped to one tenant."""
        with self.transaction() as tx:
            if tenant is None:
                return tx.execute("DELETE FROM rules").rowcount
            return tx.execute("DELETE FROM rules WHERE tenant = ?", (tenant,)).rowcount

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


class _Transaction:
    """``BEGIN IMMEDIATE`` .. ``COMMIT``: control writes from several workers never interleave."""

    def __init__(self, state: ControlState) -> None:
        self.state = state
        self.conn = state._conn()

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind: object, *_: object) -> None:
        self.conn.execute("ROLLBACK" if kind else "COMMIT")
        self.state._wrote()
