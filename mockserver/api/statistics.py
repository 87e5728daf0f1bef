"""GET /api/statistics/appointments, /calendars, /clients and /api/statistics/{calendarId}."""

from __future__ import annotations

from mockserver.answer import Answer
from mockserver.api import params
from mockserver.api.routes import Routes
from mockserver.call import current_call, ok
from mockserver.errors import EndpointNotFound
from mockserver.store import stats

route = Routes()


@route.get("/statistics/appointments")
def appointment_statistics() -> Answer:
    """GET /api/statistics/appointments: totals and a daily breakdown over a period."""
    calendar_id = params.integer(current_call().args, "calendar_id", minimum=1)
    data = _period_statistics(calendar_id, calendar_first=False)
    return ok(data, "Appointment statistics retrieved successfully")


def _period_statistics(calendar_id: int | None, *, calendar_first: bool) -> dict[str, object]:
    """The statistics of a period, in the documented key order: /{calendarId} names the calendar first."""
    call = current_call()
    period = params.period(call.args, call.today())
    data: dict[str, object] = {"period": period.name}
    if calendar_first:
        data["calendar_id"] = calendar_id
    data.update(start_date=period.start.isoformat(), end_date=period.end.isoformat())
    if calendar_id is not None and not calendar_first:
        data["calendar_id"] = calendar_id
    data.update(stats.appointments(call.db(), period.start, period.end, calendar_id))
    return data


@route.get("/statistics/calendars")
def calendar_statistics() -> Answer:
    """GET /api/statistics/calendars: every calendar's use."""
    return ok(stats.calendars(current_call().db()), "Calendar statistics retrieved successfully")


@route.get("/statistics/clients")
def client_statistics() -> Answer:
    """GET /api/statistics/clients: client activity and the top clients."""
    call = current_call()
    return ok(stats.clients(call.db(), call.today()), "Client statistics retrieved successfully")


@route.get("/statistics/<calendar_id>")
def one_calendar_statistics(calendar_id: str) -> Answer:
    """GET /api/statistics/{calendarId}: one calendar's statistics over a period."""
    value = params.identifier("calendarId", calendar_id)
    return ok(_period_statistics(value, calendar_first=True), "Calendar statistics retrieved successfully")


@route.get("/statistics", cached=False)
def statistics_index() -> Answer:
    """GET /api/statistics is listed by GET /api/ but is not an endpoint itself: say where to go."""
    raise EndpointNotFound(
        "Use /api/statistics/appointments, /api/statistics/calendars, /api/statistics/clients"
        " or /api/statistics/{calendarId}"
    )
