"""An integrator's tests against the sandbox, with the tap4book pytest plugin (installed with the package).

Run: pytest docs/examples/test_booking_example.py   (add -n 4 with pytest-xdist: each worker is isolated)
"""

import pytest


@pytest.fixture(scope="session")
def tap4book_settings():
    # Freeze the clock at the documentation's date so that the dataset's days are known.
    return {"now": "2025-06-07T15:30:00+02:00", "log_format": "off"}


def first_free_slot(tap4book, day="2025-06-20"):
    slots = tap4book.get("/api/slots", params={"calendar_id": 1, "date_from": day}).json()["data"]
    return next(slot for slot in slots if slot["is_available"])


def book(tap4book, slot, firstname, lastname, email, phone):
    """POST /api/appointment, as the code under test would."""
    body = {
        "calendar_id": slot["calendar_id"],
        "slot_id": slot["slot_id"],
        "client_firstname": firstname,
        "client_lastname": lastname,
        "client_email": email,
        "client_phone": phone,
    }
    return tap4book.post("/api/appointment", json=body)


def test_booking_flow(tap4book):
    slot = first_free_slot(tap4book)
    booked = book(tap4book, slot, "Jean", "Dupont", "jean.dupont@example.com", "+33123456789")
    assert booked.status_code == 200
    appointment = booked.json()["data"]["appointment"]

    confirmed = tap4book.put(f"/api/appointment/{appointment['appointment_id']}", json={"status": "confirmed"})
    assert confirmed.json()["data"]["appointment"]["status"] == "confirmed"

    # The sandbox saw exactly one booking request, with this body.
    calls = tap4book.journal(method="POST", path="/api/appointment")
    assert len(calls) == 1 and calls[0]["body"]["slot_id"] == slot["slot_id"]


def test_my_code_handles_a_full_slot(tap4book):
    tap4book.add_rule(method="POST", path="/api/appointment", error_code="SLOT_UNAVAILABLE", times=1)
    slot = first_free_slot(tap4book)
    refused = book(tap4book, slot, "Marie", "Martin", "marie.martin@example.com", "+33612345678")
    assert refused.status_code == 409
    assert refused.json()["error_code"] == "SLOT_UNAVAILABLE"


def test_yesterday_cannot_be_booked(tap4book):
    slot = first_free_slot(tap4book, day="2025-06-10")
    tap4book.advance("5d")
    refused = book(tap4book, slot, "Paul", "Durand", "paul.durand@example.com", "+33699887766")
    assert refused.json()["error_code"] == "SLOT_IN_PAST"


def test_each_test_starts_from_the_seeded_data(tap4book):
    assert tap4book.journal_count() == 0
    assert tap4book.clock()["now"] == "2025-06-07T15:30:00+02:00"
