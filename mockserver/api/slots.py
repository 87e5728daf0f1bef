"""GET /api/slots and GET /api/slots/{id} ("Endpoints Créneaux")."""

from __future__ import annotations

from mockserver.answer import Answer
from mockserver.api import params
from mockserver.api.routes import Routes
from mockserver.call import current_call, ok
from mockserver.errors import MissingCalendarId
from mockserver.store.queries import slots

route = Routes()


@route.get("/slots")
def list_slots() -> Answer:
    """GET /api/slots: the slots of one calendar between date_from and date_to (default: date_from)."""
    call = current_call()
    calendar_id = params.integer(call.args, "calendar_id", minimum=1)
    if calendar_id is None:
        raise MissingCalendarId("calendar_id parameter is required")
    date_from = params.day(call.args, "date_from", required=True)
    date_to = params.day(call.args, "date_to") or date_from
    params.date_range(date_from, date_to, ("date_from", "date_to"))
    page, per_page = params.paging(call.args)
    assert date_from is not None and date_to is not None
    rows, total = slots.list_slots(call.db(), calendar_id, date_from, date_to, call.now(), page, per_page)
    if not total:
        call.empty_range_hint(date_from, date_to, ("date_from", "date_to"))
    return ok(
        rows,
        "Available slots retrieved successfully",
        item="slot",
        columns=slots.SLOT_FIELDS,
        page=(total, page, per_page),
    )


@route.get("/slots/<slot_id>")
def get_slot(slot_id: str) -> Answer:
    """GET /api/slots/{id}: one slot with its calendar's name."""
    call = current_call()
    record = slots.get_slot(call.db(), params.identifier("id", slot_id), call.now())
    return ok(record, "Slot retrieved successfully", item="slot")
