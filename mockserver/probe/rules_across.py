"""Rules across calls of the same side: totals agree between lists, details and statistics."""

from __future__ import annotations

from typing import Any

from mockserver.probe import sections
from mockserver.probe.rulebook import Facts, NotApplicable, Rule, get, integer, ints, records, registrar

RULES: list[Rule] = []
rule = registrar(RULES)


def _by_id(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {str(item.get(key)): item for item in items}


@rule(
    "across.calendars_total",
    "data.total_calendars",
    "total_calendars is the calendar list's pagination.total",
    sections.STATISTICS,
    calls=("statistics.calendars",),
)
def _calendars_total(facts: Facts) -> str | None:
    stated = integer(facts.body, "data.total_calendars")
    listed = integer(facts.other("calendars.list"), "pagination.total")
    return None if stated == listed else f"{stated}, /calendars says {listed}"


@rule(
    "across.calendar_counts",
    "data.calendars[]",
    "each calendar's appointments_count and slots_count are its total_appointments and total_slots",
    sections.STATISTICS,
    calls=("statistics.calendars",),
)
def _calendar_counts(facts: Facts) -> str | None:
    listed = records(facts.body, "data.calendars")
    calendars = _by_id(records(facts.other("calendars.list"), "data"), "calendar_id")
    for item in listed:
        known = calendars.get(str(item.get("calendar_id")))
        if known is None:
            continue
        pairs = (("appointments_count", "total_appointments"), ("slots_count", "total_slots"))
        for mine, theirs in pairs:
            if item.get(mine) != known.get(theirs):
                return f"calendar {item.get('calendar_id')}: {mine} {item.get(mine)}, {theirs} {known.get(theirs)}"
    return None


@rule(
    "across.clients_total",
    "data.total_clients",
    "total_clients is the client list's pagination.total",
    sections.STATISTICS,
    calls=("statistics.clients",),
)
def _clients_total(facts: Facts) -> str | None:
    stated = integer(facts.body, "data.total_clients")
    listed = integer(facts.other("clients.list"), "pagination.total")
    return None if stated == listed else f"{stated}, /clients says {listed}"


@rule(
    "across.calendar_detail",
    "data.total_appointments",
    "a calendar's detail shows the same totals as its entry in the list",
    calls=("calendars.detail",),
)
def _calendar_detail(facts: Facts) -> str | None:
    data = get(facts.body, "data")
    known = _by_id(records(facts.other("calendars.list"), "data"), "calendar_id").get(str(get(data, "calendar_id")))
    if known is None:
        raise NotApplicable
    for key in ("total_appointments", "total_slots"):
        if data.get(key) != known.get(key):
            return f"{key} {data.get(key)}, the list says {known.get(key)}"
    return None


@rule(
    "across.calendar_appointments",
    "pagination.total",
    "a calendar's appointment list has its total_appointments records (every status)",
    sections.IDS,
    calls=("appointments.calendar",),
)
def _calendar_appointments(facts: Facts) -> str | None:
    listed = integer(facts.body, "pagination.total")
    stated = integer(facts.other("calendars.detail"), "data.total_appointments")
    return None if listed == stated else f"{listed} listed, total_appointments {stated}"


@rule(
    "across.appointments_total",
    "pagination.total",
    "all appointments = the sum of the calendars' total_appointments",
    sections.STATISTICS,
    calls=("appointments.list",),
)
def _appointments_total(facts: Facts) -> str | None:
    calendars = facts.other("calendars.list")
    if get(calendars, "pagination.has_more") is not False:
        raise NotApplicable
    expected = sum(ints(records(calendars, "data"), "total_appointments"))
    listed = integer(facts.body, "pagination.total")
    return None if listed == expected else f"{listed}, the calendars add up to {expected}"


@rule(
    "across.client_detail",
    "data.appointments_count",
    "a client's detail shows the same appointments_count as the list",
    calls=("clients.detail",),
)
def _client_detail(facts: Facts) -> str | None:
    data = get(facts.body, "data")
    known = _by_id(records(facts.other("clients.list"), "data"), "client_id").get(str(get(data, "client_id")))
    if known is None:
        raise NotApplicable
    stated, listed = data.get("appointments_count"), known.get("appointments_count")
    return None if stated == listed else f"{stated}, the list says {listed}"


@rule(
    "across.statistics_routes",
    "data.summary",
    "/statistics/{calendarId} and /statistics/appointments?calendar_id= give the same figures",
    sections.STATISTICS,
    calls=("statistics.appointments.calendar",),
)
def _statistics_routes(facts: Facts) -> str | None:
    mine = get(facts.body, "data")
    other = get(facts.other("statistics.calendar.last7days"), "data")
    for key in ("summary", "daily_breakdown", "start_date", "end_date"):
        if get(mine, key) != get(other, key):
            return f"data.{key} differs"
    return None
