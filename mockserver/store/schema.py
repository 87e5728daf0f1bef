"""The tenant database: tables, indexes, and loading a generated dataset into a fresh database.

Times are stored twice on purpose: as epoch seconds where the API compares instants (is a slot in the
past?) and as the rendered local text where it only shows them, so that no response re-converts a time
zone per row. Per-calendar and per-client counters are kept in their rows and moved by every write in
the same transaction (see writes.py), so list pages never count whole tables.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from mockserver.clock import iso
from mockserver.dataset import Dataset
from mockserver.statuses import CANCELLED

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE calendars (
    calendar_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    widget_id TEXT NOT NULL,
    is_active INTEGER NOT NULL,
    timezone TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    total_slots INTEGER NOT NULL DEFAULT 0,
    total_appointments INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE clients (
    client_id INTEGER PRIMARY KEY,
    firstname TEXT NOT NULL,
    lastname TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    email_key TEXT NOT NULL,
    phone_key TEXT NOT NULL,
    search_key TEXT NOT NULL,
    appointments_count INTEGER NOT NULL DEFAULT 0,
    last_appointment TEXT
);
CREATE TABLE slots (
    slot_id INTEGER PRIMARY KEY,
    calendar_id INTEGER NOT NULL,
    start_ts INTEGER NOT NULL,
    end_ts INTEGER NOT NULL,
    local_date TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    booked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE appointments (
    appointment_id INTEGER PRIMARY KEY,
    slot_id INTEGER NOT NULL,
    calendar_id INTEGER NOT NULL,
    client_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    local_date TEXT NOT NULL,
    start_ts INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""

# Created after the bulk load (faster), each named after the filter or order it serves.
INDEXES = """
CREATE INDEX clients_by_email ON clients (email_key);
CREATE INDEX clients_by_phone ON clients (phone_key);
CREATE INDEX clients_by_created ON clients (created_at);
CREATE INDEX slots_by_calendar_day ON slots (calendar_id, local_date, start_ts);
CREATE INDEX appointments_by_start ON appointments (start_ts, appointment_id);
CREATE INDEX appointments_by_calendar ON appointments (calendar_id, start_ts);
CREATE INDEX appointments_by_client ON appointments (client_id, local_date);
CREATE INDEX appointments_by_day ON appointments (local_date, status, client_id, calendar_id);
CREATE INDEX appointments_by_calendar_day ON appointments (calendar_id, local_date, status, client_id);
CREATE INDEX appointments_by_slot ON appointments (slot_id, status);
"""

# Client search (``search=``) is a substring match: a trigram full-text index answers it without reading
# every client, as long as SQLite was built with FTS5 (the usual builds are); otherwise search scans.
SEARCH_INDEX = """
CREATE VIRTUAL TABLE clients_search USING fts5(
    search_key, content='clients', content_rowid='client_id', tokenize='trigram');
INSERT INTO clients_search (rowid, search_key) SELECT client_id, search_key FROM clients;
CREATE TRIGGER clients_search_insert AFTER INSERT ON clients BEGIN
    INSERT INTO clients_search (rowid, search_key) VALUES (new.client_id, new.search_key);
END;
CREATE TRIGGER clients_search_delete AFTER DELETE ON clients BEGIN
    INSERT INTO clients_search (clients_search, rowid, search_key) VALUES ('delete', old.client_id, old.search_key);
END;
CREATE TRIGGER clients_search_update AFTER UPDATE OF search_key ON clients BEGIN
    INSERT INTO clients_search (clients_search, rowid, search_key) VALUES ('delete', old.client_id, old.search_key);
    INSERT INTO clients_search (rowid, search_key) VALUES (new.client_id, new.search_key);
END;
"""


@cache
def search_indexed() -> bool:
    """Whether this SQLite has FTS5 with the trigram tokenizer (asked once, on first use)."""
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


COUNTERS = f"""
UPDATE slots SET booked = (
    SELECT COUNT(*) FROM appointments a WHERE a.slot_id = slots.slot_id AND a.status != '{CANCELLED}');
UPDATE calendars SET
    total_slots = (SELECT COUNT(*) FROM slots s WHERE s.calendar_id = calendars.calendar_id),
    total_appointments = (SELECT COUNT(*) FROM appointments a WHERE a.calendar_id = calendars.calendar_id);
UPDATE clients SET
    appointments_count = (SELECT COUNT(*) FROM appointments a WHERE a.client_id = clients.client_id),
    last_appointment = (SELECT MAX(local_date) FROM appointments a WHERE a.client_id = clients.client_id);
