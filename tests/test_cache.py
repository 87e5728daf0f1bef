"""Cached GET answers never outlive the data or the clock they were computed from."""

from __future__ import annotations

import threading

from conftest import Api
from test_control import booking, future_free_slot


def test_a_write_through_another_connection_invalidates_the_cache(app, api):
    slot = future_free_slot(api)
    path = f"/api/slots/{slot['slot_id']}"
    assert api.data(path)["booked_appointments"] == slot["booked_appointments"]  # cached now, in this thread

    def book_from_another_thread():  # another thread has its own database connection
        other = Api(app.test_client())
        assert other.post("/api/appointment", booking(slot)).status_code == 200

    worker = threading.Thread(target=book_from_another_thread)
    worker.start()
    worker.join()
    assert api.data(path)["booked_appointments"] == slot["booked_appointments"] + 1


def test_a_write_through_the_same_connection_invalidates_the_cache(api):
    slot = future_free_slot(api)
    before = api.get("/api/calendars/1").get_data()
    assert api.get("/api/calendars/1").get_data() == before
    api.post("/api/appointment", booking(slot))
    assert (
        api.data("/api/calendars/1")["total_appointments"]
        == 1 + __import__("json").loads(before)["data"]["total_appointments"]
    )


def test_moving_the_clock_recomputes_clock_dependent_answers(api, client):
    slot = future_free_slot(api, day="2025-06-10")
    assert api.data(f"/api/slots/{slot['slot_id']}")["is_available"] is True
    client.post("/__mock/clock/freeze", json={"at": "2025-06-12T09:00:00+02:00"})
    assert api.data(f"/api/slots/{slot['slot_id']}")["is_available"] is False


def test_a_reset_invalidates_the_cache(api, client):
    slot = future_free_slot(api)
    api.post("/api/appointment", booking(slot))
    booked = api.data(f"/api/slots/{slot['slot_id']}")["booked_appointments"]
    client.post("/__mock/reset", json={})
    assert api.data(f"/api/slots/{slot['slot_id']}")["booked_appointments"] == booked - 1


def test_debug_answers_are_measured_each_time(debug_api):
    first = debug_api.get("/api/calendars").get_json()["debug"]
    second = debug_api.get("/api/calendars").get_json()["debug"]
    assert first["query_count"] > 0 and second["query_count"] > 0
