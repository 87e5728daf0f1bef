"""Named scenario presets: JSON files in fixtures/scenarios/ (or any file), loaded at start or on demand.

A preset is ``{"description": ..., "rules": [rule, ...], "actions": ["fill_slots"]}``: its rules are
added (tagged with the preset's name) and its actions change the tenant's data for real.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mockserver.control import rules as rule_specs
from mockserver.errors import InvalidParameter, ResourceNotFound
from mockserver.sandbox import Sandbox
from mockserver.version import fixtures_path

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


def load(name_or_file: str) -> tuple[str, list[dict[str, Any]], list[str], str]:
    """(name, validated rules, actions, description) of a preset; INVALID_PARAMETER naming the problem."""
    name, preset = find(name_or_file)
    actions = preset.get("actions") or []
    if not isinstance(actions, list) or any(action not in ACTIONS for action in actions):
        raise InvalidParameter(f"Scenario {name!r}: actions must be a list of {', '.join(ACTIONS)}, got {actions!r}")
    raw_rules = preset.get("rules") or []
    if not isinstance(raw_rules, list):
        raise InvalidParameter(f"Scenario {name!r}: rules must be a list of rules")
    specs = []
    for number, raw in enumerate(raw_rules):
        try:
            specs.append(rule_specs.validate(raw))
        except InvalidParameter as exc:
            raise InvalidParameter(f"Scenario {name!r}, rule {number}: {exc.message}") from None
    return name, specs, actions, str(preset.get("description", ""))


def apply(sandbox: Sandbox, name_or_file: str, tenant: str | None) -> dict[str, Any]:
    """Add the preset's rules (scoped to ``tenant``, or global) and run its actions on it (or every tenant).

    The preset is read and validated whole before anything changes; its rules are added in one transaction.
    """
    name, specs, actions, description = load(name_or_file)
    scoped = [{**spec, "tenant": tenant} if tenant else spec for spec in specs]
    added = sandbox.control.add_rules(scoped, preset=name)
    targets = [tenant] if tenant else sandbox.tenant_names()
    booked = 0
    if "fill_slots" in actions:
        for target in targets:
            booked += sandbox.fill_slots(target)
    return {
        "scenario": name,
        "description": description,
        "rules": added,
        "appointments_added": booked,
        "tenants": targets if actions else [],
    }
