from __future__ import annotations

import pytest
from conftest import assert_error


def test_slots_of_a_day_are_in_time_order_with_their_booking_counts(api):
    body = api.get("/api/slots", calendar_id=1, date_from="2025-06-16").get_json()
    slots = body["data"]
    assert body["message"] == "Available slots retrieved successfully"
    assert slots and {s["date"] for s in slots} == {"2025-06-16"}
    assert [s["start_time"] for s in slots] == sorted(s["start_time"] for s in slots)
    assert all(s["calendar_id"] == 1 for s in slots)
    for slot in slots:
        assert 0 <= slot["booked_appointments"] <= slot["capacity"]
        assert slot["is_available"] == (slot["booked_appointments"] < slot["capacity"])
    assert list(slots[0]) == [
        "slot_id",
        "calendar_id",
        "date",
        "start_time",
        "end_time",
        "capacity",
        "is_available",
        "booked_appointments",
        "created_at",
    ]


def test_slots_follow_opening_hours_with_a_lunch_break(api):
    slots = api.data("/api/slots", calendar_id=1, date_from="2025-06-16", per_page=100)
    starts = [s["start_time"] for s in slots]
    assert all("08:00:00" <= t < "19:00:00" for t in starts)
    assert not any("12:30:00" <= t < "13:30:00" for t in starts)


def test_past_slots_are_never_available(api):
    slots = api.data("/api/slots", calendar_id=1, date_from="2025-06-02", date_to="2025-06-06", per_page=500)
    assert slots and not any(s["is_available"] for s in slots)


def test_slot_range_defaults_to_one_day_and_spans_several(api):
    one = api.get("/api/slots", calendar_id=1, date_from="2025-06-16").get_json()["pagination"]["total"]
    week = api.get("/api/slots", calendar_id=1, date_from="2025-06-16", date_to="2025-06-20").get_json()
    assert week["pagination"]["total"] > one
    assert {s["date"] for s in week["data"]} <= {f"2025-06-{d}" for d in range(16, 21)}


def test_capacities_vary_and_some_exceed_one(api):
    capacities = {
        s["capacity"]
        for c in (1, 2, 3)
        for s in api.data("/api/slots", calendar_id=c, date_from="2025-06-09", date_to="2025-06-21", per_page=1000)
    }
    assert 1 in capacities and max(capacities) > 1


def test_reunion_calendar_shows_local_times_of_its_own_zone(api):
    calendar = api.data("/api/calendars/4")
    assert calendar["timezone"] == "Indian/Reunion"
    slots = api.data("/api/slots", calendar_id=4, date_from="2025-06-16")
    assert slots[0]["start_time"] >= "08:00:00"


def test_slot_detail_adds_calendar_name(api):
    slot = api.data("/api/slots", calendar_id=2, date_from="2025-06-16")[0]
    body = api.get(f"/api/slots/{slot['slot_id']}").get_json()
    assert body["message"] == "Slot retrieved successfully"
    assert body["data"]["calendar_name"] == "Cabinet Secondaire"
    assert body["data"]["updated_at"]


def test_missing_calendar_id_is_the_documented_error(api):
    body = assert_error(api.get("/api/slots", date_from="2025-06-16"), "MISSING_CALENDAR_ID", 400)
    assert body["message"] == "calendar_id parameter is required"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"calendar_id": 1}, "INVALID_PARAMETER"),
        ({"calendar_id": "x", "date_from": "2025-06-16"}, "INVALID_PARAMETER"),
        ({"calendar_id": 1, "date_from": "16/06/2025"}, "INVALID_DATE_FORMAT"),
        ({"calendar_id": 1, "date_from": "2025-02-30"}, "INVALID_DATE_FORMAT"),
        ({"calendar_id": 1, "date_from": "2025-06-16", "date_to": "2025-06-15"}, "INVALID_PARAMETER"),
        ({"calendar_id": 1, "date_from": "2025-01-01", "date_to": "2026-01-02"}, "DATE_RANGE_TOO_LARGE"),
    ],
)
def test_slot_parameters_are_validated(api, params, code):
    assert_error(api.get("/api/slots", **params), code, 400)


def test_slot_range_of_exactly_365_days_is_allowed(api):
    assert api.get("/api/slots", calendar_id=1, date_from="2025-01-01", date_to="2026-01-01").status_code == 200


def test_unknown_slot_and_calendar(api):
    assert_error(api.get("/api/slots/99999999"), "SLOT_NOT_FOUND", 404)
    assert_error(api.get("/api/slots", calendar_id=999, date_from="2025-06-16"), "CALENDAR_NOT_FOUND", 404)
