"""Writes: booking, changing and moving appointments, each one atomic.

Every write runs inside ``BEGIN IMMEDIATE``, which takes the database's write lock before the first read:
the capacity check and the insert cannot interleave with another booking, in this process or in another
worker. The counters that reads rely on (slot ``booked``, calendar ``total_appointments``, client
``appointments_count`` and ``last_appointment``) move in the same transaction. A refused request raises
before anything is written, and the rollback leaves the database as it was.

Status transitions (docs/interpretation.md#status-transitions): ``pending`` <-> ``confirmed``; either may be
``cancelled`` (the place is freed) or ``completed`` once the slot has ended; nothing leaves ``cancelled``
or ``completed``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from mockserver.clock import iso
from mockserver.errors import (
    CalendarNotFound,
    InvalidParameter,
    ResourceNotFound,
    SlotInPast,
    SlotNotFound,
    SlotUnavailable,
)
from mockserver.store.schema import client_keys

ACTIVE = ("pending", "confirmed", "completed")  # statuses that hold a place in their slot
TRANSITIONS = {
    "pending": {"pending", "confirmed", "cancelled", "completed"},
    "confirmed": {"confirmed", "pending", "cancelled", "completed"},
    "cancelled": {"cancelled"},
    "completed": {"completed"},
}


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    if hasattr(conn, "writes"):  # a tenant connection: its cached responses are now stale
        conn.writes += 1


@dataclass(frozen=True)
class NewAppointment:
    calendar_id: int
    slot_id: int
    client_firstname: str
    client_lastname: str
    client_email: str
    client_phone: str
    status: str = "pending"


@dataclass(frozen=True)
class _Slot:
    slot_id: int
    calendar_id: int
    start_ts: int
    end_ts: int
    capacity: int
    booked: int
    local_date: str


def _slot(conn: sqlite3.Connection, slot_id: int) -> _Slot:
    row = conn.execute(
        "SELECT slot_id, calendar_id, start_ts, end_ts, capacity, booked, local_date FROM slots WHERE slot_id = ?",
        (slot_id,),
    ).fetchone()
    if row is None:
        raise SlotNotFound(f"Slot {slot_id} not found")
    return _Slot(*row)


def _active_calendar(conn: sqlite3.Connection, calendar_id: int) -> None:
    row = conn.execute("SELECT is_active FROM calendars WHERE calendar_id = ?", (calendar_id,)).fetchone()
    if row is None:
        raise CalendarNotFound(f"Calendar {calendar_id} not found")
    if not row[0]:
        raise CalendarNotFound(f"Calendar {calendar_id} is inactive: it takes no bookings")


def _bookable(slot: _Slot, now: float, takes_place: bool) -> None:
    if slot.start_ts <= now:
        raise SlotInPast(f"Slot {slot.slot_id} started at {iso(slot.start_ts)}: it cannot be booked any more")
    if takes_place and slot.booked >= slot.capacity:
        raise SlotUnavailable(f"Slot {slot.slot_id} is full ({slot.booked}/{slot.capacity} places booked)")


def _check_completion(status: str, slot: _Slot, now: float) -> None:
    if status == "completed" and slot.end_ts > now:
        raise InvalidParameter(
            f"An appointment can be completed only after its slot ends ({iso(slot.end_ts)})",
            details={"field": "status"},
        )


def _client_id(conn: sqlite3.Connection, new: NewAppointment, stamp: str) -> int:
    """The client with this e-mail (case-insensitive), or a new one; an existing client's record is kept."""
    email_key, phone_key, search_key = client_keys(
        new.client_firstname, new.client_lastname, new.client_email, new.client_phone
    )
    row = conn.execute(
        "SELECT client_id FROM clients WHERE email_key = ? ORDER BY client_id LIMIT 1", (email_key,)
    ).fetchone()
    if row is not None:
        return int(row[0])
    cursor = conn.execute(
        "INSERT INTO clients (firstname, lastname, email, phone, created_at, updated_at, email_key, phone_key,"
        " search_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new.client_firstname,
            new.client_lastname,
            new.client_email,
            new.client_phone,
            stamp,
            stamp,
            email_key,
            phone_key,
            search_key,
        ),
    )
    return int(cursor.lastrowid or 0)


def _refresh_client(conn: sqlite3.Connection, client_id: int) -> None:
    conn.execute(
        "UPDATE clients SET appointments_count = (SELECT COUNT(*) FROM appointments WHERE client_id = ?),"
        " last_appointment = (SELECT MAX(local_date) FROM appointments WHERE client_id = ?) WHERE client_id = ?",
        (client_id, client_id, client_id),
    )


