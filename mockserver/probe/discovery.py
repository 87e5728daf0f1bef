"""The ids and dates each side learns for itself, so that the script never names one.

Each side learns its own ids from its lists (the first active calendar, the first slot, appointment and
client) and its own "today" from the envelope's timestamp; a call whose id a side could not learn is
skipped on that side, and the report says why (``TAUGHT_BY``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from mockserver.probe.calls import Learn

UNKNOWN_ID = "999999999"
#: The page size of the pagination edges (pages.first, pages.last, pages.past_end).
PAGE_SIZE = 7


def _an_id(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.isdigit():
        return value
    return None


def _records(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def learn_first(key: str, field_name: str) -> Learn:
    def learn(body: Any, context: dict[str, str]) -> None:
        for record in _records(body):
            found = _an_id(record.get(field_name))
            if found:
                context[key] = found
                return

    return learn


def learn_calendar(body: Any, context: dict[str, str]) -> None:
    records = _records(body)
    active = [r for r in records if r.get("is_active") is True] or records
    for record in active:
        found = _an_id(record.get("calendar_id"))
        if found:
            context["calendar_id"] = found
            return


def learn_slots(body: Any, context: dict[str, str]) -> None:
    learn_first("slot_id", "slot_id")(body, context)
    for record in _records(body):
        found = _an_id(record.get("slot_id"))
        if found and record.get("is_available") is True:
            context["free_slot_id"] = found
            context["free_slot_label"] = f"{record.get('date')} {record.get('start_time')}"
            return


def learn_pages(body: Any, context: dict[str, str]) -> None:
    pagination = body.get("pagination") if isinstance(body, dict) else None
    total = pagination.get("total") if isinstance(pagination, dict) else None
    if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        last = max(1, -(-total // PAGE_SIZE))
        context["last_page"] = str(last)
        context["past_page"] = str(last + 1)


def learn_booking(body: Any, context: dict[str, str]) -> None:
    data = body.get("data") if isinstance(body, dict) else None
    appointment = data.get("appointment") if isinstance(data, dict) else None
    found = _an_id(appointment.get("appointment_id")) if isinstance(appointment, dict) else None
    if found:
        context["booked_id"] = found


#: Which call teaches which context value, for the reason a dependent call is skipped.
TAUGHT_BY = {
    "calendar_id": "calendars.list",
    "slot_id": "slots.list",
    "free_slot_id": "slots.list (a slot with is_available true)",
    "appointment_id": "appointments.list",
    "client_id": "clients.list",
    "last_page": "pages.first",
    "past_page": "pages.first",
    "booked_id": "writes.book",
}


def dates(today: date) -> dict[str, str]:
    """The context values a side derives from its own date."""
    return {
        "today": today.isoformat(),
        "week_end": (today + timedelta(days=6)).isoformat(),
        "fortnight_end": (today + timedelta(days=13)).isoformat(),
        "month_start": (today - timedelta(days=29)).isoformat(),
        "too_far": (today - timedelta(days=400)).isoformat(),
        "bad_day": f"{today.year}-02-30",
        "unknown": UNKNOWN_ID,
    }
