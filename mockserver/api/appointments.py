"""GET /api/appointments, /api/appointments/{id} and /api/appointments/{calendarId} ("Endpoints Rendez-vous").

The last two share one URL: see ``params.scope`` and docs/interpretation.md#ids.
"""

from __future__ import annotations

from typing import Any

from mockserver import render
from mockserver.answer import Answer
from mockserver.api import params
from mockserver.api.routes import Routes
from mockserver.call import current_call, ok
from mockserver.store.queries import appointments

route = Routes()


def _filter(calendar_id: int | None) -> appointments.AppointmentFilter:
    args = current_call().args
    date_from = params.day(args, "date_from")
    date_to = params.day(args, "date_to")
    params.date_range(date_from, date_to, ("date_from", "date_to"))
    return appointments.AppointmentFilter(
        calendar_id=calendar_id,
        statuses=params.statuses(args),
        date_from=date_from,
        date_to=date_to,
        client_id=params.integer(args, "client_id", minimum=1),
    )


def _listing(calendar_id: int | None, message: str, meta: dict[str, Any] | None = None) -> Answer:
    """A page of appointments, of one calendar when ``calendar_id`` is given (which must exist)."""
    where = _filter(calendar_id)
    page, per_page = params.paging(current_call().args)
    call = current_call()
    as_json = call.fmt == "json"
    rows, total = appointments.list_appointments(call.db(), where, page, per_page, as_json=as_json)
    if not total and (where.date_from or where.date_to):
        call.empty_range_hint(where.date_from, where.date_to, ("date_from", "date_to"))
    return ok(
        render.assembled_json(rows) if isinstance(rows, str) else rows,
        message,
        item="appointment",
        columns=appointments.APPOINTMENT_FIELDS,
        page=(total, page, per_page),
        meta=meta,
    )


@route.get("/appointments")
def list_appointments() -> Answer:
    """GET /api/appointments: appointments with filters and pagination, in chronological order."""
    calendar_id = params.integer(current_call().args, "calendar_id", minimum=1)
    return _listing(calendar_id, "Appointments retrieved successfully")


@route.get("/appointments/<number>")
def appointment_or_calendar(number: str) -> Answer:
    """GET /api/appointments/{id} (detail) or /api/appointments/{calendarId} (calendar's appointments)."""
    value = params.identifier("id", number)
    if params.scope(current_call().args, value) == "detail":
        record = appointments.get_appointment(current_call().db(), value)
        return ok(record, "Appointment retrieved successfully", item="appointment")
    return _listing(value, "Calendar appointments retrieved successfully", meta={"calendar_id": value})
