"""Writes: booking, changing and moving appointments, filling slots for a preset; each one atomic.

Every write runs inside ``transaction`` (``BEGIN IMMEDIATE``), which takes the database's write lock before
the first read: the capacity check and the insert cannot interleave with another booking, in this process
or in another worker. The counters that reads rely on (slot ``booked``, calendar ``total_appointments``,
client ``appointments_count`` and ``last_appointment``) move in the same transaction. A refused request
raises before anything is written, and the rollback leaves the database as it was.

Status changes (docs/interpretation.md#status-transitions): by default any documented status may follow any
other, at creation and in an update, as the documentation lists them; places follow (cancelling frees one,
leaving cancelled takes one, or fails with SLOT_UNAVAILABLE). ``strict`` adds the lifecycle of
``statuses.STRICT_TRANSITIONS``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from mockserver.clock import iso
from mockserver.dataset import fill_plan
from mockserver.errors import (
    CalendarNotFound,
    InvalidParameter,
    ResourceNotFound,
    SlotInPast,
    SlotNotFound,
    SlotUnavailable,
)
from mockserver.statuses import CANCELLED, COMPLETED, STRICT_TRANSITIONS, holds_place
from mockserver.store.queries.appointments import get_appointment
from mockserver.store.schema import client_keys, refresh_counters
from mockserver.store.sqlite import transaction


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


def _not_past(slot: _Slot, now: float) -> None:
    if slot.start_ts <= now:
        raise SlotInPast(
            f"Slot {slot.slot_id} started at {iso(slot.start_ts)}: it cannot be booked any more",
            hint=f"The sandbox clock is {iso(now)}, after the slot's start {iso(slot.start_ts)}; pick a later slot,"
            " or move the clock back with POST /__mock/clock/freeze.",
        )


def _has_room(slot: _Slot) -> None:
    if slot.booked >= slot.capacity:
        raise SlotUnavailable(
            f"Slot {slot.slot_id} is full ({slot.booked}/{slot.capacity} places booked)",
            hint=f"All {slot.capacity} place(s) of slot {slot.slot_id} are taken; GET /api/slots lists"
            " is_available, or cancel an appointment of this slot first.",
        )


def _strict_completion(status: str, slot: _Slot, now: float) -> None:
    if status == COMPLETED and slot.end_ts > now:
        raise InvalidParameter(
            f"An appointment can be completed only after its slot ends ({iso(slot.end_ts)})",
            details={"field": "status"},
            hint="This server runs the strict lifecycle (--strict-lifecycle); by default any status is accepted.",
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


def create_appointment(
    conn: sqlite3.Connection, new: NewAppointment, now: float, strict: bool = False
) -> dict[str, Any]:
    """Book a place (any documented status; a cancelled one takes none); returns the new appointment, read in
    the same transaction (a reset right after the commit cannot make it vanish from the answer)."""
    stamp = iso(now)
    with transaction(conn):
        _active_calendar(conn, new.calendar_id)
        slot = _slot(conn, new.slot_id)
        if slot.calendar_id != new.calendar_id:
            raise SlotNotFound(f"Slot {new.slot_id} is not a slot of calendar {new.calendar_id}")
        takes_place = holds_place(new.status)
        _not_past(slot, now)
        if takes_place:
            _has_room(slot)
        if strict:
            _strict_completion(new.status, slot, now)
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
        return get_appointment(conn, int(cursor.lastrowid or 0))


def update_appointment(
    conn: sqlite3.Connection,
    appointment_id: int,
    now: float,
    status: str | None = None,
    slot_id: int | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Change an appointment's status and/or move it to another slot of its calendar, atomically; returns it."""
    with transaction(conn):
        row = conn.execute(
            "SELECT status, slot_id, calendar_id, client_id FROM appointments WHERE appointment_id = ?",
            (appointment_id,),
        ).fetchone()
        if row is None:
            raise ResourceNotFound(f"Appointment {appointment_id} not found")
        old_status, old_slot_id, calendar_id, client_id = row
        new_status = status or old_status
        if strict and new_status not in STRICT_TRANSITIONS[old_status]:
            raise InvalidParameter(
                f"An appointment that is {old_status} cannot become {new_status}"
                + (": book a new one instead" if old_status == CANCELLED else ""),
                details={"field": "status", "from": old_status, "to": new_status},
                hint="This server runs the strict lifecycle (--strict-lifecycle); by default any status is accepted.",
            )
        moving = slot_id is not None and slot_id != old_slot_id
        target = _slot(conn, slot_id if moving and slot_id is not None else old_slot_id)
        held, holds = holds_place(old_status), holds_place(new_status)
        if moving:
            if strict and old_status in (CANCELLED, COMPLETED):
                raise InvalidParameter(
                    f"A {old_status} appointment cannot move to another slot", details={"field": "slot_id"}
                )
            if target.calendar_id != calendar_id:
                raise SlotNotFound(f"Slot {target.slot_id} is not a slot of calendar {calendar_id}")
            _active_calendar(conn, calendar_id)
            _not_past(target, now)
        if holds and (moving or not held):
            _has_room(target)  # a move, or leaving cancelled: a place is taken in the target slot
        if strict and new_status != old_status:
            _strict_completion(new_status, target, now)
        if held and (moving or not holds):
            conn.execute("UPDATE slots SET booked = booked - 1 WHERE slot_id = ?", (old_slot_id,))
        if holds and (moving or not held):
            conn.execute("UPDATE slots SET booked = booked + 1 WHERE slot_id = ?", (target.slot_id,))
        conn.execute(
            "UPDATE appointments SET status = ?, slot_id = ?, local_date = ?, start_ts = ?, updated_at = ?"
            " WHERE appointment_id = ?",
            (new_status, target.slot_id, target.local_date, target.start_ts, iso(now), appointment_id),
        )
        if moving:
            _refresh_client(conn, client_id)
        return get_appointment(conn, appointment_id)


def fill_free_places(conn: sqlite3.Connection, seed: int, now: float) -> int:
    """Take every free place of every future slot of an active calendar as a confirmed appointment (the
    'fully-booked' preset); returns how many. The free places are read inside the write transaction, so a
    booking racing this one either lands first and is counted, or waits and then finds the slot full."""
    stamp = iso(now)
    with transaction(conn):
        free = conn.execute(
            "SELECT s.slot_id, s.capacity - s.booked FROM slots s JOIN calendars c ON c.calendar_id = s.calendar_id"
            " WHERE c.is_active AND s.start_ts > ? AND s.booked < s.capacity ORDER BY s.slot_id",
            (int(now),),
        ).fetchall()
        client_ids = [row[0] for row in conn.execute("SELECT client_id FROM clients ORDER BY client_id")]
        plan = fill_plan(seed, free, client_ids)
        conn.executemany(
            "INSERT INTO appointments (slot_id, calendar_id, client_id, status, local_date, start_ts, created_at,"
            " updated_at) SELECT slot_id, calendar_id, ?, 'confirmed', local_date, start_ts, ?, ? FROM slots"
            " WHERE slot_id = ?",
            [(client_id, stamp, stamp, slot_id) for slot_id, client_id in plan],
        )
        refresh_counters(conn)
    return len(plan)
