"""Calendar reads, and the check every calendar-scoped read starts with (``calendar_row``)."""

from __future__ import annotations

import sqlite3
from typing import Any

from mockserver.errors import CalendarNotFound
from mockserver.store.queries.paging import one_page

CALENDAR_FIELDS = (
    "calendar_id",
    "calendar_name",
    "widgetID",
    "is_active",
    "created_at",
    "total_appointments",
    "total_slots",
    "timezone",
)


_CALENDAR_COLUMNS = (
    "calendar_id, name, widget_id, is_active, created_at, updated_at, total_appointments, total_slots, timezone"
)


def _calendar(row: tuple[Any, ...], detail: bool) -> dict[str, Any]:
    cid, name, widget, active, created, updated, appointments, slots, tz = row
    record = {
        "calendar_id": cid,
        "calendar_name": name,
        "widgetID": widget,
        "is_active": bool(active),
        "created_at": created,
    }
    if detail:
        record["updated_at"] = updated
    record.update(total_appointments=appointments, total_slots=slots, timezone=tz)
    return record


def list_calendars(conn: sqlite3.Connection, page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    rows, total = one_page(conn, _CALENDAR_COLUMNS, "calendars", "", "calendar_id", [], page, per_page)
    return [_calendar(row, detail=False) for row in rows], total


def get_calendar(conn: sqlite3.Connection, calendar_id: int) -> dict[str, Any]:
    row = conn.execute(f"SELECT {_CALENDAR_COLUMNS} FROM calendars WHERE calendar_id = ?", (calendar_id,)).fetchone()
    if row is None:
        raise CalendarNotFound(f"Calendar {calendar_id} not found")
    return _calendar(row, detail=True)


def calendar_row(conn: sqlite3.Connection, calendar_id: int) -> tuple[str, bool, str]:
    """(name, is_active, timezone) of a calendar, or CALENDAR_NOT_FOUND."""
    row = conn.execute(
        "SELECT name, is_active, timezone FROM calendars WHERE calendar_id = ?", (calendar_id,)
    ).fetchone()
    if row is None:
        raise CalendarNotFound(f"Calendar {calendar_id} not found")
    return row[0], bool(row[1]), row[2]
