"""Read queries: each returns records as dicts in the documented field order, or raises the domain error.

Lists are paginated in the database (LIMIT/OFFSET on an indexed order) and counted with the same filter.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Any

from mockserver.errors import CalendarNotFound, ResourceNotFound, SlotNotFound
from mockserver.store.schema import fold, phone_key, search_indexed
from mockserver.store.tenants import TenantConnection

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
CLIENT_FIELDS = (
    "client_id",
    "client_firstname",
    "client_lastname",
    "client_email",
    "client_phone",
    "created_at",
    "appointments_count",
    "last_appointment",
)


def _like(text: str) -> tuple[str, bool]:
    """A LIKE pattern matching ``text`` anywhere (folded), and whether it needed escapes."""
    folded = fold(text)
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%", escaped != folded


def _page(
    conn: sqlite3.Connection,
    columns: str,
    source: str,
    where: str,
    order: str,
    params: list[Any],
    page: int,
    per_page: int,
    count_source: str | None = None,
) -> tuple[list[tuple[Any, ...]], int]:
    """One page of rows and the total, both under the same WHERE (``count_source`` may skip joins)."""
    total = _count(conn, f"SELECT COUNT(*) FROM {count_source or source} {where}", params)
    rows = conn.execute(
        f"SELECT {columns} FROM {source} {where} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, per_page, _offset(page, per_page)],
    ).fetchall()
    return rows, total


def _count(conn: sqlite3.Connection, sql: str, params: list[Any]) -> int:
    """A list's total; a tenant connection remembers it until the data changes."""
    if isinstance(conn, TenantConnection):
        return conn.count(sql, params)
    return int(conn.execute(sql, params).fetchone()[0])


def _offset(page: int, per_page: int) -> int:
    """Rows to skip; a page far past the end must not overflow SQLite's 64-bit integers (it is just empty)."""
    return min((page - 1) * per_page, 2**62)


def _where(clauses: list[str]) -> str:
    return ("WHERE " + " AND ".join(clauses)) if clauses else ""


# -- calendars ----------------------------------------------------------------------------------

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
    rows, total = _page(conn, _CALENDAR_COLUMNS, "calendars", "", "calendar_id", [], page, per_page)
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


# -- slots --------------------------------------------------------------------------------------

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
    total = _count(conn, f"SELECT COUNT(*) FROM slots s {where}", params)
    rows = conn.execute(
        f"{_SLOT} {where} ORDER BY s.start_ts, s.slot_id LIMIT ? OFFSET ?",
        [int(now), *params, per_page, _offset(page, per_page)],
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


# -- appointments -------------------------------------------------------------------------------

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
    conn: sqlite3.Connection, where: AppointmentFilter, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of appointments; a calendar filter must name a calendar (CALENDAR_NOT_FOUND otherwise)."""
    if where.calendar_id is not None:
        calendar_row(conn, where.calendar_id)
    clauses, params = where.sql()
    rows, total = _page(
        conn,
        _APPOINTMENT_COLUMNS,
        _APPOINTMENT_SOURCE,
        _where(clauses),
        "a.start_ts, a.appointment_id",
        params,
        page,
        per_page,
        count_source="appointments a",
    )
    return [dict(zip(APPOINTMENT_FIELDS, row, strict=True)) for row in rows], total


def get_appointment(conn: sqlite3.Connection, appointment_id: int) -> dict[str, Any]:
    row = conn.execute(
        f"SELECT {_APPOINTMENT_COLUMNS} FROM {_APPOINTMENT_SOURCE} WHERE a.appointment_id = ?",
        (appointment_id,),
    ).fetchone()
    if row is None:
        raise ResourceNotFound(f"Appointment {appointment_id} not found")
    return dict(zip(APPOINTMENT_FIELDS, row, strict=True))


# -- clients ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientFilter:
    search: str | None = None
    email: str | None = None
    phone: str | None = None
    created_from: date | None = None
    created_to: date | None = None

    def sql(self, alias: str = "c") -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.search:
            pattern, escaped = _like(self.search)
            like = "LIKE ? ESCAPE '\\'" if escaped else "LIKE ?"  # the trigram index cannot serve ESCAPE
            if search_indexed():
                clauses.append(f"{alias}.client_id IN (SELECT rowid FROM clients_search WHERE search_key {like})")
            else:
                clauses.append(f"{alias}.search_key {like}")
            params.append(pattern)
        if self.email is not None:
            clauses.append(f"{alias}.email_key = ?")
            params.append(self.email.strip().lower())
        if self.phone is not None:
            clauses.append(f"{alias}.phone_key = ?")
            params.append(phone_key(self.phone))
        if self.created_from is not None:
            clauses.append(f"{alias}.created_at >= ?")
            params.append(self.created_from.isoformat())
        if self.created_to is not None:
            # Every created_at of that Paris day sorts before "YYYY-MM-DDU" ("T" < "U"), including 9999-12-31.
            clauses.append(f"{alias}.created_at < ?")
            params.append(f"{self.created_to.isoformat()}U")
        return clauses, params


_CLIENT_COLUMNS = "c.client_id, c.firstname, c.lastname, c.email, c.phone, c.created_at, c.updated_at"


def _client(row: tuple[Any, ...], detail: bool) -> dict[str, Any]:
    cid, first, last, email, phone, created, updated, count, last_day = row
    record = {
        "client_id": cid,
        "client_firstname": first,
        "client_lastname": last,
        "client_email": email,
        "client_phone": phone,
        "created_at": created,
    }
    if detail:
        record["updated_at"] = updated
    record.update(appointments_count=count, last_appointment=last_day)
    return record


def list_clients(
    conn: sqlite3.Connection, where: ClientFilter, page: int, per_page: int, calendar_id: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """All clients, or (calendar_id) the clients with appointments there, counted in that calendar."""
    clauses, params = where.sql()
    if calendar_id is None:
        rows, total = _page(
            conn,
            f"{_CLIENT_COLUMNS}, c.appointments_count, c.last_appointment",
            "clients c",
            _where(clauses),
            "c.client_id",
            params,
            page,
            per_page,
        )
    else:
        calendar_row(conn, calendar_id)
        scoped = (
            "(SELECT client_id, COUNT(*) AS n, MAX(local_date) AS last_day FROM appointments"
            " WHERE calendar_id = ? GROUP BY client_id) AS agg JOIN clients c ON c.client_id = agg.client_id"
        )
        rows, total = _page(
            conn,
            f"{_CLIENT_COLUMNS}, agg.n, agg.last_day",
            scoped,
            _where(clauses),
            "c.client_id",
            [calendar_id, *params],
            page,
            per_page,
        )
    return [_client(row, detail=False) for row in rows], total


def get_client(conn: sqlite3.Connection, client_id: int) -> dict[str, Any]:
    row = conn.execute(
        f"SELECT {_CLIENT_COLUMNS}, c.appointments_count, c.last_appointment FROM clients c WHERE c.client_id = ?",
        (client_id,),
    ).fetchone()
    if row is None:
        raise ResourceNotFound(f"Client {client_id} not found")
    return _client(row, detail=True)
