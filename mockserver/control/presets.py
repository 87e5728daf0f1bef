"""Named scenario presets: JSON files in fixtures/scenarios/ (or any file), loaded at start or on demand.

A preset is ``{"description": ..., "rules": [rule, ...], "actions": ["fill_slots"]}``: its rules are
added (tagged with the preset's name) and its actions change the tenant's data for real.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mockserver import fixtures_path
from mockserver.control import rules as rule_specs
from mockserver.dataset import fill_plan
from mockserver.errors import InvalidParameter, ResourceNotFound
from mockserver.sandbox import Sandbox
from mockserver.store import writes

ACTIONS = ("fill_slots",)


def directory() -> Path:
    return fixtures_path("scenarios")


def available() -> dict[str, str]:
    """Preset name -> description."""
    return {path.stem: _read(path).get("description", "") for path in sorted(directory().glob("*.json"))}


def _read(path: Path) -> dict[str, Any]:
    try:
        preset = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidParameter(f"Cannot read scenario file {path}: {exc}") from None
    if not isinstance(preset, dict):
        raise InvalidParameter(f"Scenario file {path} must hold a JSON object")
    return preset


def find(name_or_file: str) -> tuple[str, dict[str, Any]]:
    """A preset by name (fixtures/scenarios/NAME.json) or by file path."""
    candidate = directory() / f"{name_or_file}.json"
    if "/" not in name_or_file and candidate.is_file():
        return name_or_file, _read(candidate)
    path = Path(name_or_file)
    if path.is_file():
        return path.stem, _read(path)
    raise ResourceNotFound(f"No scenario {name_or_file!r}; available: {', '.join(available())}")


def apply(sandbox: Sandbox, name_or_file: str, tenants: list[str], scope: str | None) -> dict[str, Any]:
    """Add the preset's rules (scoped to ``scope``, or global) and run its actions on ``tenants``."""
    name, preset = find(name_or_file)
    actions = preset.get("actions") or []
    unknown = [action for action in actions if action not in ACTIONS]
    if unknown:
        raise InvalidParameter(f"Scenario {name!r}: unknown action {unknown[0]!r} (known: {', '.join(ACTIONS)})")
    specs = [rule_specs.validate({**raw, **({"tenant": scope} if scope else {})}) for raw in preset.get("rules", [])]
    added = [sandbox.control.add_rule(spec, preset=name) for spec in specs]
    booked = 0
    if "fill_slots" in actions:
        for tenant in tenants:
            booked += fill_slots(sandbox, tenant)
    return {
        "scenario": name,
        "description": preset.get("description", ""),
        "rules": added,
        "appointments_added": booked,
        "tenants": tenants if actions else [],
    }


def fill_slots(sandbox: Sandbox, tenant: str) -> int:
    conn = sandbox.db(tenant)
    now = sandbox.now(tenant)
    client_ids = [row[0] for row in conn.execute("SELECT client_id FROM clients ORDER BY client_id")]
    plan = fill_plan(sandbox.control.seed, writes.free_seats(conn, now), client_ids)
    return writes.book_all(conn, plan, now)
