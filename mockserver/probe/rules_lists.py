"""Rules of one list or detail by itself: pagination follows from ``total``, filters hold, ids are the ones asked."""

from __future__ import annotations

import math
from typing import Any

from mockserver.probe import sections
from mockserver.probe.rulebook import Facts, NotApplicable, Rule, day, get, integer, registrar

RULES: list[Rule] = []
rule = registrar(RULES)


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
