"""A tenant's whole state as JSON, and back: fixtures for demos and for reproducing a bug report.

The export holds the stored columns of the four tables; derived columns (search keys, counters, local
slot times) are recomputed on import, so an edited export cannot contradict itself.
"""

from __future__ import annotations

import sqlite3
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from mockserver.clock import LATEST, zone
from mockserver.errors import InvalidParameter
from mockserver.store.schema import COUNTERS, client_keys, local_parts
from mockserver.store.writes import transaction

FORMAT_VERSION = 1
TABLES: dict[str, tuple[str, ...]] = {
    "calendars": ("calendar_id", "name", "widget_id", "is_active", "timezone", "created_at", "updated_at"),
    "clients": ("client_id", "firstname", "lastname", "email", "phone", "created_at", "updated_at"),
    "slots": ("slot_id", "calendar_id", "start_ts", "end_ts", "capacity", "created_at", "updated_at"),
    "appointments": ("appointment_id", "slot_id", "client_id", "status", "created_at", "updated_at"),
}
STATUSES = ("pending", "confirmed", "cancelled", "completed")


def export(conn: sqlite3.Connection) -> dict[str, Any]:
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    tables = {
        table: [
            dict(zip(columns, row, strict=True))
            for row in conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1")
        ]
        for table, columns in TABLES.items()
    }
    for calendar in tables["calendars"]:
        calendar["is_active"] = bool(calendar["is_active"])
    return {"format_version": FORMAT_VERSION, "meta": meta, "tables": tables}


# What each exported column must hold: ids and instants are integers, texts are strings, is_active a boolean.
_TYPES: dict[str, tuple[type, ...]] = {
    "calendar_id": (int,),
    "client_id": (int,),
    "slot_id": (int,),
    "appointment_id": (int,),
    "start_ts": (int,),
    "end_ts": (int,),
    "capacity": (int,),
    "is_active": (bool, int),
}


def _rows(document: Any, table: str) -> list[tuple[Any, ...]]:
    columns = TABLES[table]
    try:
        rows = document["tables"][table]
        if not isinstance(rows, list):
            raise TypeError("not a list")
        values = [tuple(row[column] for column in columns) for row in rows]
    except (KeyError, TypeError) as exc:
        raise InvalidParameter(f"dataset.tables.{table}: every row needs {', '.join(columns)} ({exc!s})") from None
    for number, row in enumerate(values):
        for column, value in zip(columns, row, strict=True):
            expected = _TYPES.get(column, (str,))
            if not isinstance(value, expected) or (expected == (int,) and isinstance(value, bool)):
                raise InvalidParameter(
                    f"dataset.tables.{table}[{number}].{column}: expected {expected[0].__name__}, got {value!r}"
                )
    return values


def _zone(name: str, calendar_id: Any) -> str:
    try:
        zone(name)
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        raise InvalidParameter(f"Calendar {calendar_id}: unknown time zone {name!r}") from None
    return name


def load(conn: sqlite3.Connection, document: Any) -> dict[str, int]:
    """Replace the tenant's data with an export; INVALID_PARAMETER (nothing changed) if it does not fit."""
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        raise InvalidParameter(f"Not a dataset export (expected format_version {FORMAT_VERSION})")
    calendars = _rows(document, "calendars")
    clients = _rows(document, "clients")
    slots = _rows(document, "slots")
    appointments = _rows(document, "appointments")
    zones = {row[0]: _zone(row[4], row[0]) for row in calendars}
    slot_info: dict[Any, tuple[Any, ...]] = {}
    slot_rows = []
    for slot_id, calendar_id, start, end, capacity, created, updated in slots:
        if calendar_id not in zones:
            raise InvalidParameter(f"Slot {slot_id} refers to unknown calendar {calendar_id}")
        if not 0 <= start <= end <= LATEST:
            raise InvalidParameter(f"Slot {slot_id}: start_ts and end_ts must be instants, start first")
        day, start_time = local_parts(int(start), zones[calendar_id])
        slot_rows.append(
            (
                slot_id,
                calendar_id,
                int(start),
                int(end),
                day,
                start_time,
                local_parts(int(end), zones[calendar_id])[1],
                capacity,
                created,
                updated,
            )
        )
        slot_info[slot_id] = (calendar_id, day, int(start))
    client_ids = {row[0] for row in clients}
    appointment_rows = []
    for appointment_id, slot_id, client_id, status, created, updated in appointments:
        if slot_id not in slot_info or client_id not in client_ids or status not in STATUSES:
            raise InvalidParameter(f"Appointment {appointment_id} has an unknown slot, client or status")
        calendar_id, day, start = slot_info[slot_id]
        appointment_rows.append((appointment_id, slot_id, calendar_id, client_id, status, day, start, created, updated))
    try:
        with transaction(conn):
            for table in ("appointments", "slots", "clients", "calendars"):
                conn.execute(f"DELETE FROM {table}")
            conn.executemany(
                "INSERT INTO calendars (calendar_id, name, widget_id, is_active, timezone, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*row[:3], int(bool(row[3])), *row[4:]) for row in calendars],
            )
            conn.executemany(
                "INSERT INTO clients (client_id, firstname, lastname, email, phone, created_at,"
                " updated_at, email_key, phone_key, search_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*row, *client_keys(row[1], row[2], row[3], row[4])) for row in clients],
            )
            conn.executemany(
                "INSERT INTO slots (slot_id, calendar_id, start_ts, end_ts, local_date, start_time,"
                " end_time, capacity, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                slot_rows,
            )
            conn.executemany("INSERT INTO appointments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", appointment_rows)
            for statement in COUNTERS.strip().split(";\n"):
                conn.execute(statement)
    except (sqlite3.IntegrityError, sqlite3.InterfaceError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidParameter(f"The dataset does not fit: {exc}") from None
    return {
        "calendars": len(calendars),
        "clients": len(clients),
        "slots": len(slot_rows),
        "appointments": len(appointment_rows),
    }
