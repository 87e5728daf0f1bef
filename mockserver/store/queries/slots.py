"""Slot reads: a calendar's slots by day, one slot, and the week grid the console draws."""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from mockserver.errors import SlotNotFound
from mockserver.store.queries.calendars import calendar_row
from mockserver.store.queries.paging import count_rows, rows_skipped

SLOT_FIELDS = (
    "slot_id",
    "calendar_id",
    "date",
    "start_time",
    "end_time",
    "capacity",
    "is_available",
    "booked_appointments",
    "created_at",
)


_SLOT = (
    "SELECT s.slot_id, s.calendar_id, s.local_date, s.start_time, s.end_time, s.capacity,"
    " s.booked < s.capacity AND s.start_ts > ? AND c.is_active, s.booked, s.created_at, s.updated_at, c.name"
    " FROM slots s JOIN calendars c ON c.calendar_id = s.calendar_id"
)


def _slot(row: tuple[Any, ...], detail: bool) -> dict[str, Any]:
    record = dict(zip(SLOT_FIELDS, row[:9], strict=True))
    record["is_available"] = bool(record["is_available"])
    if detail:
        record.update(updated_at=row[9], calendar_name=row[10])
    return record


def list_slots(
    conn: sqlite3.Connection,
    calendar_id: int,
    date_from: date,
    date_to: date,
    now: float,
    page: int,
    per_page: int,
) -> tuple[list[dict[str, Any]], int]:
    calendar_row(conn, calendar_id)
    where = "WHERE s.calendar_id = ? AND s.local_date BETWEEN ? AND ?"
    params = [calendar_id, date_from.isoformat(), date_to.isoformat()]
    total = count_rows(conn, f"SELECT COUNT(*) FROM slots s {where}", params)
    rows = conn.execute(
        f"{_SLOT} {where} ORDER BY s.start_ts, s.slot_id LIMIT ? OFFSET ?",
        [int(now), *params, per_page, rows_skipped(page, per_page)],
    ).fetchall()
    return [_slot(row, detail=False) for row in rows], total


def get_slot(conn: sqlite3.Connection, slot_id: int, now: float) -> dict[str, Any]:
    row = conn.execute(f"{_SLOT} WHERE s.slot_id = ?", (int(now), slot_id)).fetchone()
    if row is None:
        raise SlotNotFound(f"Slot {slot_id} not found")
    return _slot(row, detail=True)


def week(conn: sqlite3.Connection, calendar_id: int, start: date, end: date, now: float) -> dict[str, Any]:
    """A calendar's slots between two days, each with its state and its appointments (the console's grid).

    A slot is ``past`` once it has started, else ``full``, ``partial`` (some places taken) or ``free``; an
    inactive calendar's future slots are ``closed``.
    """
    name, active, tz = calendar_row(conn, calendar_id)
    rows = conn.execute(
        "SELECT slot_id, local_date, start_time, end_time, capacity, booked, start_ts FROM slots"
        " WHERE calendar_id = ? AND local_date BETWEEN ? AND ? ORDER BY start_ts, slot_id",
        (calendar_id, start.isoformat(), end.isoformat()),
    ).fetchall()
    booked: dict[int, list[dict[str, Any]]] = {}
    for appointment_id, slot_id, status, first, last, email in conn.execute(
        "SELECT a.appointment_id, a.slot_id, a.status, cl.firstname, cl.lastname, cl.email FROM appointments a"
        " JOIN clients cl ON cl.client_id = a.client_id"
        " WHERE a.calendar_id = ? AND a.local_date BETWEEN ? AND ? ORDER BY a.appointment_id",
        (calendar_id, start.isoformat(), end.isoformat()),
    ):
        booked.setdefault(slot_id, []).append(
            {
                "appointment_id": appointment_id,
                "status": status,
                "client_name": f"{first} {last}",
                "client_email": email,
            }
        )
    slots = []
    for slot_id, day, start_time, end_time, capacity, taken, start_ts in rows:
        if start_ts <= now:
            state = "past"
        elif not active:
            state = "closed"
        else:
            state = "full" if taken >= capacity else "partial" if taken else "free"
        slots.append(
            {
                "slot_id": slot_id,
                "date": day,
                "start_time": start_time,
                "end_time": end_time,
                "capacity": capacity,
                "booked_appointments": taken,
                "state": state,
                "appointments": booked.get(slot_id, []),
            }
        )
    return {
        "calendar": {"calendar_id": calendar_id, "calendar_name": name, "is_active": active, "timezone": tz},
        "start": start.isoformat(),
        "end": end.isoformat(),
        "slots": slots,
    }
