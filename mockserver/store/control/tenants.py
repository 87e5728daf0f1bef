"""The registry of tenants: their records, the per-space quota (--max-tenants) and idle eviction, resets."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from mockserver.errors import InvalidParameter
from mockserver.protocol import TENANT_HEADER
from mockserver.store.control.database import ControlDatabase


@dataclass(frozen=True)
class TenantRecord:
    tenant: str
    dataset: str
    created_at: float
    options: dict[str, Any] = field(default_factory=dict)


class TenantLimit(InvalidParameter):
    """Creating one more tenant would pass --max-tenants (and no idle tenant could make room)."""


class Tenants(ControlDatabase):
    """ControlState's tenant records (the ``tenants`` table); removing a tenant removes its rules and clock."""

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
