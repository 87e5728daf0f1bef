"""Scenario rules: stored specs, their limits (docs/limits.md), the sets a tenant's requests are matched against,
and firing counted atomically across workers."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections import Counter, OrderedDict
from typing import Any

from mockserver.errors import InvalidParameter
from mockserver.store.control.database import ControlDatabase

#: Rules held at once (docs/limits.md): a tenant's own, and the server-wide ones every request is matched against.
MAX_RULES_PER_TENANT = 500
MAX_SERVER_WIDE_RULES = 200
#: Tenants whose rules each thread keeps loaded (Snapshot.rules_for) while the rule set does not change.
RULE_SETS_KEPT = 64

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


class Rules(ControlDatabase):
    """ControlState's scenario rules (the ``rules`` table)."""

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
