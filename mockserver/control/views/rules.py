"""Scenario rules: GET|POST|DELETE /__mock/rules and GET|DELETE /__mock/rules/{id} (docs/control-api.md#rules)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from mockserver.answer import Answer
from mockserver.args import SQLITE_MAX
from mockserver.call import current_call, ok
from mockserver.control import rules as rule_specs
from mockserver.control.views import scope
from mockserver.errors import ResourceNotFound

bp = Blueprint("rules", __name__)


@bp.get("/rules")
def list_rules() -> Answer:
    """GET /__mock/rules: the rules (of one tenant, with the global ones), with their hit counts."""
    return ok(scope.sandbox().rules(scope.target()), "Rules")


@bp.post("/rules")
def add_rule() -> Answer:
    """POST /__mock/rules: add a rule (see control/rules.py for its fields)."""
    fields = scope.body()
    tenant = scope.target(fields)
    spec = rule_specs.validate({k: v for k, v in fields.items() if k != "tenant"})
    if tenant is not None:
        spec["tenant"] = tenant
    return ok(scope.sandbox().add_rule(spec), "Rule added")


def _visible(rule_id: int) -> dict[str, Any]:
    """A rule the caller may see: any rule server-wide, a tenant's own and the global ones when scoped."""
    tenant = scope.target()
    rule = scope.sandbox().rule(rule_id) if rule_id <= SQLITE_MAX else None
    if rule is None or (tenant is not None and rule["tenant"] not in (None, tenant)):
        raise ResourceNotFound(f"No rule {rule_id}")
    return rule


@bp.get("/rules/<int:rule_id>")
def get_rule(rule_id: int) -> Answer:
    """GET /__mock/rules/{id}: one rule and its hit count."""
    return ok(_visible(rule_id), "Rule")


@bp.delete("/rules/<int:rule_id>")
def remove_rule(rule_id: int) -> Answer:
    """DELETE /__mock/rules/{id}: remove one rule (scoped: only the tenant's own rules)."""
    tenant = scope.target()
    if rule_id > SQLITE_MAX or not scope.sandbox().remove_rule(rule_id, tenant):
        raise ResourceNotFound(f"No rule {rule_id}" + (f" of tenant {tenant}" if tenant else ""))
    return ok({"removed": rule_id}, "Rule removed")


@bp.delete("/rules")
def clear_rules() -> Answer:
    """DELETE /__mock/rules?preset=: remove every rule (of one tenant when scoped; only a preset's, if named)."""
    preset = current_call().args.get("preset") or None
    return ok({"removed": scope.sandbox().clear_rules(scope.target(), preset)}, "Rules cleared")
