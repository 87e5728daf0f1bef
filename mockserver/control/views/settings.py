"""GET|POST /__mock/settings: a tenant's own settings (docs/control-api.md#settings)."""

from __future__ import annotations

from flask import Blueprint

from mockserver.answer import Answer
from mockserver.call import ok
from mockserver.control.views import scope
from mockserver.errors import InvalidParameter

bp = Blueprint("settings", __name__)

SETTINGS = ("strict_lifecycle",)


@bp.get("/settings")
def settings() -> Answer:
    """GET /__mock/settings: a tenant's settings (and the server's defaults)."""
    tenant = scope.one_tenant()
    return ok({"tenant": tenant, "strict_lifecycle": scope.sandbox().strict_lifecycle(tenant)}, "Tenant settings")


@bp.post("/settings")
def change_settings() -> Answer:
    """POST /__mock/settings {"strict_lifecycle": true|false|null}: a tenant's own settings (null: the server's)."""
    fields = scope.body(("tenant", *SETTINGS))
    tenant = scope.one_tenant(fields)
    value = fields.get("strict_lifecycle")
    if value is not None and not isinstance(value, bool):
        raise InvalidParameter("strict_lifecycle must be true, false or null", details={"field": "strict_lifecycle"})
    runtime = scope.sandbox()
    runtime.set_options(tenant, {} if value is None else {"strict_lifecycle": value})
    return ok({"tenant": tenant, "strict_lifecycle": runtime.strict_lifecycle(tenant)}, "Tenant settings changed")
