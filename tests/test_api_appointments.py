from __future__ import annotations

from collections import Counter

import pytest
from conftest import TODAY, assert_error

FIELDS = [
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
]


def test_appointments_have_the_documented_fields_in_chronological_order(api):
    body = api.get("/api/appointments").get_json()
    assert body["message"] == "Appointments retrieved successfully"
    assert len(body["data"]) == 50
    assert list(body["data"][0]) == FIELDS
    moments = [(a["date"], a["start_time"]) for a in body["data"] if a["calendar_id"] != 4]
    assert moments == sorted(moments)
    assert body["pagination"]["total"] > 500


def test_every_status_appears_in_the_past_and_the_future(api):
    every = api.all("/api/appointments")
    past = Counter(a["status"] for a in every if a["date"] < TODAY)
    future = Counter(a["status"] for a in every if a["date"] > TODAY)
    assert set(past) == {"pending", "confirmed", "cancelled", "completed"}
    assert {"pending", "confirmed", "cancelled"} <= set(future)
    assert "completed" not in future
    assert min(a["date"] for a in every) >= "2025-05-08"
    assert max(a["date"] for a in every) <= "2025-07-07"


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"calendar_id": 2}, lambda a: a["calendar_id"] == 2),
        ({"status": "cancelled"}, lambda a: a["status"] == "cancelled"),
        ({"status": "pending,completed"}, lambda a: a["status"] in ("pending", "completed")),
        ({"date_from": "2025-06-10"}, lambda a: a["date"] >= "2025-06-10"),
        ({"date_to": "2025-06-01"}, lambda a: a["date"] <= "2025-06-01"),
        ({"client_id": 1002}, lambda a: a["client_id"] == 1002),
    ],
)
def test_each_filter_really_filters(api, params, check):
    every = api.all("/api/appointments")
    filtered = api.all("/api/appointments", **params)
    assert filtered and all(check(a) for a in filtered)
    assert len(filtered) == sum(1 for a in every if check(a))


def test_documented_filter_example_paginates(api):
    body = api.get("/api/appointments", calendar_id=1, status="confirmed", page=2, per_page=20).get_json()
    total = body["pagination"]["total"]
    assert body["pagination"] == {
        "total": total,
        "page": 2,
        "per_page": 20,
        "total_pages": (total + 19) // 20,
        "has_more": total > 40,
    }
    assert all(a["status"] == "confirmed" and a["calendar_id"] == 1 for a in body["data"])


def test_pages_do_not_overlap_and_cover_everything(api):
    first = api.data("/api/appointments", per_page=7, page=1)
    second = api.data("/api/appointments", per_page=7, page=2)
    whole = api.data("/api/appointments", per_page=14)
    assert [a["appointment_id"] for a in first + second] == [a["appointment_id"] for a in whole]


def test_appointment_detail(api):
    some = api.data("/api/appointments", per_page=1)[0]
    body = api.get(f"/api/appointments/{some['appointment_id']}").get_json()
    assert body["message"] == "Appointment retrieved successfully"
    assert body["data"] == some


def test_calendar_scoped_appointments_carry_meta(api):
    body = api.get("/api/appointments/1", status="confirmed", date_from="2025-06-01").get_json()
    assert body["message"] == "Calendar appointments retrieved successfully"
    assert body["meta"] == {"calendar_id": 1}
    assert all(a["calendar_id"] == 1 and a["status"] == "confirmed" and a["date"] >= "2025-06-01" for a in body["data"])
    same = api.get("/api/appointments", calendar_id=1, status="confirmed", date_from="2025-06-01").get_json()
    assert body["pagination"] == same["pagination"]


def test_scope_parameter_overrides_the_id_rule(api):
    some = api.data("/api/appointments", per_page=1)[0]
    assert api.get(f"/api/appointments/{some['appointment_id']}", scope="calendar").status_code == 404
    assert_error(api.get("/api/appointments/1", scope="detail"), "RESOURCE_NOT_FOUND", 404)
    assert_error(api.get("/api/appointments/1", scope="sideways"), "INVALID_PARAMETER", 400)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"status": "done"}, "INVALID_PARAMETER"),
        ({"page": 0}, "INVALID_PARAMETER"),
        ({"page": "two"}, "INVALID_PARAMETER"),
        ({"per_page": 1001}, "INVALID_PARAMETER"),
        ({"per_page": 0}, "INVALID_PARAMETER"),
        ({"calendar_id": "1.5"}, "INVALID_PARAMETER"),
        ({"date_from": "2025-6-1"}, "INVALID_DATE_FORMAT"),
        ({"date_from": "2025-01-01", "date_to": "2026-06-01"}, "DATE_RANGE_TOO_LARGE"),
        ({"date_from": "2025-06-10", "date_to": "2025-06-01"}, "INVALID_PARAMETER"),
    ],
)
def test_appointment_parameters_are_validated(api, params, code):
    assert_error(api.get("/api/appointments", **params), code, 400)


def test_per_page_maximum_is_accepted(api):
    body = api.get("/api/appointments", per_page=1000).get_json()
    assert body["pagination"]["per_page"] == 1000
    assert len(body["data"]) == min(1000, body["pagination"]["total"])


def test_unknown_appointment_and_unknown_calendar_scope(api):
    assert_error(api.get("/api/appointments/999999"), "RESOURCE_NOT_FOUND", 404)
    assert_error(api.get("/api/appointments/998"), "CALENDAR_NOT_FOUND", 404)
