"""A tenant's whole state as JSON, and back: fixtures for demos and for reproducing a bug report.

The export holds the stored columns of the four tables; derived columns (search keys, counters, local
slot times) are recomputed on import, so an edited export cannot contradict itself.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from mockserver.clock import LATEST, zone
from mockserver.errors import InvalidParameter
from mockserver.statuses import STATUSES, holds_place
from mockserver.store.schema import STORED, insert_records, refresh_counters
from mockserver.store.sqlite import transaction

FORMAT_VERSION = 1
TABLES = STORED
#: SQLite's integer range: a larger id cannot be stored.
MAX_INTEGER = 2**63 - 1


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
            if (
                not isinstance(value, expected)
                or (expected == (int,) and (isinstance(value, bool) or not -MAX_INTEGER <= value <= MAX_INTEGER))
                or (expected == (str,) and not _encodable(value))
            ):
                raise InvalidParameter(
                    f"dataset.tables.{table}[{number}].{column}: expected {expected[0].__name__},"
                    f" got {repr(value)[:80]}"
                )
    return values


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\\ud800": SQLite cannot store it
        return False
    return True


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
    capacities: dict[Any, int] = {}
    for slot_id, calendar_id, start, end, capacity, *_ in slots:
        if capacity < 0:
            raise InvalidParameter(f"Slot {slot_id}: capacity must be 0 or more")
        if calendar_id not in zones:
            raise InvalidParameter(f"Slot {slot_id} refers to unknown calendar {calendar_id}")
        if not 0 <= start <= end <= LATEST:
            raise InvalidParameter(f"Slot {slot_id}: start_ts and end_ts must be instants, start first")
        capacities[slot_id] = capacity
    client_ids = {row[0] for row in clients}
    held: Counter[Any] = Counter()
    for appointment_id, slot_id, client_id, status, *_ in appointments:
        if slot_id not in capacities or client_id not in client_ids or status not in STATUSES:
            raise InvalidParameter(f"Appointment {appointment_id} has an unknown slot, client or status")
        if holds_place(status):
            held[slot_id] += 1
            if held[slot_id] > capacities[slot_id]:
                raise InvalidParameter(
                    f"Slot {slot_id} would hold {held[slot_id]} appointments for {capacities[slot_id]} place(s):"
                    " cancel some in the document, or raise the slot's capacity"
                )
    try:
        with transaction(conn):
            for table in ("appointments", "slots", "clients", "calendars"):
                conn.execute(f"DELETE FROM {table}")
            insert_records(conn, calendars, clients, slots, appointments)
            refresh_counters(conn)
    except (sqlite3.IntegrityError, sqlite3.InterfaceError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidParameter(f"The dataset does not fit: {exc}") from None
    return {
        "calendars": len(calendars),
        "clients": len(clients),
        "slots": len(slots),
        "appointments": len(appointments),
    }
