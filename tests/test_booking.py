"""POST /api/appointment and PUT /api/appointment/{id}: the whole flow, every error, the state after each."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import NOW, Api, assert_error, csv_rows
from test_control import booking, future_free_slot

from mockserver.render import FORMATS


def snapshot(api: Api, slot_id: int) -> dict:
    """Everything a booking may move: the slot, calendar totals, statistics and client count."""
    slot = api.data(f"/api/slots/{slot_id}")
    return {
        "slot": (slot["booked_appointments"], slot["is_available"]),
        "calendar": api.data(f"/api/calendars/{slot['calendar_id']}")["total_appointments"],
        "stats": api.data(
            "/api/statistics/appointments", period="custom", start_date="2025-06-01", end_date="2025-07-31"
        )["summary"],
        "clients": api.get("/api/clients", per_page=1).get_json()["pagination"]["total"],
        "appointments": api.get("/api/appointments", per_page=1).get_json()["pagination"]["total"],
    }


def test_booking_takes_a_place_and_every_view_follows(api):
    slot = future_free_slot(api)
    before = snapshot(api, slot["slot_id"])
    response = api.post("/api/appointment", booking(slot))
    body = response.get_json()
    assert response.status_code == 200
    assert body["message"] == "Appointment created successfully"
    created = body["data"]["appointment"]
    assert (created["status"], created["slot_id"], created["date"]) == (
        "pending",
        slot["slot_id"],
        "2025-06-20",
    )
    assert created["created_at"] == created["updated_at"] == NOW
    assert created["calendar_name"] == "Cabinet Principal"
    after = snapshot(api, slot["slot_id"])
    assert after["slot"][0] == before["slot"][0] + 1
    assert after["calendar"] == before["calendar"] + 1
    assert after["stats"]["total_appointments"] == before["stats"]["total_appointments"] + 1
    assert after["stats"]["pending_appointments"] == before["stats"]["pending_appointments"] + 1
    assert after["clients"] == before["clients"] + 1
    assert after["appointments"] == before["appointments"] + 1
    client = api.data("/api/clients", email="test.client@example.org")[0]
    assert (client["appointments_count"], client["last_appointment"]) == (1, "2025-06-20")
    assert api.data(f"/api/appointments/{created['appointment_id']}") == created
    assert created["appointment_id"] in [
        a["appointment_id"]
        for a in api.all("/api/appointments", status="pending", date_from="2025-06-20", date_to="2025-06-20")
    ]


def test_full_flow_find_book_confirm_move_cancel(api):
    slot = future_free_slot(api)
    created = api.post("/api/appointment", booking(slot)).get_json()["data"]["appointment"]
    aid = created["appointment_id"]
    confirmed = api.put(f"/api/appointment/{aid}", {"status": "confirmed"}).get_json()
    assert confirmed["message"] == "Appointment updated successfully"
    assert confirmed["data"]["appointment"]["status"] == "confirmed"
    other = next(
        s for s in api.data("/api/slots", calendar_id=1, date_from="2025-06-24", per_page=100) if s["is_available"]
    )
    moved = api.put(f"/api/appointment/{aid}", {"slot_id": other["slot_id"]}).get_json()["data"]["appointment"]
    assert (moved["slot_id"], moved["date"], moved["status"]) == (other["slot_id"], "2025-06-24", "confirmed")
    assert moved["created_at"] == created["created_at"]
    assert api.data(f"/api/slots/{slot['slot_id']}")["booked_appointments"] == slot["booked_appointments"]
    assert api.data(f"/api/slots/{other['slot_id']}")["booked_appointments"] == other["booked_appointments"] + 1
    assert api.data("/api/clients", email="test.client@example.org")[0]["last_appointment"] == "2025-06-24"
    cancelled = api.put(f"/api/appointment/{aid}", {"status": "cancelled"}).get_json()["data"]["appointment"]
    assert cancelled["status"] == "cancelled"
    freed = api.data(f"/api/slots/{other['slot_id']}")
    assert freed["booked_appointments"] == other["booked_appointments"]
    assert freed["is_available"] is True


def test_existing_client_is_matched_by_email_case_insensitively(api):
    slot = future_free_slot(api)
    jean = api.data("/api/clients/1001")
    body = {**booking(slot, "JEAN.Dupont@Example.com"), "client_firstname": "Jean"}
    created = api.post("/api/appointment", body).get_json()["data"]["appointment"]
    assert created["client_id"] == 1001
    assert api.data("/api/clients/1001")["appointments_count"] == jean["appointments_count"] + 1


def test_the_last_place_of_a_group_slot(api):
    group = next(
        s
        for s in api.data("/api/slots", calendar_id=3, date_from="2025-06-23", date_to="2025-06-27", per_page=100)
        if s["capacity"] > 1 and s["is_available"]
    )
    for seat in range(group["capacity"] - group["booked_appointments"]):
        assert api.post("/api/appointment", booking(group, f"seat{seat}@example.org")).status_code == 200
    assert api.data(f"/api/slots/{group['slot_id']}")["is_available"] is False
    assert_error(api.post("/api/appointment", booking(group, "late@example.org")), "SLOT_UNAVAILABLE", 409)


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ({"client_email": None}, "MISSING_REQUIRED_FIELD", 400),
        ({"client_firstname": "   "}, "MISSING_REQUIRED_FIELD", 400),
        ({"slot_id": None}, "MISSING_REQUIRED_FIELD", 400),
        ({"calendar_id": "1"}, "INVALID_JSON", 400),
        ({"slot_id": 1.5}, "INVALID_JSON", 400),
        ({"client_lastname": ["Dupont"]}, "INVALID_JSON", 400),
        ({"calendar_id": True}, "INVALID_JSON", 400),
        ({"client_email": "not-an-email"}, "INVALID_PARAMETER", 400),
        ({"client_phone": "call me"}, "INVALID_PARAMETER", 400),
        ({"status": "maybe"}, "INVALID_PARAMETER", 400),
        ({"calendar_id": 999}, "CALENDAR_NOT_FOUND", 404),
        ({"calendar_id": 5}, "CALENDAR_NOT_FOUND", 404),
        ({"slot_id": 99999999}, "SLOT_NOT_FOUND", 404),
        ({"calendar_id": 2}, "SLOT_NOT_FOUND", 404),
    ],
)
def test_refused_bookings_change_nothing(api, change, code, status):
    slot = future_free_slot(api)
    before = snapshot(api, slot["slot_id"])
    body = {k: v for k, v in {**booking(slot), **change}.items() if v is not None}
    response = api.post("/api/appointment", body)
    error = assert_error(response, code, status)
    if code == "MISSING_REQUIRED_FIELD":
        missing = next(k for k, v in change.items())
        assert missing in error["message"]
    assert snapshot(api, slot["slot_id"]) == before


def test_booking_a_full_slot_and_a_past_slot(api):
    full = next(
        s for s in api.data("/api/slots", calendar_id=1, date_from="2025-06-09", per_page=100) if not s["is_available"]
    )
    assert_error(api.post("/api/appointment", booking(full)), "SLOT_UNAVAILABLE", 409)
    past = api.data("/api/slots", calendar_id=1, date_from="2025-06-06")[0]
    assert_error(api.post("/api/appointment", booking(past)), "SLOT_IN_PAST", 409)


def test_slot_in_past_follows_the_instant_not_the_date(api, client):
    # 07:30 in Paris is 09:30 in La Réunion (UTC+4, no DST): that calendar's 08:00 slot has begun,
    # although 08:00 is still ahead on a Paris clock.
    client.post("/__mock/clock/freeze", json={"at": "2025-06-10T07:30:00+02:00"})
    slots = api.data("/api/slots", calendar_id=4, date_from="2025-06-10", per_page=100)
    started = [s for s in slots if s["start_time"] < "09:30:00"]
    ahead = [s for s in slots if s["start_time"] >= "09:30:00" and s["is_available"]]
    assert started and ahead
    assert not any(s["is_available"] for s in started)
    assert_error(api.post("/api/appointment", booking(started[-1])), "SLOT_IN_PAST", 409)
    assert api.post("/api/appointment", booking(ahead[0])).status_code == 200


@pytest.mark.parametrize(
    ("raw", "content_type", "code"),
    [
        (b"{not json", "application/json", "INVALID_JSON"),
        (b"[1, 2]", "application/json", "INVALID_JSON"),
        (b"null", "application/json", "INVALID_JSON"),
        (b'{"calendar_id": 1', "text/plain", "INVALID_JSON"),
        (b"\xff\xfe", "application/json", "INVALID_JSON"),
        (b"", "application/json", "INVALID_JSON"),
    ],
)
def test_unreadable_bodies_are_invalid_json(api, raw, content_type, code):
    response = api.client.post("/api/appointment", data=raw, content_type=content_type, headers=api.headers())
    assert_error(response, code, 400)


def test_oversized_body_is_413_not_a_crash(api):
    slot = future_free_slot(api)
    body = {**booking(slot), "notes": "x" * 100_000}
    assert_error(api.post("/api/appointment", body), "PAYLOAD_TOO_LARGE", 413)
    assert api.get("/api/health").status_code == 200


@pytest.mark.parametrize(
    ("first", "then", "code"),
    [
        ("pending", {"status": "nope"}, "INVALID_PARAMETER"),
        ("pending", {}, "MISSING_REQUIRED_FIELD"),
        ("pending", {"slot_id": 99999999}, "SLOT_NOT_FOUND"),
        ("pending", {"slot_id": "other-calendar"}, "SLOT_NOT_FOUND"),
        ("pending", {"slot_id": "past"}, "SLOT_IN_PAST"),
        ("pending", {"slot_id": "full"}, "SLOT_UNAVAILABLE"),
    ],
)
def test_refused_changes_keep_the_appointment_as_it_was(api, first, then, code):
    slot = future_free_slot(api)
    aid = api.post("/api/appointment", {**booking(slot), "status": "pending"}).get_json()["data"]["appointment"][
        "appointment_id"
    ]
    if first == "cancelled":
        api.put(f"/api/appointment/{aid}", {"status": "cancelled"})
    targets = {
        "other": future_free_slot(api, "2025-06-25")["slot_id"],
        "other-calendar": future_free_slot(api, "2025-06-25", calendar_id=2)["slot_id"],
        "past": api.data("/api/slots", calendar_id=1, date_from="2025-06-06")[0]["slot_id"],
        "full": next(
            s
            for s in api.data("/api/slots", calendar_id=1, date_from="2025-06-09", per_page=100)
            if not s["is_available"]
        )["slot_id"],
    }
    change = {k: targets.get(v, v) if k == "slot_id" else v for k, v in then.items()}
    before = api.data(f"/api/appointments/{aid}")
    slots_before = {k: api.data(f"/api/slots/{v}")["booked_appointments"] for k, v in targets.items()}
    assert_error(
        api.put(f"/api/appointment/{aid}", change),
        code,
        404 if "NOT_FOUND" in code else 409 if code.startswith("SLOT_") else 400,
    )
    assert api.data(f"/api/appointments/{aid}") == before
    assert {k: api.data(f"/api/slots/{v}")["booked_appointments"] for k, v in targets.items()} == slots_before


def test_unknown_appointment_and_bad_id(api):
    assert_error(api.put("/api/appointment/999999", {"status": "confirmed"}), "RESOURCE_NOT_FOUND", 404)
    assert_error(api.put("/api/appointment/abc", {"status": "confirmed"}), "INVALID_PARAMETER", 400)


def test_completing_after_the_slot_has_ended(api, client):
    slot = future_free_slot(api)
    aid = api.post("/api/appointment", booking(slot)).get_json()["data"]["appointment"]["appointment_id"]
    client.post("/__mock/clock/freeze", json={"at": "2025-06-21T09:00:00+02:00"})
    done = api.put(f"/api/appointment/{aid}", {"status": "completed"}).get_json()["data"]["appointment"]
    assert done["status"] == "completed"
    assert done["updated_at"] == "2025-06-21T09:00:00+02:00"


STATUSES = ("pending", "confirmed", "cancelled", "completed")


@pytest.mark.parametrize("first", STATUSES)
@pytest.mark.parametrize("then", STATUSES)
def test_every_documented_status_may_follow_any_other_and_places_follow(api, first, then):
    """The documentation lists the four statuses for POST and PUT alike: by default each is accepted, from any
    status, in a future slot too (docs/interpretation.md#status-transitions); the slot's count follows."""
    slot = future_free_slot(api)
    created = api.post("/api/appointment", {**booking(slot), "status": first})
    assert created.status_code == 200, created.get_data(as_text=True)
    aid = created.get_json()["data"]["appointment"]["appointment_id"]
    held = {status: 0 if status == "cancelled" else 1 for status in STATUSES}
    assert api.data(f"/api/slots/{slot['slot_id']}")["booked_appointments"] == slot["booked_appointments"] + held[first]
    changed = api.put(f"/api/appointment/{aid}", {"status": then})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["data"]["appointment"]["status"] == then
    assert api.data(f"/api/slots/{slot['slot_id']}")["booked_appointments"] == slot["booked_appointments"] + held[then]


def test_leaving_cancelled_takes_a_place_or_finds_the_slot_full(api):
    slot = future_free_slot(api)  # capacity 1 on calendar 1
    first = api.post("/api/appointment", booking(slot)).get_json()["data"]["appointment"]["appointment_id"]
    api.put(f"/api/appointment/{first}", {"status": "cancelled"})
    other = api.post("/api/appointment", booking(slot, "other@example.org")).get_json()["data"]["appointment"]
    assert api.data(f"/api/slots/{slot['slot_id']}")["is_available"] is False
    before = api.data(f"/api/appointments/{first}")
    assert_error(api.put(f"/api/appointment/{first}", {"status": "confirmed"}), "SLOT_UNAVAILABLE", 409)
    assert api.data(f"/api/appointments/{first}") == before
    api.put(f"/api/appointment/{other['appointment_id']}", {"status": "cancelled"})
    assert api.put(f"/api/appointment/{first}", {"status": "confirmed"}).status_code == 200
    assert api.data(f"/api/slots/{slot['slot_id']}")["booked_appointments"] == 1


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("cancelled", {"status": "confirmed"}),
        ("cancelled", {"slot_id": "other"}),
        ("pending", {"status": "completed"}),
        ("completed", {"status": "pending"}),
    ],
)
@pytest.mark.parametrize("how", ["server", "tenant"])
def test_the_strict_lifecycle_is_an_opt_in(app, client, api, first, then, how):
    """--strict-lifecycle (or POST /__mock/settings for one tenant) refuses what a real practice would not."""
    if how == "server":
        app.extensions["tap4book"].config = replace(app.extensions["tap4book"].config, strict_lifecycle=True)
    else:
        reply = client.post("/__mock/settings", json={"strict_lifecycle": True}, headers=api.headers())
        assert reply.get_json()["data"] == {"tenant": "sandbox/default", "strict_lifecycle": True}
    slot = future_free_slot(api)
    if first == "completed":
        client.post("/__mock/settings", json={"strict_lifecycle": False}, headers=api.headers())
    aid = api.post("/api/appointment", {**booking(slot), "status": first}).get_json()["data"]["appointment"][
        "appointment_id"
    ]
    if first == "completed":
        client.post("/__mock/settings", json={"strict_lifecycle": True}, headers=api.headers())
    change = {"slot_id": future_free_slot(api, "2025-06-25")["slot_id"]} if then.get("slot_id") else then
    before = api.data(f"/api/appointments/{aid}")
    assert_error(api.put(f"/api/appointment/{aid}", change), "INVALID_PARAMETER", 400)
    assert api.data(f"/api/appointments/{aid}") == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_text_round_trips_in_every_format(api, fmt):
    slot = future_free_slot(api)
    names = {"client_firstname": '=HYPERLINK("http://x")', "client_lastname": "L'Hôte <b>&amp; 🎉 «ça»"}
    created = api.post("/api/appointment", {**booking(slot, "o'brien+tag@example.fr"), **names}).get_json()
    aid = created["data"]["appointment"]["appointment_id"]
    response = api.get(f"/api/appointments/{aid}", format=fmt)
    assert response.status_code == 200
    if fmt == "json":
        record = response.get_json()["data"]
        assert record["client_lastname"] == names["client_lastname"]
        assert record["client_firstname"] == names["client_firstname"]
    elif fmt == "xml":
        from lxml import etree

        root = etree.fromstring(response.get_data())
        assert root.findtext("data/client_lastname") == names["client_lastname"]
        assert root.findtext("data/client_email") == "o'brien+tag@example.fr"
    else:
        row = csv_rows(response)[0]
        assert row["client_lastname"] == names["client_lastname"]
        assert row["client_firstname"] == "'" + names["client_firstname"]  # defused for spreadsheets
        assert row["client_email"] == "o'brien+tag@example.fr"


def test_writes_work_in_debug_mode_on_the_debug_tenant(client, api, debug_api):
    slot = future_free_slot(debug_api)
    assert debug_api.post("/api/appointment", booking(slot)).status_code == 200
    assert len(debug_api.data("/api/clients", email="test.client@example.org")) == 1
    assert api.data("/api/clients", email="test.client@example.org") == []


def test_writes_need_a_token_outside_debug_mode(client):
    assert_error(Api(client, token=None).post("/api/appointment", {}), "AUTH_REQUIRED", 401)