"""


def refresh_counters(conn: sqlite3.Connection) -> None:
    """Recompute every counter from the rows (inside the caller's transaction: statement by statement)."""
    for statement in COUNTERS.strip().split(";\n"):
        conn.execute(statement)


def fold(text: str) -> str:
    """Lower case without accents: the key that makes search case- and accent-insensitive."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    # A NUL would end the text for SQLite's LIKE and the trigram index: what follows it could not be found.
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("\x00", " ")


def phone_key(phone: str) -> str:
    """A French number in E.164 whatever its spelling: '06 12 34 56 78' and '+33612345678' match."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.strip().startswith("+"):
        if digits.startswith("330"):
            digits = "33" + digits[3:]
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0") and len(digits) == 10:
        return "+33" + digits[1:]
    return digits


def client_keys(firstname: str, lastname: str, email: str, phone: str) -> tuple[str, str, str]:
    return email.strip().lower(), phone_key(phone), fold(f"{firstname} {lastname} {email}")


def local_parts(epoch: int, tz: str) -> tuple[str, str]:
    """(YYYY-MM-DD, HH:MM:SS) of an instant in a calendar's zone."""
    text = iso(epoch, tz)
    return text[:10], text[11:19]


#: The stored columns of each table, as an export holds them; every other column is derived on insert.
STORED: dict[str, tuple[str, ...]] = {
    "calendars": ("calendar_id", "name", "widget_id", "is_active", "timezone", "created_at", "updated_at"),
    "clients": ("client_id", "firstname", "lastname", "email", "phone", "created_at", "updated_at"),
    "slots": ("slot_id", "calendar_id", "start_ts", "end_ts", "capacity", "created_at", "updated_at"),
    "appointments": ("appointment_id", "slot_id", "client_id", "status", "created_at", "updated_at"),
}


def insert_records(
    conn: sqlite3.Connection,
    calendars: list[tuple[Any, ...]],
    clients: Iterable[tuple[Any, ...]],
    slots: Iterable[tuple[Any, ...]],
    appointments: Iterable[tuple[Any, ...]],
) -> None:
    """Insert rows of the ``STORED`` columns, deriving search keys, local slot times and each appointment's
    calendar, day and instant from its slot: the one insert both a generated dataset and an import use, so
    that neither can contradict itself. Counters are left to ``refresh_counters``. Rows may come from
    iterators: an import streams them in batches."""
    insert_calendars(conn, calendars)
    insert_clients(conn, clients)
    insert_slots(conn, slots, {row[0]: row[4] for row in calendars})
    insert_appointments(conn, appointments)


def insert_calendars(conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    conn.executemany(
        "INSERT INTO calendars (calendar_id, name, widget_id, is_active, timezone, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        ((*row[:3], int(bool(row[3])), *row[4:]) for row in rows),
    )


def insert_clients(conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    conn.executemany(
        "INSERT INTO clients (client_id, firstname, lastname, email, phone, created_at, updated_at,"
        " email_key, phone_key, search_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ((*row, *client_keys(row[1], row[2], row[3], row[4])) for row in rows),
    )


def insert_slots(conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]], zones: Mapping[int, str]) -> None:
    """Slots, with their local day and times in their calendar's zone (``zones``: calendar id -> zone)."""

    def derived(row: tuple[Any, ...]) -> tuple[Any, ...]:
        slot_id, calendar_id, start_ts, end_ts, capacity, created, updated = row
        tz = zones[calendar_id]
        day, start_time = local_parts(start_ts, tz)
        return (slot_id, calendar_id, start_ts, end_ts, day, start_time, local_parts(end_ts, tz)[1], capacity,
                created, updated)  # fmt: skip

    conn.executemany(
        "INSERT INTO slots (slot_id, calendar_id, start_ts, end_ts, local_date, start_time, end_time,"
        " capacity, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (derived(row) for row in rows),
    )


def insert_appointments(conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> int:
    """Appointments, with their calendar, day and instant read from their slot. One whose slot or client is
    not in the database is not inserted: returns how many were (an import names one that was not)."""
    return conn.executemany(
        "INSERT INTO appointments (appointment_id, slot_id, calendar_id, client_id, status, local_date, start_ts,"
        " created_at, updated_at)"
        " SELECT ?1, s.slot_id, s.calendar_id, c.client_id, ?4, s.local_date, s.start_ts, ?5, ?6"
        " FROM slots s JOIN clients c ON c.client_id = ?3 WHERE s.slot_id = ?2",
        rows,
    ).rowcount


def create(conn: sqlite3.Connection, data: Dataset) -> None:
    """Fill an empty database with a generated dataset."""
    conn.executescript(SCHEMA)
    spec = data.spec
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [
            ("seed", str(spec.seed)),
            ("anchor", spec.anchor.isoformat()),
            ("scale", str(spec.scale)),
            ("dataset", spec.key),
        ],
    )
    insert_records(
        conn,
        [
            (c.calendar_id, c.name, c.widget_id, c.is_active, c.timezone, c.created_at, c.updated_at)
            for c in data.calendars
        ],
        [(c.client_id, c.firstname, c.lastname, c.email, c.phone, c.created_at, c.updated_at) for c in data.clients],
        [(s.slot_id, s.calendar_id, s.start_ts, s.end_ts, s.capacity, s.created_at, s.created_at) for s in data.slots],
        [(a.appointment_id, a.slot_id, a.client_id, a.status, a.created_at, a.updated_at) for a in data.appointments],
    )
    conn.executescript(INDEXES)
    if search_indexed():
        conn.executescript(SEARCH_INDEX)
    conn.executescript(COUNTERS)
    conn.execute("ANALYZE")
