"""Rules any dataset must satisfy, checked on each side by itself: statistics add up, totals match lists.

A rule looks at one answer (and, for the rules across calls, at the same side's other answers) and says
``HOLDS``, a failure (``"fails: ..."``), or None when it does not apply (a field missing or of another
type: that is already a shape difference, not a second one). The comparison reports a rule whose outcome
differs between the sides. Rules name the section of docs/interpretation.md that states them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mockserver.probe import sections
from mockserver.probe.script import Observation, Side
from mockserver.probe.shapes import DATETIME_OFFSET, csv_shape, walk_strings

HOLDS = "holds"
PARIS = ZoneInfo("Europe/Paris")
#: Rates are rounded to 2 decimals; PHP and Python round halves differently, so allow half a cent.
ROUNDING = 0.0051
ALL_KINDS = ("info", "health", "list", "detail", "statistics", "error", "write")


class NotApplicable(Exception):
    """The rule has nothing to say about this answer."""


@dataclass(frozen=True)
class Facts:
    """What a rule may look at: one observation and the side it came from."""

    observation: Observation
    side: Side

    @property
    def body(self) -> Any:
        value = self.observation.json()
        if value is None:
            raise NotApplicable
        return value

    @property
    def status(self) -> int:
        assert self.observation.answer is not None
        return self.observation.answer.status

    @property
    def params(self) -> dict[str, str]:
        return self.observation.params

    def other(self, name: str) -> Any:
        """The JSON body of another call of the same side (NotApplicable when it has none)."""
        found = self.side.observations.get(name)
        value = found.json() if found is not None and found.answer is not None else None
        if value is None or found is None or found.answer is None or found.answer.status != 200:
            raise NotApplicable
        return value


Check = Callable[[Facts], str | None]


@dataclass(frozen=True)
class Rule:
    id: str
    where: str
    text: str
    section: str | None
    kinds: tuple[str, ...]
    calls: tuple[str, ...]
    fmt: str
    check: Check

    def applies(self, observation: Observation) -> bool:
        call = observation.call
        if observation.answer is None or call.fmt != self.fmt:
            return False
        return call.name in self.calls if self.calls else call.kind in self.kinds


RULES: list[Rule] = []


def rule(
    rule_id: str,
    where: str,
    text: str,
    section: str | None = None,
    *,
    kinds: tuple[str, ...] = (),
    calls: tuple[str, ...] = (),
    fmt: str = "json",
) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES.append(Rule(rule_id, where, text, section, kinds, calls, fmt, check))
        return check

    return register


def outcome(check: Rule, observation: Observation, side: Side) -> str | None:
    """HOLDS, "fails: ...", or None (not applicable)."""
    if not check.applies(observation):
        return None
    try:
        failure = check.check(Facts(observation, side))
    except NotApplicable:
        return None
    return HOLDS if failure is None else f"fails: {failure}"


# --- reading values ------------------------------------------------------------------------------


def get(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise NotApplicable
        value = value[part]
    return value


def integer(value: Any, path: str) -> int:
    found = get(value, path)
    if isinstance(found, bool) or not isinstance(found, int):
        raise NotApplicable
    return found


def number(value: Any, path: str) -> float:
    found = get(value, path)
    if isinstance(found, bool) or not isinstance(found, int | float):
        raise NotApplicable
    return float(found)


def records(value: Any, path: str) -> list[dict[str, Any]]:
    found = get(value, path)
    if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
        raise NotApplicable
    return found


def ints(items: Iterable[dict[str, Any]], key: str) -> list[int]:
    found = [item.get(key) for item in items]
    if any(isinstance(x, bool) or not isinstance(x, int) for x in found):
        raise NotApplicable
    return found  # type: ignore[return-value]


def day(text: Any) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise NotApplicable from None


def rounded(part: float, whole: float) -> float:
    return round(part / whole, 2) if whole else 0.0


def close(a: float, b: float) -> bool:
    return abs(a - b) <= ROUNDING


# --- every envelope ------------------------------------------------------------------------------


@rule("envelope.http_code", "http_code", "http_code is the HTTP status", kinds=ALL_KINDS)
def _http_code(facts: Facts) -> str | None:
    code = integer(facts.body, "http_code")
    return None if code == facts.status else f"http_code {code}, HTTP status {facts.status}"


@rule("envelope.success", "success", "success is true exactly when error_code is SUCCESS", kinds=ALL_KINDS)
def _success(facts: Facts) -> str | None:
    success, code = get(facts.body, "success"), get(facts.body, "error_code")
    if not isinstance(success, bool):
        raise NotApplicable
    return None if success == (code == "SUCCESS") else f"success {str(success).lower()} with error_code {code}"


@rule(
    "times.paris_offset",
    "(date-times)",
    "every date-time carries the Europe/Paris offset in force at its instant",
    sections.TIMES,
    kinds=ALL_KINDS,
)
def _paris_offset(facts: Facts) -> str | None:
    seen = False
    for where, text in walk_strings(facts.body):
        if not DATETIME_OFFSET.match(text):
            continue
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            continue
        seen = True
        paris = moment.astimezone(PARIS).strftime("%z")
        given = moment.strftime("%z")
        if given != paris:
            return f"{where} at {_offset(given)} where Europe/Paris is {_offset(paris)}"
    if not seen:
        raise NotApplicable
    return None


def _offset(compact: str) -> str:
    return f"{compact[:3]}:{compact[3:]}"


@rule(
    "health.timestamp",
    "data.timestamp",
    "data.timestamp is the Unix time of the envelope's timestamp (within 5 minutes)",
    kinds=("health",),
)
def _health_time(facts: Facts) -> str | None:
    epoch = integer(facts.body, "data.timestamp")
    try:
        stamp = datetime.fromisoformat(str(get(facts.body, "timestamp"))).timestamp()
    except ValueError:
        raise NotApplicable from None
    return None if abs(epoch - stamp) <= 300 else f"{epoch - stamp:+.0f} s from the envelope's timestamp"


# --- lists ---------------------------------------------------------------------------------------


def _page(facts: Facts) -> tuple[int, int, int, int, Any, list[Any]]:
    body = facts.body
    total, page = integer(body, "pagination.total"), integer(body, "pagination.page")
    per_page, total_pages = integer(body, "pagination.per_page"), integer(body, "pagination.total_pages")
    data = get(body, "data")
    if not isinstance(data, list) or per_page <= 0:
        raise NotApplicable
    return total, page, per_page, total_pages, get(body, "pagination.has_more"), data


@rule(
    "pagination.total_pages",
    "pagination.total_pages",
    "total_pages = ceil(total / per_page), 0 for an empty list",
    sections.LISTS,
    kinds=("list",),
)
def _total_pages(facts: Facts) -> str | None:
    total, _, per_page, total_pages, _, _ = _page(facts)
    expected = math.ceil(total / per_page)
    return None if total_pages == expected else f"{total_pages} pages for {total} records of {per_page}"


@rule("pagination.has_more", "pagination.has_more", "has_more = page < total_pages", sections.LISTS, kinds=("list",))
def _has_more(facts: Facts) -> str | None:
    _, page, _, total_pages, has_more, _ = _page(facts)
    if not isinstance(has_more, bool):
        raise NotApplicable
    expected = page < total_pages
    return None if has_more == expected else f"has_more {str(has_more).lower()} on page {page} of {total_pages}"


@rule(
    "pagination.page_length",
    "data",
    "a page holds min(per_page, the records left) records; a page past the end is empty",
    sections.LISTS,
    kinds=("list",),
)
def _page_length(facts: Facts) -> str | None:
    total, page, per_page, _, _, data = _page(facts)
    expected = max(0, min(per_page, total - (page - 1) * per_page))
    return None if len(data) == expected else f"{len(data)} records on page {page} ({total} of {per_page}: {expected})"


@rule(
    "pagination.echo",
    "pagination.page",
    "page and per_page are the ones asked for (default 1 and 50)",
    sections.LISTS,
    kinds=("list",),
)
def _echo(facts: Facts) -> str | None:
    _, page, per_page, _, _, _ = _page(facts)
    asked = (int(facts.params.get("page", "1")), int(facts.params.get("per_page", "50")))
    if (page, per_page) == asked:
        return None
    return f"page {page}, per_page {per_page}; asked page {asked[0]}, per_page {asked[1]}"


@rule(
    "meta.calendar_id",
    "meta",
    "meta is {} for a list, {calendar_id: N} for calendar N's list",
    sections.IDS,
    kinds=("list",),
)
def _meta(facts: Facts) -> str | None:
    meta = get(facts.body, "meta")
    if facts.observation.call.scoped:
        expected: dict[str, Any] = {"calendar_id": int(facts.side.context["calendar_id"])}
    else:
        expected = {}
    if meta == expected or (meta == [] and not expected):
        return None
    return f"meta {meta!r}"[:120]


def _listed(facts: Facts) -> list[dict[str, Any]]:
    data = get(facts.body, "data")
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise NotApplicable
    return [item for item in data if isinstance(item, dict)]


@rule(
    "filter.calendar_id",
    "data[].calendar_id",
    "every record belongs to the calendar asked for",
    sections.LISTS,
    kinds=("list",),
)
def _filter_calendar(facts: Facts) -> str | None:
    asked = facts.params.get("calendar_id")
    if asked is None and facts.observation.call.scoped:
        asked = facts.side.context["calendar_id"]
    items = [item for item in _listed(facts) if "calendar_id" in item]
    if asked is None or not items:
        raise NotApplicable
    wrong = [item["calendar_id"] for item in items if str(item["calendar_id"]) != asked]
    return f"calendar_id {wrong[0]} in a list of calendar {asked}" if wrong else None


@rule("filter.status", "data[].status", "every record has a status asked for", sections.LISTS, kinds=("list",))
def _filter_status(facts: Facts) -> str | None:
    asked = facts.params.get("status")
    items = _listed(facts)
    if not asked or not items:
        raise NotApplicable
    allowed = set(asked.split(","))
    wrong = [item.get("status") for item in items if item.get("status") not in allowed]
    return f"status {wrong[0]!r} in a list of {asked}" if wrong else None


@rule(
    "filter.dates",
    "data[].date",
    "every record's date is within date_from and date_to (slots: date_to defaults to date_from)",
    sections.LISTS,
    kinds=("list",),
)
def _filter_dates(facts: Facts) -> str | None:
    start = facts.params.get("date_from")
    items = _listed(facts)
    if not start or not items:
        raise NotApplicable
    default_end = start if facts.observation.path.startswith("/slots") else "9999-12-31"
    low, high = day(start), day(facts.params.get("date_to", default_end))
    for item in items:
        if "date" in item and not low <= day(item["date"]) <= high:
            return f"date {item['date']} outside {low}..{high}"
    return None


@rule(
    "slots.available",
    "data[].is_available",
    "an available slot has a place left (booked_appointments < capacity)",
    sections.STATISTICS,
    kinds=("list", "detail"),
)
def _available(facts: Facts) -> str | None:
    if not facts.observation.path.startswith("/slots"):
        raise NotApplicable
    checked = False
    for item in _listed(facts):
        booked, capacity, available = item.get("booked_appointments"), item.get("capacity"), item.get("is_available")
        if not (isinstance(booked, int) and isinstance(capacity, int) and isinstance(available, bool)):
            continue
        checked = True
        if available and booked >= capacity:
            return f"slot {item.get('slot_id')} available with {booked} of {capacity} places taken"
    if not checked:
        raise NotApplicable
    return None


_ID_FIELDS = {"calendars": "calendar_id", "slots": "slot_id", "appointments": "appointment_id", "clients": "client_id"}


@rule("detail.id", "data.<id>", "a detail is the record asked for", sections.IDS, kinds=("detail",))
def _detail_id(facts: Facts) -> str | None:
    parts = facts.observation.path.strip("/").split("/")
    if len(parts) != 2 or parts[0] not in _ID_FIELDS:
        raise NotApplicable
    name = _ID_FIELDS[parts[0]]
    found = get(facts.body, f"data.{name}")
    return None if str(found) == parts[1] else f"data.{name} {found!r} for id {parts[1]}"


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


# --- across calls (the same side) ----------------------------------------------------------------


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
    _, listed = _calendars(facts)
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


# --- CSV -----------------------------------------------------------------------------------------


def _csv(facts: Facts) -> Any:
    answer = facts.observation.answer
    if answer is None or "csv" not in answer.media_type:
        raise NotApplicable
    try:
        return csv_shape(answer.body)
    except ValueError:
        raise NotApplicable from None


@rule(
    "csv.rows",
    "(rows)",
    "a CSV page has the rows its X-Pagination-* headers promise",
    sections.CSV,
    kinds=("list",),
    fmt="csv",
)
def _csv_rows(facts: Facts) -> str | None:
    headers = facts.observation.answer.headers if facts.observation.answer else {}
    try:
        total, page, per_page = (int(headers[f"x-pagination-{name}"]) for name in ("total", "page", "per-page"))
    except (KeyError, ValueError):
        raise NotApplicable from None
    shape = _csv(facts)
    expected = max(0, min(per_page, total - (page - 1) * per_page))
    return None if len(shape.rows) == expected else f"{len(shape.rows)} rows, the headers say {expected}"


@rule("csv.width", "(rows)", "every row has as many cells as the header", sections.CSV, kinds=ALL_KINDS, fmt="csv")
def _csv_width(facts: Facts) -> str | None:
    shape = _csv(facts)
    odd = sorted(width for width in shape.widths if width != len(shape.header))
    return None if not odd else f"rows of {odd[0]} cells under a header of {len(shape.header)}"
