"""GET /__mock/, /__mock/ready and /__mock/about: what the control API offers, and this sandbox's identity."""

from __future__ import annotations

from flask import Blueprint

from mockserver.answer import Answer
from mockserver.call import current_call, ok
from mockserver.control import presets
from mockserver.control.views import clock, scope
from mockserver.version import API_VERSION, __version__

bp = Blueprint("about", __name__)

#: What GET /__mock/ lists; tests/test_control.py checks it against the routes.
INDEX = {
    "reset": "POST /__mock/reset",
    "tenants": "GET /__mock/tenants, DELETE /__mock/tenants/{space}/{name}",
    "settings": "GET|POST /__mock/settings",
    "clock": "GET /__mock/clock, POST /__mock/clock/freeze, POST /__mock/clock/advance, POST /__mock/clock/real",
    "rules": "GET|POST|DELETE /__mock/rules, GET|DELETE /__mock/rules/{id}",
    "scenarios": "GET /__mock/scenarios, GET|POST /__mock/scenarios/{name}",
    "journal": "GET|DELETE /__mock/journal, GET /__mock/journal/count, GET /__mock/journal/stream",
    "dataset": "GET|PUT /__mock/dataset",
    "about": "GET /__mock/about",
    "week": "GET /__mock/week",
    "calendars": "GET /__mock/calendars",
    "ready": "GET /__mock/ready",
}


@bp.get("/")
def index() -> Answer:
    """GET /__mock/: what the control API offers."""
    return ok(INDEX, "Control API")


@bp.get("/ready")
def ready() -> Answer:
    """GET /__mock/ready: 200 once the dataset is loaded; no rule, preset or secret can fail it (health checks)."""
    return ok({"ready": True}, "Sandbox ready")


@bp.get("/about")
def about() -> Answer:
    """GET /__mock/about: the sandbox's identity: version, seed, environment, clock, accounts, presets."""
    runtime = current_call().sandbox
    tenant = scope.one_tenant()
    config = runtime.config
    return ok(
        {
            "name": "tap4book-mock",
            "version": __version__,
            "api_version": API_VERSION,
            "seed": runtime.seed,
            "environment": config.environment,
            "debug_mode": config.debug_mode,
            "admin_token_required": bool(config.admin_token),
            "tenant": tenant,
            "clock": clock.view(tenant),
            "accounts": sorted(runtime.accounts.by_id),
            "default_account": runtime.accounts.default.account_id,
            "presets": presets.available(),
        },
        "About this sandbox",
    )
