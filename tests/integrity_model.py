"""The model of one tenant that tests/test_integrity.py drives: what every view should show, from first principles.

The state is a dataset export (the four tables as ``GET /__mock/dataset`` gives them) plus the tenant's clock
and anchor date; bookings and changes are applied here as the API documentation and docs/interpretation.md
describe them, and every view (lists, details, counters, statistics) is computed from that state alone, with
none of the server's code. A view of the server that differs from the model's is a defect of one of them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

#: The documentation's statuses; every one but cancelled holds a place in its slot.
STATUSES = ("pending", "confirmed", "cancelled", "completed")
PARIS = "Europe/Paris"
#: The dataset covers the anchor date and the 30 days on either side (docs/interpretation.md#clock-and-data).
WINDOW_DAYS = 30
TOP_CLIENTS = 10
ACTIVE_DAYS = 90
NEW_DAYS = 30
#: The documented error codes the writes can answer, with their HTTP statuses ("Codes d'erreur").
ERRORS = {
    "CALENDAR_NOT_FOUND": 404,
    "SLOT_NOT_FOUND": 404,
    "RESOURCE_NOT_FOUND": 404,
    "SLOT_UNAVAILABLE": 409,
    "SLOT_IN_PAST": 409,
    "MISSING_REQUIRED_FIELD": 400,
    "INVALID_PARAMETER": 400,
}


KINDS = ("a", "s", "c", "cal")


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(epoch: int, tz: str = PARIS) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).astimezone(_zone(tz))


def iso(epoch: int) -> str:
    """A timestamp as the API writes it: Paris time with the offset in force, to the second."""
    return local(int(epoch)).isoformat(timespec="seconds")


def holds_place(status: str) -> bool:
    return status != "cancelled"


def rate(part: int, whole: int) -> float:
    return round(part / whole, 2) if whole else 0.0


@dataclass(frozen=True)
class Refusal:
    """What the API must answer instead of a success."""

    code: str

    @property
    def status(self) -> int:
        return ERRORS[self.code]


@dataclass
class TenantModel:
    tables: dict[str, dict[int, dict[str, Any]]]
    meta: dict[str, str]
    now: int
    #: Ids whose detail views the next check reads (what the last steps touched), per kind:
    #: appointments, slots, clients, calendars.
    touched: dict[str, set[int]] = field(default_factory=lambda: {k: set() for k in KINDS})
    #: Every id touched since the tenant was made: after a reset or an import, their details are read again.
    seen: dict[str, set[int]] = field(default_factory=lambda: {k: set() for k in KINDS})
    #: Each slot's local (date, start, end), computed once: slots' times and zones change only by an import.
    _times: dict[int, tuple[str, str, str]] = field(default_factory=dict)

    @classmethod
    def from_export(cls, document: dict[str, Any], now: int) -> TenantModel:
        keys = {
            "calendars": "calendar_id",
            "clients": "client_id",
            "slots": "slot_id",
            "appointments": "appointment_id",
        }
        tables = {name: {row[key]: dict(row) for row in document["tables"][name]} for name, key in keys.items()}
        return cls(tables, dict(document["meta"]), now)

    def export(self) -> dict[str, Any]:
        """What ``GET /__mock/dataset`` should give: rows ordered by id."""
        return {
            "meta": self.meta,
            "tables": {name: [rows[key] for key in sorted(rows)] for name, rows in self.tables.items()},
        }

    def replace_tables(self, document: dict[str, Any]) -> None:
        """An import: the document's rows, this tenant's own meta and clock."""
        self.tables = TenantModel.from_export({"meta": self.meta, "tables": document["tables"]}, 0).tables
        self._times = {}
        self.touched = {kind: set(ids) for kind, ids in self.seen.items()}

    # -- shortcuts -------------------------------------------------------------------------------

    @property
    def calendars(self) -> dict[int, dict[str, Any]]:
        return self.tables["calendars"]

    @property
    def clients(self) -> dict[int, dict[str, Any]]:
        return self.tables["clients"]

    @property
    def slots(self) -> dict[int, dict[str, Any]]:
        return self.tables["slots"]

    @property
    def appointments(self) -> dict[int, dict[str, Any]]:
        return self.tables["appointments"]

    @property
    def today(self) -> date:
        return local(self.now).date()

    @property
    def window(self) -> tuple[date, date]:
        anchor = date.fromisoformat(self.meta["anchor"])
        return anchor - timedelta(days=WINDOW_DAYS), anchor + timedelta(days=WINDOW_DAYS)

    def slot_times(self, slot_id: int) -> tuple[str, str, str]:
        """(date, start_time, end_time) of a slot in its calendar's zone."""
        times = self._times.get(slot_id)
        if times is None:
            slot = self.slots[slot_id]
            tz = self.calendars[slot["calendar_id"]]["timezone"]
            times = self._times[slot_id] = _local_times(slot["start_ts"], slot["end_ts"], tz)
        return times

    def day_of(self, appointment: dict[str, Any]) -> str:
        return self.slot_times(appointment["slot_id"])[0]

    def booked(self) -> Counter[int]:
        return Counter(a["slot_id"] for a in self.appointments.values() if holds_place(a["status"]))

    def by_email(self, email: str) -> int | None:
        key = email.strip().lower()
        matches = [cid for cid, client in self.clients.items() if client["email"].strip().lower() == key]
        return min(matches) if matches else None

    # -- writes ----------------------------------------------------------------------------------

    def book(self, calendar_id: int, slot_id: int, status: str) -> Refusal | None:
        """Why a booking must be refused, in the order the checks apply, or None."""
        calendar = self.calendars.get(calendar_id)
        if calendar is None or not calendar["is_active"]:
            return Refusal("CALENDAR_NOT_FOUND")
        slot = self.slots.get(slot_id)
        if slot is None or slot["calendar_id"] != calendar_id:
            return Refusal("SLOT_NOT_FOUND")
        if slot["start_ts"] <= self.now:
            return Refusal("SLOT_IN_PAST")
        if holds_place(status) and self.booked()[slot_id] >= slot["capacity"]:
            return Refusal("SLOT_UNAVAILABLE")
        return None

    def add(self, appointment_id: int, slot_id: int, status: str, person: dict[str, str]) -> None:
        """A booking that succeeded under ``appointment_id``; the client is matched by e-mail, or created."""
        assert appointment_id not in self.appointments, f"appointment id {appointment_id} given twice"
        stamp = iso(self.now)
        client_id = self.by_email(person["email"])
        if client_id is None:
            client_id = max(self.clients, default=1000) + 1
            self.clients[client_id] = {"client_id": client_id, **person, "created_at": stamp, "updated_at": stamp}
        self.appointments[appointment_id] = {
            "appointment_id": appointment_id,
            "slot_id": slot_id,
            "client_id": client_id,
            "status": status,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.touch(appointment_id)

    def change(self, appointment_id: int, status: str | None, slot_id: int | None) -> Refusal | None:
        """A PUT: why it must be refused, or None after applying it."""
        if status is None and slot_id is None:
            return Refusal("MISSING_REQUIRED_FIELD")
        appointment = self.appointments.get(appointment_id)
        if appointment is None:
            return Refusal("RESOURCE_NOT_FOUND")
        new_status = status or appointment["status"]
        moving = slot_id is not None and slot_id != appointment["slot_id"]
        target = slot_id if moving and slot_id is not None else appointment["slot_id"]
        if moving:
            slot = self.slots.get(target)
            old_calendar = self.slots[appointment["slot_id"]]["calendar_id"]
            if slot is None or slot["calendar_id"] != old_calendar:
                return Refusal("SLOT_NOT_FOUND")
            if not self.calendars[old_calendar]["is_active"]:
                return Refusal("CALENDAR_NOT_FOUND")
            if slot["start_ts"] <= self.now:
                return Refusal("SLOT_IN_PAST")
        takes = holds_place(new_status) and (moving or not holds_place(appointment["status"]))
        if takes and self.booked()[target] >= self.slots[target]["capacity"]:
            return Refusal("SLOT_UNAVAILABLE")
        self.touch(appointment_id)  # the old slot and client, before the change
        appointment.update(status=new_status, slot_id=target, updated_at=iso(self.now))
        self.touch(appointment_id)
        return None

    def touch(self, appointment_id: int) -> None:
        appointment = self.appointments.get(appointment_id)
        self.mark("a", appointment_id)
        if appointment is not None:
            self.mark("s", appointment["slot_id"])
            self.mark("c", appointment["client_id"])
            self.mark("cal", self.slots[appointment["slot_id"]]["calendar_id"])

    def mark(self, kind: str, ident: int) -> None:
        self.touched[kind].add(ident)
        self.seen[kind].add(ident)

    def succeed(self, document: dict[str, Any], now: int) -> TenantModel:
        """The model after a reset or a rebase to ``document``: what was touched here is read again."""
        after = TenantModel.from_export(document, now)
        after.seen = {kind: set(ids) for kind, ids in self.seen.items()}
        after.touched = {kind: set(ids) for kind, ids in self.seen.items()}
        return after

    # -- views -----------------------------------------------------------------------------------

    def appointment_record(self, appointment_id: int) -> dict[str, Any]:
        a = self.appointments[appointment_id]
        day, start, end = self.slot_times(a["slot_id"])
        calendar = self.calendars[self.slots[a["slot_id"]]["calendar_id"]]
        client = self.clients[a["client_id"]]
        return {
            "appointment_id": appointment_id,
            "status": a["status"],
            "created_at": a["created_at"],
            "updated_at": a["updated_at"],
            "slot_id": a["slot_id"],
            "date": day,
            "start_time": start,
            "end_time": end,
            "calendar_id": calendar["calendar_id"],
            "calendar_name": calendar["name"],
            "client_id": client["client_id"],
            "client_firstname": client["firstname"],
            "client_lastname": client["lastname"],
            "client_email": client["email"],
            "client_phone": client["phone"],
        }

    def appointment_list(
        self,
        calendar_id: int | None = None,
        statuses: tuple[str, ...] = (),
        date_from: str | None = None,
        date_to: str | None = None,
        client_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """The filtered list in the documented order: the slot's start instant, then the id."""
        chosen = []
        for aid, a in self.appointments.items():
            slot = self.slots[a["slot_id"]]
            day = self.slot_times(a["slot_id"])[0]
            if (
                (calendar_id is None or slot["calendar_id"] == calendar_id)
                and (not statuses or a["status"] in statuses)
                and (date_from is None or day >= date_from)
                and (date_to is None or day <= date_to)
                and (client_id is None or a["client_id"] == client_id)
            ):
                chosen.append((slot["start_ts"], aid))
        return [self.appointment_record(aid) for _, aid in sorted(chosen)]

    def slot_record(self, slot_id: int, detail: bool = False, booked: Counter[int] | None = None) -> dict[str, Any]:
        slot = self.slots[slot_id]
        calendar = self.calendars[slot["calendar_id"]]
        places = (booked if booked is not None else self.booked())[slot_id]
        day, start, end = self.slot_times(slot_id)
        record = {
            "slot_id": slot_id,
            "calendar_id": slot["calendar_id"],
            "date": day,
            "start_time": start,
            "end_time": end,
            "capacity": slot["capacity"],
            "is_available": places < slot["capacity"] and slot["start_ts"] > self.now and bool(calendar["is_active"]),
            "booked_appointments": places,
            "created_at": slot["created_at"],
        }
        if detail:
            record.update(updated_at=slot["updated_at"], calendar_name=calendar["name"])
        return record

    def slot_list(self, calendar_id: int, date_from: str, date_to: str) -> list[dict[str, Any]]:
        chosen = [
            (slot["start_ts"], sid)
            for sid, slot in self.slots.items()
            if slot["calendar_id"] == calendar_id and date_from <= self.slot_times(sid)[0] <= date_to
        ]
        booked = self.booked()
        return [self.slot_record(sid, booked=booked) for _, sid in sorted(chosen)]

    def calendar_record(
        self, calendar_id: int, detail: bool = False, totals: tuple[Counter[int], Counter[int]] | None = None
    ) -> dict[str, Any]:
        """A calendar with its counters (``totals``: appointments and slots per calendar, when known)."""
        appointments, slots = totals or self.calendar_totals()
        calendar = self.calendars[calendar_id]
        record = {
            "calendar_id": calendar_id,
            "calendar_name": calendar["name"],
            "widgetID": calendar["widget_id"],
            "is_active": bool(calendar["is_active"]),
            "created_at": calendar["created_at"],
        }
        if detail:
            record["updated_at"] = calendar["updated_at"]
        record.update(
            total_appointments=appointments[calendar_id],
            total_slots=slots[calendar_id],
            timezone=calendar["timezone"],
        )
        return record

    def calendar_totals(self) -> tuple[Counter[int], Counter[int]]:
        """Appointments (every status) and slots per calendar."""
        slots = self.slots
        return (
            Counter(slots[a["slot_id"]]["calendar_id"] for a in self.appointments.values()),
            Counter(s["calendar_id"] for s in slots.values()),
        )

    def calendar_list(self) -> list[dict[str, Any]]:
        totals = self.calendar_totals()
        return [self.calendar_record(cid, totals=totals) for cid in sorted(self.calendars)]

    def _client_days(self, calendar_id: int | None = None) -> dict[int, list[str]]:
        """Each client's appointment days (of one calendar, or of all)."""
        days: dict[int, list[str]] = {}
        for a in self.appointments.values():
            if calendar_id is None or self.slots[a["slot_id"]]["calendar_id"] == calendar_id:
                days.setdefault(a["client_id"], []).append(self.day_of(a))
        return days

    def client_record(
        self, client_id: int, detail: bool = False, days: dict[int, list[str]] | None = None
    ) -> dict[str, Any]:
        """A client with its counters, over ``days`` (every appointment's, unless given)."""
        client = self.clients[client_id]
        mine = (days if days is not None else self._client_days()).get(client_id, [])
        record = {
            "client_id": client_id,
            "client_firstname": client["firstname"],
            "client_lastname": client["lastname"],
            "client_email": client["email"],
            "client_phone": client["phone"],
            "created_at": client["created_at"],
        }
        if detail:
            record["updated_at"] = client["updated_at"]
        record.update(appointments_count=len(mine), last_appointment=max(mine, default=None))
        return record

    def client_list(self, calendar_id: int | None = None) -> list[dict[str, Any]]:
        """Every client; or (``calendar_id``) those with appointments there, counted there."""
        days = self._client_days(calendar_id)
        return [
            self.client_record(cid, days=days) for cid in sorted(self.clients) if calendar_id is None or cid in days
        ]

    # -- statistics (docs/interpretation.md#statistics) ------------------------------------------

    def appointment_statistics(self, start: date, end: date, calendar_id: int | None = None) -> dict[str, Any]:
        chosen = self.appointment_list(calendar_id, date_from=start.isoformat(), date_to=end.isoformat())
        by_status = Counter(r["status"] for r in chosen)
        breakdown = []
        for offset in range((end - start).days + 1):
            day = (start + timedelta(days=offset)).isoformat()
            that_day = Counter(r["status"] for r in chosen if r["date"] == day)
            breakdown.append(
                {
                    "date": day,
                    "appointments_count": sum(that_day.values()),
                    "confirmed_count": that_day["confirmed"] + that_day["completed"],
                    "cancelled_count": that_day["cancelled"],
                }
            )
        total = len(chosen)
        summary = {
            "total_appointments": total,
            "confirmed_appointments": by_status["confirmed"] + by_status["completed"],
            "pending_appointments": by_status["pending"],
            "cancelled_appointments": by_status["cancelled"],
            "completed_appointments": by_status["completed"],
            "calendars_with_appointments": len({r["calendar_id"] for r in chosen}),
            "unique_clients": len({r["client_id"] for r in chosen}),
            "days_with_appointments": len({r["date"] for r in chosen}),
            "success_rate": rate(total - by_status["cancelled"], total),
        }
        return {"summary": summary, "daily_breakdown": breakdown}

    def calendar_statistics(self) -> dict[str, Any]:
        records = self.calendar_list()
        active = sum(1 for r in records if r["is_active"])
        total = sum(r["total_appointments"] for r in records)
        return {
            "total_calendars": len(records),
            "active_calendars": active,
            "inactive_calendars": len(records) - active,
            "calendars_with_appointments": sum(1 for r in records if r["total_appointments"]),
            "average_appointments_per_calendar": round(total / len(records), 2) if records else 0.0,
            "calendars": [
                {
                    "calendar_id": r["calendar_id"],
                    "calendar_name": r["calendar_name"],
                    "appointments_count": r["total_appointments"],
                    "slots_count": r["total_slots"],
                    "utilization_rate": rate(r["total_appointments"], r["total_slots"]),
                }
                for r in records
            ],
        }

    def client_statistics(self) -> dict[str, Any]:
        records = self.client_list()
        active_since = (self.today - timedelta(days=ACTIVE_DAYS - 1)).isoformat()
        new_since = (self.today - timedelta(days=NEW_DAYS - 1)).isoformat()
        late = {a["client_id"] for a in self.appointments.values() if self.day_of(a) >= active_since}
        total = sum(r["appointments_count"] for r in records)
        top = sorted(
            (r for r in records if r["appointments_count"]),
            key=lambda r: (-r["appointments_count"], _descending(r["last_appointment"]), r["client_id"]),
        )[:TOP_CLIENTS]
        return {
            "total_clients": len(records),
            "active_clients": sum(1 for r in records if r["created_at"][:10] >= active_since or r["client_id"] in late),
            "clients_with_appointments": sum(1 for r in records if r["appointments_count"] > 0),
            "new_clients_last_30_days": sum(1 for r in records if r["created_at"][:10] >= new_since),
            "repeat_clients": sum(1 for r in records if r["appointments_count"] > 1),
            "average_appointments_per_client": round(total / len(records), 2) if records else 0.0,
            "top_clients": [
                {
                    "client_id": r["client_id"],
                    "client_name": f"{r['client_firstname']} {r['client_lastname']}",
                    "appointments_count": r["appointments_count"],
                    "last_appointment": r["last_appointment"],
                }
                for r in top
            ],
        }


@cache
def _local_times(start_ts: int, end_ts: int, tz: str) -> tuple[str, str, str]:
    start, end = local(start_ts, tz), local(end_ts, tz)
    return start.date().isoformat(), start.strftime("%H:%M:%S"), end.strftime("%H:%M:%S")


def _descending(day: str) -> tuple[int, ...]:
    """A sort key that orders YYYY-MM-DD days latest first."""
    return tuple(-ord(ch) for ch in day)
