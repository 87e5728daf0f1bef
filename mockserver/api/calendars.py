"""GET /api/calendars and GET /api/calendars/{id} ("Endpoints Calendriers")."""

from __future__ import annotations

from flask import Blueprint, Response, request

from mockserver.api import params
from mockserver.api.cache import cached
from mockserver.call import current_call, ok
from mockserver.store import queries

bp = Blueprint("calendars", __name__)


@bp.get("/calendars")
@cached
def list_calendars() -> Response:
    """GET /api/calendars: every calendar with its totals."""
    page, per_page = params.paging(request.args)
    rows, total = queries.list_calendars(current_call().db(), page, per_page)
    return ok(
        rows,
        "Calendars retrieved successfully",
        item="calendar",
        columns=queries.CALENDAR_FIELDS,
        page=(total, page, per_page),
    )


@bp.get("/calendars/<calendar_id>")
@cached
def get_calendar(calendar_id: str) -> Response:
    """GET /api/calendars/{id}: one calendar."""
    record = queries.get_calendar(current_call().db(), params.identifier("id", calendar_id))
    return ok(record, "Calendar retrieved successfully", item="calendar")
