"""The /__mock/ control API: reset, clock, scenario rules and presets, journal, tenants and datasets.

JSON in and out, in the same envelope as the API. Every operation can be scoped to one tenant: a
``tenant`` field (body or query, ``space/name`` or just ``name`` within the caller's space), or the same
headers as the API (``Access-Token`` / ``X-Debug`` and ``X-Mock-Tenant``); with no credentials at all it
acts on the whole server. Who may reach which tenant is ``mockserver.tenancy``'s rule, applied by
``_target``. docs/control-api.md has a curl example for each.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, request

from mockserver import jsonbody, tenancy
from mockserver.call import current_call, ok
from mockserver.clock import ClockState, check_instant, iso, local_date, parse_duration, parse_instant
from mockserver.control import journal_args, presets, stream
from mockserver.control import rules as rule_specs
from mockserver.errors import (
    AuthInvalid,
    AuthRequired,
    CalendarNotFound,
    InvalidJson,
    InvalidParameter,
    ResourceNotFound,
)
from mockserver.sandbox import GLOBAL, Sandbox
from mockserver.store import queries, transfer
from mockserver.version import API_VERSION, __version__

bp = Blueprint("control", __name__, url_prefix="/__mock")
ADMIN_HEADER = "X-Mock-Admin-Token"
DATASET_BODY_LIMIT = 256 * 1024 * 1024  # a dataset export at --scale 100 is tens of megabytes
MAX_RULE_ID = 2**63 - 1  # SQLite's largest integer: a larger id cannot exist
WRITES = frozenset({"POST", "PUT", "DELETE", "PATCH"})


@bp.before_request
def guard() -> None:
    """Admin token, then the cross-site checks of a write (docs/control-api.md#safety)."""
    if request.endpoint == "control.import_dataset":
        request.max_content_length = DATASET_BODY_LIMIT
    sandbox = current_call().sandbox
    expected = sandbox.config.admin_token
    if expected:
        given = request.headers.get(ADMIN_HEADER) or ""
        if not given:
            raise AuthRequired(
                f"The control API needs the {ADMIN_HEADER} header on this server",
                hint="This server was started with --admin-token: send its value in X-Mock-Admin-Token.",
            )
        if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
            raise AuthInvalid(f"Wrong {ADMIN_HEADER}", hint="The admin token differs from --admin-token's value.")
    if request.method in WRITES:
        _same_site_write(sandbox)


def _same_site_write(sandbox: Sandbox) -> None:
    """A page on another site must not drive the control API: browsers send ``Origin`` on every cross-origin
    write, and a JSON content type makes them ask first (a preflight, which cors.py answers only for the
    allowed origins)."""
    origin = request.headers.get("Origin")
    if origin and not _allowed_origin(origin, sandbox.config.control_origins):
        raise InvalidParameter(
            f"Control API writes from the web page origin {origin!r} are refused",
            details={"header": "Origin"},
            hint="Only this server's own pages (the console) and --control-origins may change the sandbox.",
        )
    has_body = request.content_length or request.headers.get("Transfer-Encoding")
    if has_body and request.mimetype != "application/json":
        raise InvalidJson(
            f"Control API writes take Content-Type: application/json, got {request.mimetype or 'none'!r}",
            details={"header": "Content-Type"},
            hint="With curl: -H 'Content-Type: application/json' (or --json '{...}').",
        )


def _allowed_origin(origin: str, allowed: tuple[str, ...]) -> bool:
    own = f"{request.scheme}://{request.host}"
    return origin.rstrip("/") in (own, *allowed)


# -- helpers --------------------------------------------------------------------------------------


def _body(allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The JSON object of a control write ({} when empty); ``allowed`` names its fields, others are refused."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    value = jsonbody.parse(raw)
    if not isinstance(value, dict):
        raise InvalidJson(f"The control API takes a JSON object as body, got {jsonbody.describe(value)}")
    if allowed is not None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise InvalidParameter(
                f"Unknown field {unknown[0]!r} (known: {', '.join(allowed)})", details={"field": unknown[0]}
            )
    return value


def _target(body: Mapping[str, Any] | None = None) -> str | None:
    """The tenant an operation is scoped to, or None for the whole server (tenancy.control_target)."""
    call = current_call()
    raw = (body or {}).get("tenant", request.args.get("tenant"))
    if raw is not None and not isinstance(raw, str):
        raise InvalidParameter("tenant must be a string such as 'sandbox/w1' or 'w1'", details={"field": "tenant"})
    sandbox = call.sandbox
    return tenancy.control_target(
        call.identity,
        raw or None,
        known_spaces=sandbox.accounts.by_id,
        default_space=sandbox.accounts.default.account_id,
        server_wide=sandbox.config.server_wide_control,
    )


def _one_tenant(body: Mapping[str, Any] | None = None) -> str:
    """A tenant-scoped operation's tenant: the default account's default tenant when none is named."""
    return _target(body) or current_call().sandbox.default_tenant


def _boolean(body: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise InvalidParameter(f"{name} must be true or false", details={"field": name})
    return value


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 18) or not low <= int(text) <= high:
        raise InvalidParameter(f"{name} must be an integer from {low} to {high}", details={"parameter": name})
    return int(text)


# -- index and readiness --------------------------------------------------------------------------

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
def index() -> Response:
    """GET /__mock/: what the control API offers."""
    return ok(INDEX, "Control API")


@bp.get("/ready")
def ready() -> Response:
    """GET /__mock/ready: 200 once the dataset is loaded; no rule or preset can fail it (health checks)."""
    return ok({"ready": True}, "Sandbox ready")


# -- reset, tenants and their settings ------------------------------------------------------------


@bp.post("/reset")
def reset() -> Response:
    """POST /__mock/reset: restore the seeded dataset; clears rules and journal unless kept; keeps the clock
    unless ``keep_clock`` is false."""
    started = time.perf_counter()
    body = _body(("tenant", "seed", "keep_rules", "keep_journal", "keep_clock"))
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InvalidParameter("seed must be a non-negative integer", details={"field": "seed"})
    result = current_call().sandbox.reset(
        _target(body),
        seed,
        keep_rules=_boolean(body, "keep_rules"),
        keep_journal=_boolean(body, "keep_journal"),
        keep_clock=_boolean(body, "keep_clock", default=True),
    )
    return ok(
        {
            "tenants": result.tenants,
            "seed": result.seed,
            "rules_removed": result.rules_removed,
            "journal_cleared": result.journal_cleared,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        },
        "Sandbox reset",
    )


@bp.get("/tenants")
def tenants() -> Response:
    """GET /__mock/tenants: every tenant database and its dataset (those of the caller's space when scoped)."""
    call = current_call()
    rows = call.sandbox.control.tenants()
    space = call.identity.space
    if space is not None:
        rows = [row for row in rows if tenancy.space_of(row["tenant"]) == space]
    return ok(rows, "Tenants")


@bp.delete("/tenants/<space>/<name>")
def delete_tenant(space: str, name: str) -> Response:
    """DELETE /__mock/tenants/{space}/{name}: forget a tenant: its data, rules, clock and journal."""
    target = _target({"tenant": f"{space}/{name}"})
    assert target is not None
    if not current_call().sandbox.delete_tenant(target):
        raise ResourceNotFound(f"No tenant {target!r}")
    return ok({"removed": target}, "Tenant removed")


SETTINGS = ("strict_lifecycle",)


@bp.get("/settings")
def settings() -> Response:
    """GET /__mock/settings: a tenant's settings (and the server's defaults)."""
    tenant = _one_tenant()
    sandbox = current_call().sandbox
    return ok({"tenant": tenant, "strict_lifecycle": sandbox.strict_lifecycle(tenant)}, "Tenant settings")


@bp.post("/settings")
def change_settings() -> Response:
    """POST /__mock/settings {"strict_lifecycle": true|false|null}: a tenant's own settings (null: the server's)."""
    body = _body(("tenant", *SETTINGS))
    tenant = _one_tenant(body)
    sandbox = current_call().sandbox
    value = body.get("strict_lifecycle")
    if value is not None and not isinstance(value, bool):
        raise InvalidParameter("strict_lifecycle must be true, false or null", details={"field": "strict_lifecycle"})
    sandbox.db(tenant)
    sandbox.control.set_tenant_options(tenant, {} if value is None else {"strict_lifecycle": value})
    return ok({"tenant": tenant, "strict_lifecycle": sandbox.strict_lifecycle(tenant)}, "Tenant settings changed")


# -- clock ----------------------------------------------------------------------------------------


def _clock_view(scope: str) -> dict[str, Any]:
    sandbox = current_call().sandbox
    state = sandbox.clock(scope)
    now = state.now()
    view: dict[str, Any] = {
        "scope": scope,
        "mode": state.mode,
        "now": iso(now),
        "epoch": round(now, 3),
        "frozen_at": iso(state.frozen_at) if state.frozen_at is not None else None,
        "offset_seconds": state.offset,
    }
    if scope != GLOBAL:
        window = sandbox.data_window(scope)
        if window is not None:
            view["data_from"], view["data_to"] = window[0].isoformat(), window[1].isoformat()
            if not window[0] <= local_date(now) <= window[1]:
                view["warning"] = _outside_window(local_date(now), window)
    return view


def _outside_window(today: Any, window: tuple[Any, Any]) -> str:
    return (
        f"The clock's date {today} is outside this tenant's data ({window[0]} to {window[1]}): "
        'freeze with "rebase": true, or POST /__mock/reset, to rebuild the data around it'
    )


def _rebase(scope: str, body: Mapping[str, Any]) -> list[str]:
    """Rebuild the data around the new date when asked ("rebase": true); rules and journal are kept."""
    if not _boolean(body, "rebase"):
        return []
    sandbox = current_call().sandbox
    tenant = None if scope == GLOBAL else scope
    return sandbox.reset(tenant, keep_rules=True, keep_journal=True, keep_clock=True).tenants


def _set_clock(scope: str, state: ClockState) -> None:
    try:
        check_instant(state.now())
    except ValueError as exc:
        raise InvalidParameter(f"{exc}", details={"field": "at"}) from None
    current_call().sandbox.control.set_clock(scope, state)


@bp.get("/clock")
def clock() -> Response:
    """GET /__mock/clock: the sandbox time (of one tenant, or the server's)."""
    return ok(_clock_view(_target() or GLOBAL), "Sandbox clock")


@bp.post("/clock/freeze")
def freeze() -> Response:
    """POST /__mock/clock/freeze {"at": ISO-8601, "rebase": bool}: stop the clock (now, if "at" is absent)."""
    body = _body(("tenant", "at", "rebase"))
    scope = _target(body) or GLOBAL
    sandbox = current_call().sandbox
    if body.get("at") is None:
        at = sandbox.clock(scope).now()
    else:
        try:
            at = parse_instant(body["at"])
        except ValueError as exc:
            raise InvalidParameter(f"at: {exc}", details={"field": "at"}) from None
        if at is None:
            raise InvalidParameter("at: give an instant, or call /__mock/clock/real for real time")
    _set_clock(scope, ClockState(frozen_at=at))
    rebased = _rebase(scope, body)
    return ok({**_clock_view(scope), "rebased": rebased}, "Clock frozen")


@bp.post("/clock/advance")
def advance() -> Response:
    """POST /__mock/clock/advance {"by": "2h30m" | seconds | "P1D", "rebase": bool}: move the clock."""
    body = _body(("tenant", "by", "rebase"))
    if body.get("by") is None:
        raise InvalidParameter("by is required: seconds, '2h30m', '1d' or an ISO-8601 duration such as 'P1DT2H'")
    try:
        seconds = parse_duration(body["by"])
    except ValueError as exc:
        raise InvalidParameter(f"by: {exc}", details={"field": "by"}) from None
    scope = _target(body) or GLOBAL
    _set_clock(scope, current_call().sandbox.clock(scope).advanced(seconds))
    rebased = _rebase(scope, body)
    return ok({**_clock_view(scope), "rebased": rebased}, "Clock advanced")


@bp.post("/clock/real")
def real_time() -> Response:
    """POST /__mock/clock/real: back to real time (a tenant returns to the server's clock)."""
    body = _body(("tenant", "rebase"))
    scope = _target(body) or GLOBAL
    current_call().sandbox.control.drop_clock(scope)
    rebased = _rebase(scope, body)
    return ok({**_clock_view(scope), "rebased": rebased}, "Clock back to real time")


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


def _visible_rule(rule_id: int) -> dict[str, Any]:
    """A rule the caller may see: any rule server-wide, a tenant's own and the global ones when scoped."""
    tenant = _target()
    rule = current_call().sandbox.control.rule(rule_id) if rule_id <= MAX_RULE_ID else None
    if rule is None or (tenant is not None and rule["tenant"] not in (None, tenant)):
        raise ResourceNotFound(f"No rule {rule_id}")
    return rule


@bp.get("/rules/<int:rule_id>")
def get_rule(rule_id: int) -> Response:
    """GET /__mock/rules/{id}: one rule and its hit count."""
    return ok(_visible_rule(rule_id), "Rule")


@bp.delete("/rules/<int:rule_id>")
def remove_rule(rule_id: int) -> Response:
    """DELETE /__mock/rules/{id}: remove one rule (scoped: only the tenant's own rules)."""
    tenant = _target()
    if rule_id > MAX_RULE_ID or not current_call().sandbox.control.remove_rule(rule_id, tenant):
        raise ResourceNotFound(f"No rule {rule_id}" + (f" of tenant {tenant}" if tenant else ""))
    return ok({"removed": rule_id}, "Rule removed")


@bp.delete("/rules")
def clear_rules() -> Response:
    """DELETE /__mock/rules?preset=: remove every rule (of one tenant when scoped; only a preset's, if named)."""
    preset = request.args.get("preset") or None
    return ok({"removed": current_call().sandbox.control.clear_rules(_target(), preset)}, "Rules cleared")


# -- scenario presets -----------------------------------------------------------------------------


@bp.get("/scenarios")
def list_scenarios() -> Response:
    """GET /__mock/scenarios: the presets shipped in fixtures/scenarios/."""
    return ok(presets.available(), "Scenarios")


@bp.get("/scenarios/<name>")
def scenario(name: str) -> Response:
    """GET /__mock/scenarios/{name}: what a preset does: its rules and its data actions."""
    if "/" in name or name not in presets.available():
        raise ResourceNotFound(f"No scenario {name!r}; available: {', '.join(presets.available())}")
    found, specs, actions, description = presets.load(name)
    return ok({"scenario": found, "description": description, "rules": specs, "actions": actions}, "Scenario")


@bp.post("/scenarios/<name>")
def load_scenario(name: str) -> Response:
    """POST /__mock/scenarios/{name}: add a preset's rules and run its actions."""
    body = _body(("tenant",))
    tenant = _target(body)
    if "/" in name or name not in presets.available():
        raise ResourceNotFound(f"No scenario {name!r}; available: {', '.join(presets.available())}")
    return ok(presets.apply(current_call().sandbox, name, tenant), "Scenario loaded")


# -- journal --------------------------------------------------------------------------------------


def _journal_filters() -> dict[str, Any]:
    return {**journal_args.parse(request.args), "tenant": _target()}


@bp.get("/journal")
def journal() -> Response:
    """GET /__mock/journal?method=&path=&tenant=&status=&error_code=&limit=&before=: the newest matching API
    requests, oldest first (``before``: only entries older than that id, to page back)."""
    limit = _int_arg("limit", 100, 1, 1000)
    before = _int_arg("before", 0, 0, 2**62) or None
    entries = current_call().sandbox.journal.entries(**_journal_filters(), limit=limit, before=before)
    return ok(entries, "Journal")


@bp.get("/journal/stream")
def journal_stream() -> Response:
    """GET /__mock/journal/stream: Server-Sent Events of new journal entries (the same filters as the journal);
    ``Last-Event-ID`` (or ``last_event_id``) resumes after an entry, ``since`` starts that many seconds back."""
    filters = _journal_filters()
    since = _int_arg("since", 0, 0, 86400)
    resume = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    if resume is not None:
        if not (resume.isascii() and resume.isdigit() and len(resume) <= 18):
            raise InvalidParameter(
                "Last-Event-ID must be the id of a journal entry", details={"header": "Last-Event-ID"}
            )
        after = int(resume)
    else:
        after = int((time.time() - since) * 1_000_000)
    return stream.response(stream.follow(current_call().sandbox.journal, filters, after))


@bp.get("/journal/count")
def journal_count() -> Response:
    """GET /__mock/journal/count: how many journal entries match."""
    return ok({"count": current_call().sandbox.journal.count(**_journal_filters())}, "Journal count")


@bp.delete("/journal")
def clear_journal() -> Response:
    """DELETE /__mock/journal: forget the recorded requests (of one tenant when scoped)."""
    return ok({"removed": current_call().sandbox.journal.clear(_target())}, "Journal cleared")


# -- what the console shows -----------------------------------------------------------------------


@bp.get("/about")
def about() -> Response:
    """GET /__mock/about: the sandbox's identity: version, seed, environment, clock, accounts, presets."""
    call = current_call()
    sandbox = call.sandbox
    tenant = _one_tenant()
    config = sandbox.config
    return ok(
        {
            "name": "tap4book-mock",
            "version": __version__,
            "api_version": API_VERSION,
            "seed": sandbox.control.seed,
            "environment": config.environment,
            "debug_mode": config.debug_mode,
            "admin_token_required": bool(config.admin_token),
            "tenant": tenant,
            "clock": _clock_view(tenant),
            "accounts": sorted(sandbox.accounts.by_id),
            "default_account": sandbox.accounts.default.account_id,
            "presets": presets.available(),
        },
        "About this sandbox",
    )


@bp.get("/calendars")
def calendars() -> Response:
    """GET /__mock/calendars: a tenant's calendars (id, name, active, zone), read without being API traffic."""
    tenant = _one_tenant()
    rows, _ = queries.list_calendars(current_call().sandbox.db(tenant), 1, 100_000)
    keep = ("calendar_id", "calendar_name", "is_active", "timezone")
    return ok({"tenant": tenant, "calendars": [{k: row[k] for k in keep} for row in rows]}, "Calendars")


@bp.get("/week")
def week() -> Response:
    """GET /__mock/week?calendar_id=&start=YYYY-MM-DD&days=7: a calendar's slots with their appointments."""
    call = current_call()
    sandbox = call.sandbox
    tenant = _one_tenant()
    calendar_id = _int_arg("calendar_id", 1, 1, 10**9)
    days = _int_arg("days", 7, 1, 31)
    raw = request.args.get("start")
    try:
        start = date.fromisoformat(raw) if raw else sandbox.today(tenant)
    except ValueError:
        raise InvalidParameter("start must be a day, YYYY-MM-DD", details={"parameter": "start"}) from None
    end = start + timedelta(days=days - 1) if start < date(9000, 1, 1) else start
    try:
        grid = queries.week(sandbox.db(tenant), calendar_id, start, end, sandbox.now(tenant))
    except CalendarNotFound as exc:  # the control API's not-found is RESOURCE_NOT_FOUND
        raise ResourceNotFound(exc.message) from None
    return ok({"tenant": tenant, "today": sandbox.today(tenant).isoformat(), **grid}, "Calendar week")


# -- datasets -------------------------------------------------------------------------------------


@bp.get("/dataset")
def export_dataset() -> Response:
    """GET /__mock/dataset: a tenant's full state as JSON."""
    tenant = _one_tenant()
    return ok({"tenant": tenant, **transfer.export(current_call().sandbox.db(tenant))}, "Dataset exported")


@bp.put("/dataset")
def import_dataset() -> Response:
    """PUT /__mock/dataset?tenant=: replace a tenant's state with an export.

    The target comes from the query or the headers, never from the document: an export names the tenant
    it came from, and loading it elsewhere is the point.
    """
    body = _body()
    tenant = _one_tenant()
    counts = transfer.load(current_call().sandbox.db(tenant), body)
    return ok({"tenant": tenant, "loaded": counts}, "Dataset loaded")
