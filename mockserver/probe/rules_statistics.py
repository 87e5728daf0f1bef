"""Rules of one statistics answer by itself: an appointment summary, its daily breakdown and its period agree;
the calendar and client statistics add up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mockserver.probe import sections
from mockserver.probe.rulebook import (
    Facts,
    NotApplicable,
    Rule,
    close,
    day,
    get,
    integer,
    ints,
    number,
    records,
    registrar,
    rounded,
)

RULES: list[Rule] = []
rule = registrar(RULES)


# --- appointment statistics ----------------------------------------------------------------------


def _summary(facts: Facts) -> dict[str, int]:
    body = facts.body
    names = ("total", "confirmed", "pending", "cancelled", "completed")
    return {name: integer(body, f"data.summary.{name}_appointments") for name in names}


def _days(facts: Facts) -> list[dict[str, Any]]:
    return records(facts.body, "data.daily_breakdown")


@rule(
    "statistics.status_sum",
    "data.summary",
    "confirmed + pending + cancelled = total (completed counts as confirmed)",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _status_sum(facts: Facts) -> str | None:
    s = _summary(facts)
    parts = s["confirmed"] + s["pending"] + s["cancelled"]
    if parts == s["total"]:
        return None
    return f"{s['confirmed']} + {s['pending']} + {s['cancelled']} = {parts}, total {s['total']}"


@rule(
    "statistics.completed",
    "data.summary.completed_appointments",
    "completed <= confirmed (a completed appointment is a confirmed one that took place)",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _completed(facts: Facts) -> str | None:
    s = _summary(facts)
    return None if s["completed"] <= s["confirmed"] else f"{s['completed']} completed, {s['confirmed']} confirmed"


@rule(
    "statistics.success_rate",
    "data.summary.success_rate",
    "success_rate = round((total - cancelled) / total, 2), 0 without appointments",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _success_rate(facts: Facts) -> str | None:
    s = _summary(facts)
    rate = number(facts.body, "data.summary.success_rate")
    expected = rounded(s["total"] - s["cancelled"], s["total"])
    return (
        None if close(rate, expected) else f"{rate:g} for {s['total']} with {s['cancelled']} cancelled ({expected:g})"
    )


@rule(
    "statistics.daily_sums",
    "data.daily_breakdown",
    "the days add up to the summary: appointments, confirmed, cancelled",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _daily_sums(facts: Facts) -> str | None:
    s, days = _summary(facts), _days(facts)
    for day_key, summary_key in (
        ("appointments_count", "total"),
        ("confirmed_count", "confirmed"),
        ("cancelled_count", "cancelled"),
    ):
        total = sum(ints(days, day_key))
        if total != s[summary_key]:
            return f"{day_key} adds up to {total}, summary {summary_key} {s[summary_key]}"
    return None


@rule(
    "statistics.days_with_appointments",
    "data.summary.days_with_appointments",
    "days_with_appointments counts the days of the breakdown that have appointments",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _days_with(facts: Facts) -> str | None:
    stated = integer(facts.body, "data.summary.days_with_appointments")
    counted = sum(1 for count in ints(_days(facts), "appointments_count") if count > 0)
    return None if stated == counted else f"{stated}, the breakdown has {counted}"


@rule(
    "statistics.every_day",
    "data.daily_breakdown[].date",
    "one entry per day from start_date to end_date, in order, days without appointments included",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _every_day(facts: Facts) -> str | None:
    start, end = day(get(facts.body, "data.start_date")), day(get(facts.body, "data.end_date"))
    listed = [day(item.get("date")) for item in _days(facts)]
    expected = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    if listed == expected:
        return None
    return f"{len(listed)} entries for the {len(expected)} days {start}..{end}, or not in order"


@rule(
    "statistics.period",
    "data.start_date",
    "the period's days: today; lastNdays = the N days ending today, today included; specific_day; custom",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _period(facts: Facts) -> str | None:
    period, today, params = facts.params.get("period"), facts.side.today, facts.params
    if period == "today":
        expected = (today, today)
    elif period in ("last7days", "last15days", "last30days"):
        expected = (today - timedelta(days=int(period[4:-4]) - 1), today)
    elif period == "specific_day" and "date" in params:
        expected = (day(params["date"]), day(params["date"]))
    elif period == "custom" and "start_date" in params and "end_date" in params:
        expected = (day(params["start_date"]), day(params["end_date"]))
    else:
        raise NotApplicable
    given = (day(get(facts.body, "data.start_date")), day(get(facts.body, "data.end_date")))
    return None if given == expected else f"{given[0]}..{given[1]} for {period} on {today}"


@rule(
    "statistics.calendar_id",
    "data.calendar_id",
    "a calendar's statistics name that calendar",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _statistics_calendar(facts: Facts) -> str | None:
    path = facts.observation.path
    asked = facts.params.get("calendar_id")
    if asked is None and path.startswith("/statistics/") and path.rsplit("/", 1)[-1].isdigit():
        asked = path.rsplit("/", 1)[-1]
    if asked is None:
        raise NotApplicable
    found = get(facts.body, "data.calendar_id")
    return None if str(found) == asked else f"data.calendar_id {found!r} for calendar {asked}"


# --- calendar and client statistics --------------------------------------------------------------


def _calendars(facts: Facts) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = get(facts.body, "data")
    return data, records(facts.body, "data.calendars")


@rule(
    "calendars.active_inactive",
    "data.total_calendars",
    "active_calendars + inactive_calendars = total_calendars",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _active_sum(facts: Facts) -> str | None:
    body = facts.body
    total, active = integer(body, "data.total_calendars"), integer(body, "data.active_calendars")
    inactive = integer(body, "data.inactive_calendars")
    return None if active + inactive == total else f"{active} + {inactive} = {active + inactive}, total {total}"


@rule(
    "calendars.listed",
    "data.calendars",
    "calendars has one entry per calendar (total_calendars)",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _listed_calendars(facts: Facts) -> str | None:
    total = integer(facts.body, "data.total_calendars")
    _, listed = _calendars(facts)
    return None if len(listed) == total else f"{len(listed)} entries, total_calendars {total}"


@rule(
    "calendars.with_appointments",
    "data.calendars_with_appointments",
    "calendars_with_appointments counts the calendars whose appointments_count > 0",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _with_appointments(facts: Facts) -> str | None:
    stated = integer(facts.body, "data.calendars_with_appointments")
    _, listed = _calendars(facts)
    counted = sum(1 for count in ints(listed, "appointments_count") if count > 0)
    return None if stated == counted else f"{stated}, the list has {counted}"


@rule(
    "calendars.utilization_rate",
    "data.calendars[].utilization_rate",
    "utilization_rate = round(appointments_count / slots_count, 2)",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _utilization(facts: Facts) -> str | None:
    _, listed = _calendars(facts)
    for item in listed:
        rate, count, slots = item.get("utilization_rate"), item.get("appointments_count"), item.get("slots_count")
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in (rate, count, slots)):
            raise NotApplicable
        expected = rounded(count, slots)  # type: ignore[arg-type]
        if not close(rate, expected):  # type: ignore[arg-type]
            return f"calendar {item.get('calendar_id')}: {rate} for {count} / {slots} ({expected:g})"
    return None


@rule(
    "calendars.average",
    "data.average_appointments_per_calendar",
    "average_appointments_per_calendar = round(sum of appointments_count / total_calendars, 2)",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _average(facts: Facts) -> str | None:
    stated = number(facts.body, "data.average_appointments_per_calendar")
    total = integer(facts.body, "data.total_calendars")
    _, listed = _calendars(facts)
    expected = rounded(sum(ints(listed, "appointments_count")), total)
    return None if close(stated, expected) else f"{stated:g}, expected {expected:g}"


@rule(
    "clients.bounds",
    "data",
    "repeat_clients <= clients_with_appointments <= total_clients; active and new clients <= total_clients",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _client_bounds(facts: Facts) -> str | None:
    body = facts.body
    total, with_appointments = integer(body, "data.total_clients"), integer(body, "data.clients_with_appointments")
    repeat, active = integer(body, "data.repeat_clients"), integer(body, "data.active_clients")
    new = integer(body, "data.new_clients_last_30_days")
    if repeat <= with_appointments <= total and active <= total and new <= total:
        return None
    return f"total {total}, with appointments {with_appointments}, repeat {repeat}, active {active}, new {new}"


@rule(
    "clients.top",
    "data.top_clients",
    "at most 10 top clients, most appointments first",
    sections.STATISTICS,
    kinds=("statistics",),
)
def _top_clients(facts: Facts) -> str | None:
    top = records(facts.body, "data.top_clients")
    counts = ints(top, "appointments_count")
    if len(top) > 10:
        return f"{len(top)} top clients"
    return None if counts == sorted(counts, reverse=True) else f"appointments_count in the order {counts}"
