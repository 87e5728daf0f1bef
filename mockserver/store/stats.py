"""Statistics, computed live from the tenant database on every call.

Definitions (docs/interpretation.md#statistics), chosen so that the documentation's examples hold:
``confirmed + pending + cancelled == total`` (``completed`` is a confirmed appointment that took place, so it
is counted in ``confirmed`` and shown again on its own), ``success_rate == round((total - cancelled) /
total, 2)``, and ``utilization_rate == round(appointments / slots, 2)``. An appointment belongs to the
local date of its slot.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Any

from mockserver.statuses import STATUSES
from mockserver.store.queries.calendars import calendar_row

TOP_CLIENTS = 10
ACTIVE_DAYS = 90


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 2) if whole else 0.0


def appointments(conn: sqlite3.Connection, start: date, end: date, calendar_id: int | None = None) -> dict[str, Any]:
    """Totals and a daily breakdown over [start, end]; a calendar must exist (CALENDAR_NOT_FOUND otherwise)."""
    if calendar_id is not None:
        calendar_row(conn, calendar_id)
    where = "WHERE local_date BETWEEN ? AND ?"
    params: list[Any] = [start.isoformat(), end.isoformat()]
    if calendar_id is not None:
        where += " AND calendar_id = ?"
        params.append(calendar_id)
    per_day: dict[str, dict[str, int]] = {}
    for day, status, count in conn.execute(
        f"SELECT local_date, status, COUNT(*) FROM appointments {where} GROUP BY local_date, status", params
    ):
        per_day.setdefault(day, {})[status] = count
    if calendar_id is None:
        # One index probe per client and per calendar beats a DISTINCT over every appointment of the period.
        clients, calendars = conn.execute(
            "SELECT (SELECT COUNT(*) FROM clients c WHERE EXISTS (SELECT 1 FROM appointments a"
            " WHERE a.client_id = c.client_id AND a.local_date BETWEEN :start AND :end)),"
            " (SELECT COUNT(*) FROM calendars c WHERE EXISTS (SELECT 1 FROM appointments a"
            " WHERE a.calendar_id = c.calendar_id AND a.local_date BETWEEN :start AND :end))",
            {"start": params[0], "end": params[1]},
        ).fetchone()
    else:
        clients, calendars = conn.execute(
            f"SELECT COUNT(DISTINCT client_id), COUNT(DISTINCT calendar_id) FROM appointments {where}", params
        ).fetchone()
    totals = dict.fromkeys(STATUSES, 0)
    breakdown = []
    for offset in range((end - start).days + 1):  # no day after `end`: end may be 9999-12-31
        day = start + timedelta(days=offset)
        counts = per_day.get(day.isoformat(), {})
        for status, count in counts.items():
            totals[status] += count
        breakdown.append(
            {
                "date": day.isoformat(),
                "appointments_count": sum(counts.values()),
                "confirmed_count": counts.get("confirmed", 0) + counts.get("completed", 0),
                "cancelled_count": counts.get("cancelled", 0),
            }
        )
    total = sum(totals.values())
    summary = {
        "total_appointments": total,
        "confirmed_appointments": totals["confirmed"] + totals["completed"],
        "pending_appointments": totals["pending"],
        "cancelled_appointments": totals["cancelled"],
        "completed_appointments": totals["completed"],
        "calendars_with_appointments": calendars,
        "unique_clients": clients,
        "days_with_appointments": len(per_day),
        "success_rate": _rate(total - totals["cancelled"], total),
    }
    return {"summary": summary, "daily_breakdown": breakdown}


def calendars(conn: sqlite3.Connection) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT calendar_id, name, is_active, total_appointments, total_slots FROM calendars ORDER BY calendar_id"
    ).fetchall()
    active = sum(1 for row in rows if row[2])
    appointments_total = sum(row[3] for row in rows)
    return {
        "total_calendars": len(rows),
        "active_calendars": active,
        "inactive_calendars": len(rows) - active,
        "calendars_with_appointments": sum(1 for row in rows if row[3]),
        "average_appointments_per_calendar": round(appointments_total / len(rows), 2) if rows else 0.0,
        "calendars": [
            {
                "calendar_id": cid,
                "calendar_name": name,
                "appointments_count": count,
                "slots_count": slots,
                "utilization_rate": _rate(count, slots),
            }
            for cid, name, _, count, slots in rows
        ],
    }


def clients(conn: sqlite3.Connection, today: date) -> dict[str, Any]:
    active_since = (today - timedelta(days=ACTIVE_DAYS - 1)).isoformat()
    new_since = (today - timedelta(days=29)).isoformat()
    total, with_appointments, repeat, appointments_total, new = conn.execute(
        "SELECT COUNT(*), SUM(appointments_count > 0), SUM(appointments_count > 1), SUM(appointments_count),"
        " SUM(created_at >= ?) FROM clients",
        (new_since,),
    ).fetchone()
    active = conn.execute(
        "SELECT COUNT(*) FROM clients c WHERE c.created_at >= ? OR EXISTS ("
        " SELECT 1 FROM appointments a WHERE a.client_id = c.client_id AND a.local_date >= ?)",
        (active_since, active_since),
    ).fetchone()[0]
    top = conn.execute(
        "SELECT client_id, firstname || ' ' || lastname, appointments_count, last_appointment FROM clients"
        " WHERE appointments_count > 0 ORDER BY appointments_count DESC, last_appointment DESC, client_id"
        " LIMIT ?",
        (TOP_CLIENTS,),
    ).fetchall()
    return {
        "total_clients": total,
        "active_clients": active,
        "clients_with_appointments": with_appointments or 0,
        "new_clients_last_30_days": new or 0,
        "repeat_clients": repeat or 0,
        "average_appointments_per_client": round((appointments_total or 0) / total, 2) if total else 0.0,
        "top_clients": [
            {"client_id": cid, "client_name": name, "appointments_count": count, "last_appointment": last}
            for cid, name, count, last in top
        ],
    }
