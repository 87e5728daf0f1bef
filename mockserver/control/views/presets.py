"""Scenario presets: GET /__mock/scenarios and GET|POST /__mock/scenarios/{name} (docs/control-api.md#presets)."""

from __future__ import annotations

from flask import Blueprint

from mockserver.answer import Answer
from mockserver.call import ok
from mockserver.control import presets
from mockserver.control.views import scope
from mockserver.errors import ResourceNotFound

bp = Blueprint("presets", __name__)


def _known(name: str) -> str:
    if "/" in name or name not in presets.available():
        raise ResourceNotFound(f"No scenario {name!r}; available: {', '.join(presets.available())}")
    return name


@bp.get("/scenarios")
def list_scenarios() -> Answer:
    """GET /__mock/scenarios: the presets shipped in fixtures/scenarios/."""
    return ok(presets.available(), "Scenarios")


@bp.get("/scenarios/<name>")
def scenario(name: str) -> Answer:
    """GET /__mock/scenarios/{name}: what a preset does: its rules and its data actions."""
    found, specs, actions, description = presets.load(_known(name))
    return ok({"scenario": found, "description": description, "rules": specs, "actions": actions}, "Scenario")


@bp.post("/scenarios/<name>")
def load_scenario(name: str) -> Answer:
    """POST /__mock/scenarios/{name}: add a preset's rules and run its actions."""
    tenant = scope.target(scope.body(("tenant",)))
    return ok(presets.apply(scope.sandbox(), _known(name), tenant), "Scenario loaded")
