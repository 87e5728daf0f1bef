from __future__ import annotations

from conftest import NOW, assert_error


def test_calendars_match_the_documented_dataset(api):
    body = api.get("/api/calendars").get_json()
    calendars = body["data"]
    assert len(calendars) == 5
    assert body["pagination"] == {"total": 5, "page": 1, "per_page": 50, "total_pages": 1, "has_more": False}
    first, second = calendars[0], calendars[1]
    assert (first["calendar_name"], first["widgetID"], first["created_at"]) == (
        "Cabinet Principal",
        "widget_123_abc",
        "2024-01-15T09:00:00+01:00",
    )
    assert (second["calendar_name"], second["widgetID"]) == ("Cabinet Secondaire", "widget_456_def")
    assert [c["is_active"] for c in calendars].count(False) == 1
    assert list(first)[:7] == [
        "calendar_id",
        "calendar_name",
        "widgetID",
        "is_active",
        "created_at",
        "total_appointments",
        "total_slots",
    ]
    assert body["message"] == "Calendars retrieved successfully"
    assert body["timestamp"] == NOW


def test_calendar_totals_count_the_rows_behind_them(api):
    for calendar in api.data("/api/calendars"):
        cid = calendar["calendar_id"]
        appointments = api.get("/api/appointments", calendar_id=cid, per_page=1).get_json()["pagination"]["total"]
        assert calendar["total_appointments"] == appointments
        slots = api.get(
            "/api/slots", calendar_id=cid, date_from="2025-01-01", date_to="2025-12-31", per_page=1
        ).get_json()["pagination"]["total"]
        assert calendar["total_slots"] == slots


def test_calendar_detail_adds_updated_at(api):
    body = api.get("/api/calendars/1").get_json()
    assert body["message"] == "Calendar retrieved successfully"
    assert body["data"]["updated_at"] >= body["data"]["created_at"][:4]
    assert list(body["data"])[:6] == [
        "calendar_id",
        "calendar_name",
        "widgetID",
        "is_active",
        "created_at",
        "updated_at",
    ]


def test_calendar_pagination_splits_the_list(api):
    page2 = api.get("/api/calendars", page=2, per_page=2).get_json()
    assert [c["calendar_id"] for c in page2["data"]] == [3, 4]
    assert page2["pagination"] == {"total": 5, "page": 2, "per_page": 2, "total_pages": 3, "has_more": True}
    past_end = api.get("/api/calendars", page=9, per_page=2).get_json()
    assert past_end["data"] == [] and past_end["pagination"]["has_more"] is False


def test_unknown_calendar_is_calendar_not_found(api):
    assert_error(api.get("/api/calendars/999"), "CALENDAR_NOT_FOUND", 404)


def test_non_integer_calendar_id_is_invalid_parameter(api):
    body = assert_error(api.get("/api/calendars/abc"), "INVALID_PARAMETER", 400)
    assert "id" in body["message"]
