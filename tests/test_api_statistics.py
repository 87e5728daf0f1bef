from __future__ import annotations

from collections import Counter

import pytest
from conftest import TODAY, assert_error


def _check_consistent(data):
    summary = data["summary"]
    total = summary["total_appointments"]
    assert (
        summary["confirmed_appointments"] + summary["pending_appointments"] + summary["cancelled_appointments"] == total
    )
    assert summary["completed_appointments"] <= summary["confirmed_appointments"]
    assert summary["success_rate"] == (round((total - summary["cancelled_appointments"]) / total, 2) if total else 0)
    days = data["daily_breakdown"]
    assert sum(d["appointments_count"] for d in days) == total
    assert sum(d["confirmed_count"] for d in days) == summary["confirmed_appointments"]
    assert sum(d["cancelled_count"] for d in days) == summary["cancelled_appointments"]
    assert summary["days_with_appointments"] == sum(1 for d in days if d["appointments_count"])


@pytest.mark.parametrize(
    ("params", "start", "end"),
    [
        ({"period": "today"}, TODAY, TODAY),
        ({"period": "last7days"}, "2025-06-01", TODAY),
        ({"period": "last15days"}, "2025-05-24", TODAY),
        ({"period": "last30days"}, "2025-05-09", TODAY),
        ({"period": "specific_day", "date": "2025-06-16"}, "2025-06-16", "2025-06-16"),
        (
            {"period": "custom", "start_date": "2025-06-01", "end_date": "2025-06-30"},
            "2025-06-01",
            "2025-06-30",
        ),
    ],
)
def test_every_period_has_real_consistent_numbers(api, params, start, end):
    body = api.get("/api/statistics/appointments", **params).get_json()
    assert body["message"] == "Appointment statistics retrieved successfully"
    data = body["data"]
    assert (data["period"], data["start_date"], data["end_date"]) == (params["period"], start, end)
    assert next(d["date"] for d in data["daily_breakdown"]) == start
    assert data["daily_breakdown"][-1]["date"] == end
    _check_consistent(data)
    assert data["summary"]["total_appointments"] > 0


def test_statistics_match_the_appointment_rows(api):
    rows = api.all("/api/appointments", date_from="2025-06-01", date_to=TODAY)
    data = api.data("/api/statistics/appointments", period="last7days")
    counts = Counter(a["status"] for a in rows)
    summary = data["summary"]
    assert summary["total_appointments"] == len(rows)
    assert summary["cancelled_appointments"] == counts["cancelled"]
    assert summary["completed_appointments"] == counts["completed"]
    assert summary["pending_appointments"] == counts["pending"]
    assert summary["unique_clients"] == len({a["client_id"] for a in rows})
    assert summary["calendars_with_appointments"] == len({a["calendar_id"] for a in rows})


def test_calendar_filter_and_calendar_endpoint_agree(api):
    filtered = api.data("/api/statistics/appointments", period="last30days", calendar_id=1)
    scoped = api.get("/api/statistics/1", period="last30days").get_json()
    assert scoped["message"] == "Calendar statistics retrieved successfully"
    assert scoped["data"]["calendar_id"] == 1
    assert scoped["data"]["summary"] == filtered["summary"]
    assert scoped["data"]["summary"]["calendars_with_appointments"] == 1
    _check_consistent(scoped["data"])


def test_calendar_statistics_define_utilization(api):
    data = api.data("/api/statistics/calendars")
    assert (data["total_calendars"], data["active_calendars"], data["inactive_calendars"]) == (5, 4, 1)
    calendars = {c["calendar_id"]: c for c in api.data("/api/calendars")}
    for row in data["calendars"]:
        assert row["appointments_count"] == calendars[row["calendar_id"]]["total_appointments"]
        assert row["slots_count"] == calendars[row["calendar_id"]]["total_slots"]
        assert row["utilization_rate"] == round(row["appointments_count"] / row["slots_count"], 2)
    total = sum(c["appointments_count"] for c in data["calendars"])
    assert data["average_appointments_per_calendar"] == round(total / 5, 2)


def test_client_statistics(api):
    data = api.data("/api/statistics/clients")
    clients = api.all("/api/clients")
    assert data["total_clients"] == 50
    assert data["clients_with_appointments"] == sum(1 for c in clients if c["appointments_count"])
    assert data["repeat_clients"] == sum(1 for c in clients if c["appointments_count"] > 1)
    assert data["new_clients_last_30_days"] == sum(1 for c in clients if c["created_at"][:10] >= "2025-05-09")
    top = data["top_clients"]
    assert len(top) == 10
    assert [t["appointments_count"] for t in top] == sorted((t["appointments_count"] for t in top), reverse=True)
    assert top[0]["appointments_count"] == max(c["appointments_count"] for c in clients)
    assert " " in top[0]["client_name"]


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/api/statistics/appointments", {}, "INVALID_PARAMETER"),
        ("/api/statistics/appointments", {"period": "yesterday"}, "INVALID_PARAMETER"),
        ("/api/statistics/appointments", {"period": "specific_day"}, "INVALID_PARAMETER"),
        (
            "/api/statistics/appointments",
            {"period": "specific_day", "date": "15-06-2025"},
            "INVALID_DATE_FORMAT",
        ),
        (
            "/api/statistics/appointments",
            {"period": "custom", "start_date": "2025-06-01"},
            "INVALID_PARAMETER",
        ),
        (
            "/api/statistics/appointments",
            {"period": "custom", "start_date": "2024-01-01", "end_date": "2025-06-01"},
            "DATE_RANGE_TOO_LARGE",
        ),
        ("/api/statistics/1", {}, "INVALID_PARAMETER"),
        ("/api/statistics/x", {"period": "today"}, "INVALID_PARAMETER"),
    ],
)
def test_statistics_parameters_are_validated(api, path, params, code):
    assert_error(api.get(path, **params), code, 400)


def test_statistics_of_unknown_calendar(api):
    assert_error(api.get("/api/statistics/999", period="today"), "CALENDAR_NOT_FOUND", 404)
    assert_error(api.get("/api/statistics/appointments", period="today", calendar_id=999), "CALENDAR_NOT_FOUND", 404)
