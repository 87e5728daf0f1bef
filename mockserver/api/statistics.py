"""GET /api/statistics/appointments, /calendars, /clients and /api/statistics/{calendarId}."""

from __future__ import annotations

from flask import Blueprint, Response, request

from mockserver.api import params
from mockserver.api.cache import cached
from mockserver.api.call import current_call, ok
from mockserver.errors import EndpointNotFound
from mockserver.store import queries, stats

bp = Blueprint("statistics", __name__)


@bp.get("/statistics/appointments")
@cached
def appointment_statistics() -> Response:
    """GET /api/statistics/appointments: totals and a daily breakdown over a period."""
    call = current_call()
    period = params.period(request.args, call.today())
    calendar_id = params.integer(request.args, "calendar_id", minimum=1)
    conn = call.db()
    if calendar_id is not None:
        queries.calendar_row(conn, calendar_id)
    data = {"period": period.name, "start_date": period.start.isoformat(), "end_date": period.end.isoformat()}
    if calendar_id is not None:
        data["calendar_id"] = calendar_id
    data.update(stats.appointments(conn, period.start, period.end, calendar_id))
    return ok(data, "Appointment statistics retrieved successfully")


@bp.get("/statistics/calendars")
@cached
def calendar_statistics() -> Response:
    """GET /api/statistics/calendars: every calendar's use."""
    return ok(stats.calendars(current_call().db()), "Calendar statistics retrieved successfully")


@bp.get("/statistics/clients")
@cached
def client_statistics() -> Response:
    """GET /api/statistics/clients: client activity and the top clients."""
    call = current_call()
    return ok(stats.clients(call.db(), call.today()), "Client statistics retrieved successfully")


@bp.get("/statistics/<calendar_id>")
@cached
def one_calendar_statistics(calendar_id: str) -> Response:
    """GET /api/statistics/{calendarId}: one calendar's statistics over a period."""
    call = current_call()
    value = params.identifier("calendarId", calendar_id)
    period = params.period(request.args, call.today())
    conn = call.db()
    queries.calendar_row(conn, value)
    data = {
        "period": period.name,
        "calendar_id": value,
        "start_date": period.start.isoformat(),
        "end_date": period.end.isoformat(),
    }
    data.update(stats.appointments(conn, period.start, period.end, value))
    return ok(data, "Calendar statistics retrieved successfully")


@bp.get("/statistics")
@cached
def statistics_index() -> Response:
    """GET /api/statistics is listed by GET /api/ but is not an endpoint itself: say where to go."""
    raise EndpointNotFound(
        "Use /api/statistics/appointments, /api/statistics/calendars, /api/statistics/clients"
        " or /api/statistics/{calendarId}"
    )
