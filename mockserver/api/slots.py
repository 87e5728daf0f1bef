"""GET /api/slots and GET /api/slots/{id} ("Endpoints Créneaux")."""

from __future__ import annotations

from flask import Blueprint, Response, request

from mockserver.api import params
from mockserver.api.cache import cached
from mockserver.call import current_call, ok
from mockserver.errors import MissingCalendarId
from mockserver.store import queries

bp = Blueprint("slots", __name__)


@bp.get("/slots")
@cached
def list_slots() -> Response:
    """GET /api/slots: the slots of one calendar between date_from and date_to (default: date_from)."""
    calendar_id = params.integer(request.args, "calendar_id", minimum=1)
    if calendar_id is None:
        raise MissingCalendarId("calendar_id parameter is required")
    date_from = params.day(request.args, "date_from", required=True)
    date_to = params.day(request.args, "date_to") or date_from
    params.date_range(date_from, date_to, ("date_from", "date_to"))
    page, per_page = params.paging(request.args)
    call = current_call()
    assert date_from is not None and date_to is not None
    rows, total = queries.list_slots(call.db(), calendar_id, date_from, date_to, call.now(), page, per_page)
    return ok(
        rows,
        "Available slots retrieved successfully",
        item="slot",
        columns=queries.SLOT_FIELDS,
        page=(total, page, per_page),
    )


@bp.get("/slots/<slot_id>")
@cached
def get_slot(slot_id: str) -> Response:
    """GET /api/slots/{id}: one slot with its calendar's name."""
    call = current_call()
    record = queries.get_slot(call.db(), params.identifier("id", slot_id), call.now())
    return ok(record, "Slot retrieved successfully", item="slot")
