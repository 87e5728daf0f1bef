"""What the console shows of the booking domain: GET /__mock/calendars and GET /__mock/week.

Read through the control API so that looking does not count as API traffic (no journal entry, no rule).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint

from mockserver import args
from mockserver.answer import Answer
from mockserver.call import current_call, ok
from mockserver.control.views import scope
from mockserver.errors import CalendarNotFound, ResourceNotFound

bp = Blueprint("domain", __name__)


@bp.get("/calendars")
def calendars() -> Answer:
    """GET /__mock/calendars: a tenant's calendars (id, name, active, zone), read without being API traffic."""
    tenant = scope.one_tenant()
    return ok({"tenant": tenant, "calendars": scope.sandbox().calendars(tenant)}, "Calendars")


@bp.get("/week")
def week() -> Answer:
    """GET /__mock/week?calendar_id=&start=YYYY-MM-DD&days=7: a calendar's slots with their appointments."""
    runtime = scope.sandbox()
    tenant = scope.one_tenant()
    calendar_id = scope.query_int("calendar_id", 1, 1, 10**9)
    days = scope.query_int("days", 7, 1, 31)
    raw = current_call().args.get("start")
    start = args.day("start", raw) if raw else runtime.today(tenant)
    end = start + timedelta(days=days - 1) if start < date(9000, 1, 1) else start
    try:
        grid = runtime.week(tenant, calendar_id, start, end)
    except CalendarNotFound as exc:  # the control API's not-found is RESOURCE_NOT_FOUND
        raise ResourceNotFound(exc.message) from None
    return ok({"tenant": tenant, "today": runtime.today(tenant).isoformat(), **grid}, "Calendar week")
