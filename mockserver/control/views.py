"""The /__mock/ control API: reset, clock, scenario rules and presets, journal, tenants and datasets.

JSON in and out, in the same envelope as the API. Every operation can be scoped to one tenant: a
``tenant`` field (body or query, ``space/name`` or just ``name`` within the caller's space), or the same
headers as the API (``Access-Token`` / ``X-Debug`` and ``X-Mock-Tenant``); with neither it acts on the
whole server. docs/control-api.md has a curl example for each.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from flask import Blueprint, Response, request

from mockserver.api.call import current_call, ok
from mockserver.clock import ClockState, check_instant, iso, parse_duration
from mockserver.config import parse_instant
from mockserver.control import presets
from mockserver.control import rules as rule_specs
from mockserver.control.state import GLOBAL
from mockserver.errors import AuthInvalid, AuthRequired, InvalidJson, InvalidParameter, ResourceNotFound
from mockserver.sandbox import DEBUG_SPACE, tenant_id
from mockserver.store import transfer
from mockserver.store.tenants import TENANT_NAME

bp = Blueprint("control", __name__, url_prefix="/__mock")
ADMIN_HEADER = "X-Mock-Admin-Token"
DATASET_BODY_LIMIT = 256 * 1024 * 1024  # a dataset export at --scale 100 is tens of megabytes


@bp.before_request
def require_admin() -> None:
    if request.endpoint == "control.import_dataset":
        request.max_content_length = DATASET_BODY_LIMIT
    expected = current_call().sandbox.config.admin_token
    if not expected:
        return
    given = request.headers.get(ADMIN_HEADER) or ""
    if not given:
        raise AuthRequired(f"The control API needs the {ADMIN_HEADER} header on this server")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise AuthInvalid(f"Wrong {ADMIN_HEADER}")


# -- helpers --------------------------------------------------------------------------------------


def _body() -> dict[str, Any]:
    if not request.get_data(cache=True).strip():
        return {}
    value = request.get_json(silent=True, force=True)
    if not isinstance(value, dict):
        raise InvalidJson("The control API takes a JSON object as body")
    return value


def _target(body: dict[str, Any] | None = None) -> str | None:
    """The tenant an operation is scoped to, or None for the whole server."""
    call = current_call()
    raw = (body or {}).get("tenant", request.args.get("tenant"))
    if raw is None or raw == "":
        name = request.headers.get("X-Mock-Tenant")
        if call.tenant is not None and (name or call.account or call.debug):
            return call.tenant
        # A tenant header without a token names a tenant of the default account, never "everything".
        return tenant_id(call.sandbox.accounts.default.account_id, name) if name else None
    text = str(raw)
    space, _, name = text.rpartition("/")
    if not space:
        space = DEBUG_SPACE if call.debug else (call.account or call.sandbox.accounts.default).account_id
    if space != DEBUG_SPACE and space not in call.sandbox.accounts.by_id:
        raise InvalidParameter(f"Unknown tenant space {space!r}: use an account id or 'debug'")
    if not TENANT_NAME.match(name):
        raise InvalidParameter(f"Invalid tenant name {name!r}")
    return tenant_id(space, name)


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise InvalidParameter(f"{name} must be true or false")
    return value


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise InvalidParameter(f"{name} must be between {low} and {high}")
    return value


# -- index and readiness --------------------------------------------------------------------------


@bp.get("/")
def index() -> Response:
    """GET /__mock/: what the control API offers."""
    return ok(
        {
            "reset": "POST /__mock/reset",
            "tenants": "GET /__mock/tenants",
            "clock": "GET /__mock/clock, POST /__mock/clock/freeze|advance|real",
            "rules": "GET|POST|DELETE /__mock/rules, GET|DELETE /__mock/rules/{id}",
            "scenarios": "GET /__mock/scenarios, POST /__mock/scenarios/{name}",
            "journal": "GET|DELETE /__mock/journal, GET /__mock/journal/count",
            "dataset": "GET|PUT /__mock/dataset",
            "ready": "GET /__mock/ready",
        },
        "Control API",
    )


@bp.get("/ready")
def ready() -> Response:
    """GET /__mock/ready: 200 once the dataset is loaded (the app is built only after it is)."""
    return ok({"ready": True}, "Sandbox ready")


# -- reset and tenants ----------------------------------------------------------------------------


@bp.post("/reset")
def reset() -> Response:
    """POST /__mock/reset: restore the seeded dataset; clears rules, journal and clock unless kept."""
    started = time.perf_counter()
    body = _body()
    tenant = _target(body)
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise InvalidParameter("seed must be a non-negative integer")
    sandbox = current_call().sandbox
    removed = 0 if _flag(body, "keep_rules") else sandbox.control.clear_rules(tenant)
    cleared = 0 if _flag(body, "keep_journal") else sandbox.journal.clear(tenant)
    if not _flag(body, "keep_clock"):
        if tenant is None:
            sandbox.control.set_clock(GLOBAL, ClockState(frozen_at=sandbox.config.now))
            sandbox.control.drop_tenant_clocks()
        else:
            sandbox.control.drop_clock(tenant)
    tenants = sandbox.reset(tenant, seed)
    override = sandbox.control.seed_override(tenant) if tenant else None
    return ok(
        {
            "tenants": tenants,
            "seed": override if override is not None else sandbox.control.seed,
            "rules_removed": removed,
            "journal_cleared": cleared,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        },
        "Sandbox reset",
    )


@bp.get("/tenants")
def tenants() -> Response:
    """GET /__mock/tenants: every tenant database and its dataset."""
    return ok(current_call().sandbox.control.tenants(), "Tenants")


# -- clock ----------------------------------------------------------------------------------------


def _clock_view(scope: str) -> dict[str, Any]:
    sandbox = current_call().sandbox
    state = sandbox.clock(scope) if scope != GLOBAL else sandbox.control.snapshot().clocks[GLOBAL]
    now = state.now()
    return {
        "scope": scope,
        "mode": state.mode,
        "now": iso(now),
        "epoch": round(now, 3),
        "frozen_at": iso(state.frozen_at) if state.frozen_at is not None else None,
        "offset_seconds": state.offset,
    }


@bp.get("/clock")
def clock() -> Response:
    """GET /__mock/clock: the sandbox time (of one tenant, or the server's)."""
    return ok(_clock_view(_target() or GLOBAL), "Sandbox clock")


@bp.post("/clock/freeze")
def freeze() -> Response:
    """POST /__mock/clock/freeze {"at": ISO-8601}: stop the clock (at its current time if "at" is absent)."""
    body = _body()
    scope = _target(body) or GLOBAL
    sandbox = current_call().sandbox
    if body.get("at") is None:
        at = sandbox.clock(scope).now() if scope != GLOBAL else sandbox.control.snapshot().clocks[GLOBAL].now()
    else:
        try:
            at = parse_instant(body["at"])
        except ValueError as exc:
            raise InvalidParameter(f"at: {exc}") from None
        if at is None:
            raise InvalidParameter("at: give an instant, or call /__mock/clock/real for real time")
    sandbox.control.set_clock(scope, ClockState(frozen_at=at))
    return ok(_clock_view(scope), "Clock frozen")


@bp.post("/clock/advance")
def advance() -> Response:
    """POST /__mock/clock/advance {"by": "2h30m" | seconds | "P1D"}: move the clock forward (or back)."""
    body = _body()
    if body.get("by") is None:
        raise InvalidParameter("by is required: seconds, '2h30m', '1d' or an ISO-8601 duration such as 'P1DT2H'")
    try:
        seconds = parse_duration(body["by"])
    except ValueError as exc:
        raise InvalidParameter(f"by: {exc}") from None
    scope = _target(body) or GLOBAL
    sandbox = current_call().sandbox
    current = sandbox.clock(scope) if scope != GLOBAL else sandbox.control.snapshot().clocks[GLOBAL]
    moved = current.advanced(seconds)
    try:
        check_instant(moved.now())
    except ValueError as exc:
        raise InvalidParameter(f"by: {exc}") from None
    sandbox.control.set_clock(scope, moved)
    return ok(_clock_view(scope), "Clock advanced")


@bp.post("/clock/real")
def real_time() -> Response:
    """POST /__mock/clock/real: back to real time (a tenant returns to the server's clock)."""
    scope = _target(_body()) or GLOBAL
    current_call().sandbox.control.drop_clock(scope)
    return ok(_clock_view(scope), "Clock back to real time")


# -- rules ----------------------------------------------------------------------------------------


@bp.get("/rules")
def list_rules() -> Response:
    """GET /__mock/rules: the rules (of one tenant, with the global ones), with their hit counts."""
    return ok(current_call().sandbox.control.rules(_target()), "Rules")


@bp.post("/rules")
def add_rule() -> Response:
    """POST /__mock/rules: add a rule (see control/rules.py for its fields)."""
    body = _body()
    tenant = _target(body)
    spec = rule_specs.validate({k: v for k, v in body.items() if k != "tenant"})
    if tenant is not None:
        spec["tenant"] = tenant
    return ok(current_call().sandbox.control.add_rule(spec), "Rule added")


MAX_RULE_ID = 2**63 - 1  # SQLite's largest integer: a larger id cannot exist


@bp.get("/rules/<int:rule_id>")
def get_rule(rule_id: int) -> Response:
    """GET /__mock/rules/{id}: one rule and its hit count."""
    rule = current_call().sandbox.control.rule(rule_id) if rule_id <= MAX_RULE_ID else None
    if rule is None:
        raise ResourceNotFound(f"No rule {rule_id}")
    return ok(rule, "Rule")


@bp.delete("/rules/<int:rule_id>")
def remove_rule(rule_id: int) -> Response:
    """DELETE /__mock/rules/{id}: remove one rule."""
    if rule_id > MAX_RULE_ID or not current_call().sandbox.control.remove_rule(rule_id):
        raise ResourceNotFound(f"No rule {rule_id}")
    return ok({"removed": rule_id}, "Rule removed")


@bp.delete("/rules")
def clear_rules() -> Response:
    """DELETE /__mock/rules: remove every rule (of one tenant when scoped)."""
    return ok({"removed": current_call().sandbox.control.clear_rules(_target())}, "Rules cleared")


# -- scenario presets -----------------------------------------------------------------------------


@bp.get("/scenarios")
def list_scenarios() -> Response:
    """GET /__mock/scenarios: the presets shipped in fixtures/scenarios/."""
    return ok(presets.available(), "Scenarios")


@bp.post("/scenarios/<name>")
def load_scenario(name: str) -> Response:
    """POST /__mock/scenarios/{name}: add a preset's rules and run its actions."""
    body = _body()
    tenant = _target(body)
    sandbox = current_call().sandbox
    targets = [tenant] if tenant else [row["tenant"] for row in sandbox.control.tenants()]
    if "/" in name or name not in presets.available():
        raise ResourceNotFound(f"No scenario {name!r}; available: {', '.join(presets.available())}")
    return ok(presets.apply(sandbox, name, targets, tenant), "Scenario loaded")


# -- journal --------------------------------------------------------------------------------------


def _journal_filters() -> dict[str, Any]:
    return {"method": request.args.get("method"), "path": request.args.get("path"), "tenant": _target()}


@bp.get("/journal")
def journal() -> Response:
    """GET /__mock/journal?method=&path=&tenant=&limit=: the newest matching API requests, oldest first."""
    limit = _int_arg("limit", 100, 1, 100_000)
    entries = current_call().sandbox.journal.entries(**_journal_filters(), limit=limit)
    return ok(entries, "Journal")


@bp.get("/journal/count")
def journal_count() -> Response:
    """GET /__mock/journal/count: how many journal entries match."""
    return ok({"count": current_call().sandbox.journal.count(**_journal_filters())}, "Journal count")


@bp.delete("/journal")
def clear_journal() -> Response:
    """DELETE /__mock/journal: forget the recorded requests (of one tenant when scoped)."""
    return ok({"removed": current_call().sandbox.journal.clear(_target())}, "Journal cleared")


# -- datasets -------------------------------------------------------------------------------------


@bp.get("/dataset")
def export_dataset() -> Response:
    """GET /__mock/dataset: a tenant's full state as JSON."""
    sandbox = current_call().sandbox
    tenant = _target() or tenant_id(sandbox.accounts.default.account_id)
    return ok({"tenant": tenant, **transfer.export(sandbox.db(tenant))}, "Dataset exported")


@bp.put("/dataset")
def import_dataset() -> Response:
    """PUT /__mock/dataset?tenant=: replace a tenant's state with an export.

    The target comes from the query or the headers, never from the document: an export names the tenant
    it came from, and loading it elsewhere is the point.
    """
    body = _body()
    sandbox = current_call().sandbox
    tenant = _target() or tenant_id(sandbox.accounts.default.account_id)
    counts = transfer.load(sandbox.db(tenant), body)
    return ok({"tenant": tenant, "loaded": counts}, "Dataset loaded")
