"""GET /api/calendars and GET /api/calendars/{id} ("Endpoints Calendriers")."""

from __future__ import annotations

from mockserver.answer import Answer
from mockserver.api import params
from mockserver.api.routes import Routes
from mockserver.call import current_call, ok
from mockserver.store.queries import calendars

route = Routes()


@route.get("/calendars")
def list_calendars() -> Answer:
    """GET /api/calendars: every calendar with its totals."""
    page, per_page = params.paging(current_call().args)
    rows, total = calendars.list_calendars(current_call().db(), page, per_page)
    return ok(
        rows,
        "Calendars retrieved successfully",
        item="calendar",
        columns=calendars.CALENDAR_FIELDS,
        page=(total, page, per_page),
    )


@route.get("/calendars/<calendar_id>")
def get_calendar(calendar_id: str) -> Answer:
    """GET /api/calendars/{id}: one calendar."""
    record = calendars.get_calendar(current_call().db(), params.identifier("id", calendar_id))
    return ok(record, "Calendar retrieved successfully", item="calendar")