def create_appointment(conn: sqlite3.Connection, new: NewAppointment, now: float) -> int:
    """Book a place; returns the new appointment's id."""
    stamp = iso(now)
    with transaction(conn):
        _active_calendar(conn, new.calendar_id)
        slot = _slot(conn, new.slot_id)
        if slot.calendar_id != new.calendar_id:
            raise SlotNotFound(f"Slot {new.slot_id} is not a slot of calendar {new.calendar_id}")
        takes_place = new.status in ACTIVE
        _bookable(slot, now, takes_place)
        _check_completion(new.status, slot, now)
        client_id = _client_id(conn, new, stamp)
        cursor = conn.execute(
            "INSERT INTO appointments (slot_id, calendar_id, client_id, status, local_date, start_ts, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                slot.slot_id,
                slot.calendar_id,
                client_id,
                new.status,
                slot.local_date,
                slot.start_ts,
                stamp,
                stamp,
            ),
        )
        if takes_place:
            conn.execute("UPDATE slots SET booked = booked + 1 WHERE slot_id = ?", (slot.slot_id,))
        conn.execute(
            "UPDATE calendars SET total_appointments = total_appointments + 1 WHERE calendar_id = ?",
            (slot.calendar_id,),
        )
        _refresh_client(conn, client_id)
        return int(cursor.lastrowid or 0)


def update_appointment(
    conn: sqlite3.Connection,
    appointment_id: int,
    now: float,
    status: str | None = None,
    slot_id: int | None = None,
) -> None:
    """Change an appointment's status and/or move it to another slot of its calendar, atomically."""
    with transaction(conn):
        row = conn.execute(
            "SELECT status, slot_id, calendar_id, client_id FROM appointments WHERE appointment_id = ?",
            (appointment_id,),
        ).fetchone()
        if row is None:
            raise ResourceNotFound(f"Appointment {appointment_id} not found")
        old_status, old_slot_id, calendar_id, client_id = row
        new_status = status or old_status
        if new_status not in TRANSITIONS[old_status]:
            raise InvalidParameter(
                f"An appointment that is {old_status} cannot become {new_status}"
                + (": book a new one instead" if old_status == "cancelled" else ""),
                details={"field": "status", "from": old_status, "to": new_status},
            )
        moving = slot_id is not None and slot_id != old_slot_id
        target = _slot(conn, slot_id if moving and slot_id is not None else old_slot_id)
        if moving:
            if old_status not in ("pending", "confirmed"):
                raise InvalidParameter(
                    f"A {old_status} appointment cannot move to another slot", details={"field": "slot_id"}
                )
            if target.calendar_id != calendar_id:
                raise SlotNotFound(f"Slot {target.slot_id} is not a slot of calendar {calendar_id}")
            _active_calendar(conn, calendar_id)
            _bookable(target, now, new_status in ACTIVE)
        if new_status != old_status:
            _check_completion(new_status, target, now)
        held, holds = old_status in ACTIVE, new_status in ACTIVE
        if held and (moving or not holds):
            conn.execute("UPDATE slots SET booked = booked - 1 WHERE slot_id = ?", (old_slot_id,))
        if holds and moving:  # (nothing leaves cancelled, so a place is only ever taken by a move)
            conn.execute("UPDATE slots SET booked = booked + 1 WHERE slot_id = ?", (target.slot_id,))
        conn.execute(
            "UPDATE appointments SET status = ?, slot_id = ?, local_date = ?, start_ts = ?, updated_at = ?"
            " WHERE appointment_id = ?",
            (new_status, target.slot_id, target.local_date, target.start_ts, iso(now), appointment_id),
        )
        if moving:
            _refresh_client(conn, client_id)


def free_seats(conn: sqlite3.Connection, now: float) -> list[tuple[int, int]]:
    """(slot_id, free places) of every future slot of an active calendar that still has room."""
    return conn.execute(
        "SELECT s.slot_id, s.capacity - s.booked FROM slots s JOIN calendars c ON c.calendar_id = s.calendar_id"
        " WHERE c.is_active AND s.start_ts > ? AND s.booked < s.capacity ORDER BY s.slot_id",
        (int(now),),
    ).fetchall()


def book_all(conn: sqlite3.Connection, plan: list[tuple[int, int]], now: float) -> int:
    """Take the planned places as confirmed appointments (the 'fully-booked' scenario); returns how many."""
    stamp = iso(now)
    with transaction(conn):
        for slot_id, client_id in plan:
            conn.execute(
                "INSERT INTO appointments (slot_id, calendar_id, client_id, status, local_date, start_ts, created_at,"
                " updated_at) SELECT slot_id, calendar_id, ?, 'confirmed', local_date, start_ts, ?, ? FROM slots"
                " WHERE slot_id = ?",
                (client_id, stamp, stamp, slot_id),
            )
        conn.execute(
            "UPDATE slots SET booked = (SELECT COUNT(*) FROM appointments a WHERE a.slot_id = slots.slot_id"
            " AND a.status != 'cancelled')"
        )
        conn.execute(
            "UPDATE calendars SET total_appointments = (SELECT COUNT(*) FROM appointments a"
            " WHERE a.calendar_id = calendars.calendar_id)"
        )
        conn.execute(
            "UPDATE clients SET appointments_count = (SELECT COUNT(*) FROM appointments a"
            " WHERE a.client_id = clients.client_id), last_appointment = (SELECT MAX(local_date) FROM appointments a"
            " WHERE a.client_id = clients.client_id)"
        )
    return len(plan)
