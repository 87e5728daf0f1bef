"""The sandbox clock: GET /__mock/clock, POST /__mock/clock/freeze, /advance and /real (docs/control-api.md#clock)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Blueprint

from mockserver.answer import Answer
from mockserver.call import ok
from mockserver.clock import ClockState, check_instant, iso, local_date, parse_duration, parse_instant
from mockserver.control.views import scope
from mockserver.errors import InvalidParameter
from mockserver.sandbox import GLOBAL

bp = Blueprint("clock", __name__)


def view(tenant_or_global: str) -> dict[str, Any]:
    """A clock as the control API shows it, with the tenant's data window and a warning when outside it."""
    runtime = scope.sandbox()
    state = runtime.clock(tenant_or_global)
    now = state.now()
    shown: dict[str, Any] = {
        "scope": tenant_or_global,
        "mode": state.mode,
        "now": iso(now),
        "epoch": round(now, 3),
        "frozen_at": iso(state.frozen_at) if state.frozen_at is not None else None,
        "offset_seconds": state.offset,
    }
    if tenant_or_global != GLOBAL:
        window = runtime.data_window(tenant_or_global)
        if window is not None:
            shown["data_from"], shown["data_to"] = window[0].isoformat(), window[1].isoformat()
            if not window[0] <= local_date(now) <= window[1]:
                shown["warning"] = outside_window(local_date(now), window)
    return shown


def outside_window(today: date, window: tuple[date, date]) -> str:
    return (
        f"The clock's date {today} is outside this tenant's data ({window[0]} to {window[1]}): "
        'freeze with "rebase": true, or POST /__mock/reset, to rebuild the data around it'
    )


def _rebase(target: str, fields: Mapping[str, Any]) -> list[str]:
    """Rebuild the data around the new date when asked ("rebase": true); rules and journal are kept."""
    if not scope.flag(fields, "rebase"):
        return []
    tenant = None if target == GLOBAL else target
    return scope.sandbox().reset(tenant, keep_rules=True, keep_journal=True, keep_clock=True).tenants


def _set(target: str, state: ClockState) -> None:
    try:
        check_instant(state.now())
    except ValueError as exc:
        raise InvalidParameter(f"{exc}", details={"field": "at"}) from None
    scope.sandbox().set_clock(target, state)


@bp.get("/clock")
def clock() -> Answer:
    """GET /__mock/clock: the sandbox time (of one tenant, or the server's)."""
    return ok(view(scope.target() or GLOBAL), "Sandbox clock")


@bp.post("/clock/freeze")
def freeze() -> Answer:
    """POST /__mock/clock/freeze {"at": ISO-8601, "rebase": bool}: stop the clock (now, if "at" is absent)."""
    fields = scope.body(("tenant", "at", "rebase"))
    target = scope.target(fields) or GLOBAL
    if fields.get("at") is None:
        at = scope.sandbox().clock(target).now()
    else:
        try:
            at = parse_instant(fields["at"])
        except ValueError as exc:
            raise InvalidParameter(f"at: {exc}", details={"field": "at"}) from None
        if at is None:
            raise InvalidParameter("at: give an instant, or call /__mock/clock/real for real time")
    _set(target, ClockState(frozen_at=at))
    rebased = _rebase(target, fields)
    return ok({**view(target), "rebased": rebased}, "Clock frozen")


@bp.post("/clock/advance")
def advance() -> Answer:
    """POST /__mock/clock/advance {"by": "2h30m" | seconds | "P1D", "rebase": bool}: move the clock."""
    fields = scope.body(("tenant", "by", "rebase"))
    if fields.get("by") is None:
        raise InvalidParameter("by is required: seconds, '2h30m', '1d' or an ISO-8601 duration such as 'P1DT2H'")
    try:
        seconds = parse_duration(fields["by"])
    except ValueError as exc:
        raise InvalidParameter(f"by: {exc}", details={"field": "by"}) from None
    target = scope.target(fields) or GLOBAL
    _set(target, scope.sandbox().clock(target).advanced(seconds))
    rebased = _rebase(target, fields)
    return ok({**view(target), "rebased": rebased}, "Clock advanced")


@bp.post("/clock/real")
def real_time() -> Answer:
    """POST /__mock/clock/real: back to real time (a tenant returns to the server's clock)."""
    fields = scope.body(("tenant", "rebase"))
    target = scope.target(fields) or GLOBAL
    scope.sandbox().real_clock(target)
    rebased = _rebase(target, fields)
    return ok({**view(target), "rebased": rebased}, "Clock back to real time")
