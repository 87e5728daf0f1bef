"""Appointment reads: a filtered page of appointments, and one appointment."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Any

from mockserver.errors import ResourceNotFound
from mockserver.store.queries.calendars import calendar_row
from mockserver.store.queries.paging import one_page, where_clause

APPOINTMENT_FIELDS = (
    "appointment_id",
    "status",
    "created_at",
    "updated_at",
    "slot_id",
    "date",
    "start_time",
    "end_time",
    "calendar_id",
    "calendar_name",
    "client_id",
    "client_firstname",
    "client_lastname",
    "client_email",
    "client_phone",
)


_APPOINTMENT_COLUMNS = (
    "a.appointment_id, a.status, a.created_at, a.updated_at, a.slot_id, s.local_date, s.start_time,"
    " s.end_time, a.calendar_id, c.name, a.client_id, cl.firstname, cl.lastname, cl.email, cl.phone"
)
_APPOINTMENT_SOURCE = (
    "appointments a JOIN slots s ON s.slot_id = a.slot_id"
    " JOIN calendars c ON c.calendar_id = a.calendar_id JOIN clients cl ON cl.client_id = a.client_id"
)


@dataclass(frozen=True)
class AppointmentFilter:
    calendar_id: int | None = None
    statuses: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    client_id: int | None = None

    def sql(self) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.calendar_id is not None:
            clauses.append("a.calendar_id = ?")
            params.append(self.calendar_id)
        if self.statuses:
            clauses.append(f"a.status IN ({','.join('?' * len(self.statuses))})")
            params.extend(self.statuses)
        if self.date_from is not None:
            clauses.append("a.local_date >= ?")
            params.append(self.date_from.isoformat())
        if self.date_to is not None:
            clauses.append("a.local_date <= ?")
            params.append(self.date_to.isoformat())
        if self.client_id is not None:
            clauses.append("a.client_id = ?")
            params.append(self.client_id)
        return clauses, params


def list_appointments(
    conn: sqlite3.Connection, where: AppointmentFilter, page: int, per_page: int, *, as_json: bool = False
) -> tuple[list[dict[str, Any]] | str, int]:
    """A page of appointments (``as_json``: the JSON array text); a calendar filter must name a calendar
    (CALENDAR_NOT_FOUND otherwise)."""
    if where.calendar_id is not None:
        calendar_row(conn, where.calendar_id)
    clauses, params = where.sql()
    rows, total = one_page(
        conn,
        _APPOINTMENT_COLUMNS,
        _APPOINTMENT_SOURCE,
        where_clause(clauses),
        "a.start_ts, a.appointment_id",
        params,
        page,
        per_page,
        count_source="appointments a",
        json_fields=APPOINTMENT_FIELDS if as_json else None,
    )
    if as_json:
        return rows, total
    return [dict(zip(APPOINTMENT_FIELDS, row, strict=True)) for row in rows], total


def get_appointment(conn: sqlite3.Connection, appointment_id: int) -> dict[str, Any]:
    row = conn.execute(
        f"SELECT {_APPOINTMENT_COLUMNS} FROM {_APPOINTMENT_SOURCE} WHERE a.appointment_id = ?",
        (appointment_id,),
    ).fetchone()
    if row is None:
        raise ResourceNotFound(f"Appointment {appointment_id} not found")
    return dict(zip(APPOINTMENT_FIELDS, row, strict=True))
