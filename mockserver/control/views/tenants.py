"""GET /__mock/tenants and DELETE /__mock/tenants/{space}/{name} (docs/control-api.md#tenants)."""

from __future__ import annotations

from flask import Blueprint

from mockserver import tenancy
from mockserver.answer import Answer
from mockserver.call import current_call, ok
from mockserver.control.views import scope
from mockserver.errors import ResourceNotFound

bp = Blueprint("tenants", __name__)


@bp.get("/tenants")
def tenants() -> Answer:
    """GET /__mock/tenants: every tenant database and its dataset (those of the caller's space when scoped)."""
    # The same scoping rule as every control call: refused credentials are refused here too, a tenant header
    # alone names one space, and --no-server-wide-control refuses an anonymous listing.
    target = scope.target()
    rows = scope.sandbox().tenants()
    space = current_call().identity.space or (tenancy.space_of(target) if target else None)
    if space is not None:
        rows = [row for row in rows if tenancy.space_of(row["tenant"]) == space]
    return ok(rows, "Tenants")


@bp.delete("/tenants/<space>/<name>")
def delete_tenant(space: str, name: str) -> Answer:
    """DELETE /__mock/tenants/{space}/{name}: forget a tenant: its data, rules, clock and journal."""
    target = scope.target({"tenant": f"{space}/{name}"})
    assert target is not None
    if not scope.sandbox().delete_tenant(target):
        raise ResourceNotFound(f"No tenant {target!r}")
    return ok({"removed": target}, "Tenant removed")
