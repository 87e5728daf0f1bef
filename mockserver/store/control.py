"""Control-plane state shared by every server worker: clocks, tenants, the default seed and scenario rules.

It lives in one SQLite file next to the tenant databases, so that a rule added through one worker, or a
clock frozen through it, holds for the next request whichever worker serves it. Each thread keeps a
snapshot and reloads it only when the file changed (``Connection.version``), so the hot path costs one
tiny query.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.clock import ClockState
from mockserver.errors import InvalidParameter
from mockserver.protocol import TENANT_HEADER
from mockserver.storagemode import THREADS, StorageMode
from mockserver.store.sqlite import Connection, connect, transaction

GLOBAL = "*"
#: Rules held at once (docs/limits.md): a tenant's own, and the server-wide ones every request is matched against.
MAX_RULES_PER_TENANT = 500
MAX_SERVER_WIDE_RULES = 200
#: Tenants whose rules each thread keeps loaded (Snapshot.rules_for) while the rule set does not change.
RULE_SETS_KEPT = 64

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


_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _spec(text: str) -> dict[str, Any]:
    """A stored rule spec. One holding a lone surrogate (stored by an older sandbox, which did not refuse it)
    would make every answer that lists it fail to encode: its strings are shown with U+FFFD instead."""
    spec = json.loads(text)
    if _ESCAPED_SURROGATE.search(text):
        spec = _sendable(spec)
    return spec if isinstance(spec, dict) else {}


def _sendable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, list):
        return [_sendable(item) for item in value]
    if isinstance(value, dict):
        return {_sendable(key): _sendable(item) for key, item in value.items()}
    return value


class TenantLimit(InvalidParameter):
    """Creating one more tenant would pass --max-tenants (and no idle tenant could make room)."""


class ControlState:
    def __init__(self, path: Path, seed: int, clock: ClockState, storage: StorageMode = THREADS) -> None:
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
            conn.sole = self._sole
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
        return Snapshot(
            seed,
            clocks,
            tenants,
            rules_of=functools.lru_cache(maxsize=RULE_SETS_KEPT)(self._rules_for),
            every_rule=lambda: self._rules(conn),
        )

    def _rules_for(self, tenant: str | None) -> list[dict[str, Any]]:
        """A tenant's rules and the server-wide ones, reloaded only when that set changed: a rule firing (its
        counters) or another tenant's rules changing makes a new snapshot, but not a new load of these."""
        conn = self._conn()
        # Rules are added and removed, never edited: the count and the newest id of each part tell a change.
        stamp = tuple(
            conn.execute(
                "SELECT COUNT(*), MAX(id) FROM rules WHERE tenant IS NULL"
                " UNION ALL SELECT COUNT(*), MAX(id) FROM rules WHERE tenant = ?",
                (tenant,),
            ).fetchall()
        )
        local = self._local.get()
        kept: OrderedDict[str | None, tuple[Any, list[dict[str, Any]]]] | None = getattr(local, "rule_sets", None)
        if kept is None:
            kept = local.rule_sets = OrderedDict()
        known = kept.get(tenant)
        if known is not None and known[0] == stamp:
            kept.move_to_end(tenant)
            return known[1]
        rules = self._rules(conn, "WHERE tenant IS NULL OR tenant = ?", (tenant,))
        kept[tenant] = (stamp, rules)
        if len(kept) > RULE_SETS_KEPT:
            kept.popitem(last=False)
        return rules

    @staticmethod
    def _rules(conn: sqlite3.Connection, where: str = "", params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        rows = conn.execute(
            f"SELECT id, tenant, spec, times, hits, evaluations, preset, created_at FROM rules {where} ORDER BY id",
            params,
        )
        return [
            {
                "id": rid,
                **_spec(spec),
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
        flag: str = "--max-tenants",
    ) -> tuple[TenantRecord, str | None]:
        """The tenant's record, registering it first if it is new, and the tenant evicted to make room (or None).

        ``limit`` bounds the tenants of the new tenant's space (an account's, or debug mode's): one space never
        fills another's. At the limit, the tenant of that space idle longest makes room, if it has been idle
        (no request, creation or reset) for ``idle_seconds``; none of ``protected`` ever does. Else TenantLimit.
        """
        now = time.time()
        space = tenant.partition("/")[0]
        evicted = None
        with self.transaction() as tx:
            row = tx.execute("SELECT dataset, created_at, options FROM tenants WHERE tenant = ?", (tenant,)).fetchone()
            if row is not None:
                return TenantRecord(tenant, row[0], row[1], json.loads(row[2])), None
            prefix = space + "/"  # compared exactly (LIKE would fold case)
            in_space = "substr(tenant, 1, length(?)) = ?"
            count = tx.execute(f"SELECT COUNT(*) FROM tenants WHERE {in_space}", (prefix, prefix)).fetchone()[0]
            if count >= limit:
                marks = ",".join("?" * len(protected)) or "''"
                idle = tx.execute(
                    f"SELECT tenant FROM tenants WHERE {in_space} AND tenant NOT IN ({marks})"
                    " AND active_at < ? ORDER BY active_at, tenant LIMIT 1",
                    (prefix, prefix, *protected, now - idle_seconds),
                ).fetchone()
                if idle is None:
                    raise TenantLimit(
                        f"The {space!r} space already holds its {limit} tenants ({flag}), none of them idle for"
                        f" {idle_seconds:g} s: delete one with DELETE /__mock/tenants/{{space}}/{{name}}, or start the"
                        f" server with a higher {flag}",
                        details={"field": TENANT_HEADER, "limit": limit},
                        hint=f"Each {TENANT_HEADER} name is a tenant of its own; reuse names between test runs.",
                    )
                evicted = idle[0]
                self._forget(tx, evicted)
                on_evict(evicted)
            tx.execute(
                "INSERT INTO tenants (tenant, seed, dataset, created_at, active_at) VALUES (?, NULL, ?, ?, ?)",
                (tenant, dataset, now, now),
            )
        return TenantRecord(tenant, dataset, now), evicted

    def touch(self, tenant: str, at: float) -> None:
        """The tenant was used at ``at``: it is not idle (eviction, reserve_tenant)."""
        with self.transaction() as tx:
            tx.execute("UPDATE tenants SET active_at = max(active_at, ?) WHERE tenant = ?", (at, tenant))

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
            self._check_room(tx, specs)
            for spec in specs:
                body = {k: v for k, v in spec.items() if k not in ("tenant", "times")}
                ids.append(
                    tx.execute(
                        "INSERT INTO rules (tenant, spec, times, preset, created_at) VALUES (?, ?, ?, ?, ?)",
                        (spec.get("tenant"), json.dumps(body), spec.get("times"), preset, time.time()),
                    ).lastrowid
                )
        return [rule for rid in ids if (rule := self.rule(int(rid or 0))) is not None]

    @staticmethod
    def _check_room(tx: sqlite3.Connection, specs: list[dict[str, Any]]) -> None:
        """INVALID_PARAMETER naming the limit when the new rules would pass it (inside the adding transaction:
        workers adding at once cannot pass it together)."""
        adding = Counter(spec.get("tenant") for spec in specs)
        for tenant, count in adding.items():
            held = tx.execute("SELECT COUNT(*) FROM rules WHERE tenant IS ?", (tenant,)).fetchone()[0]
            limit = MAX_SERVER_WIDE_RULES if tenant is None else MAX_RULES_PER_TENANT
            if held + count > limit:
                scope = "server-wide rules" if tenant is None else f"rules of tenant {tenant}"
                raise InvalidParameter(
                    f"Too many rules: {held} {scope} held, {count} more would pass the limit of {limit}"
                    f" ({'server-wide' if tenant is None else 'per tenant'}, docs/limits.md)",
                    details={"field": "rules", "limit": limit, "held": held},
                    hint="Remove rules you no longer need: DELETE /__mock/rules/{id}, or DELETE /__mock/rules"
                    " for all of them (a reset removes them too).",
                )

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
