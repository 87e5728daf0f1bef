"""Cached GET answers never outlive the data or the clock they were computed from."""

from __future__ import annotations

import threading

import pytest
from conftest import DEFAULT_TOKEN, Api
from server import running
from test_control import booking, future_free_slot

from mockserver.client import SandboxClient


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


@pytest.mark.slow
def test_the_served_single_worker_sees_its_own_writes_rules_and_clock():
    """One worker is the only writer of its databases, so its caches are keyed by its own commits alone
    (StorageMode.sole_writer): a booking, a rule and a clock move must each still show on the next GET."""
    with running() as (_, url):
        client = SandboxClient(url, token=DEFAULT_TOKEN)

        def call(method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
            answer = client.request(method, path, json=body)
            return answer.status_code, answer.json()

        _, slots = call("GET", "/api/slots?calendar_id=1&date_from=2025-06-20&per_page=100")
        slot, other = [s for s in slots["data"] if s["is_available"]][:2]
        calendar = "/api/calendars/1"
        total = call("GET", calendar)[1]["data"]["total_appointments"]
        assert call("GET", calendar)[1]["data"]["total_appointments"] == total  # cached
        assert call("POST", "/api/appointment", booking(slot))[0] == 200
        assert call("GET", calendar)[1]["data"]["total_appointments"] == total + 1
        path = f"/api/slots/{other['slot_id']}"
        assert call("GET", path)[1]["data"]["is_available"] is True
        assert call("POST", "/__mock/rules", {"path": path, "error_code": "SLOT_NOT_FOUND"})[0] in (200, 201)
        status, body = call("GET", path)
        assert (status, body["error_code"]) == (404, "SLOT_NOT_FOUND")
        assert call("DELETE", "/__mock/rules")[0] == 200
        assert call("GET", path)[1]["data"]["is_available"] is True
        assert call("POST", "/__mock/clock/freeze", {"at": "2025-07-30T09:00:00+02:00"})[0] == 200
        assert call("GET", path)[1]["data"]["is_available"] is False  # in the past now
