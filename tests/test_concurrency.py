"""Exactly ``capacity`` bookings win a race for a slot, with every worker process sharing the state."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from conftest import DEFAULT_TOKEN
from server import running

from mockserver.client import SandboxClient

pytestmark = pytest.mark.slow


def _race(url: str, slot: dict, racers: int) -> Counter:
    barrier = threading.Barrier(racers)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def book(index: int) -> None:
        client = SandboxClient(url, token=DEFAULT_TOKEN)
        body = {
            "calendar_id": slot["calendar_id"],
            "slot_id": slot["slot_id"],
            "client_firstname": "Racer",
            "client_lastname": str(index),
            "client_email": f"racer{index}@example.org",
            "client_phone": "+33600000000",
        }
        barrier.wait()
        reply = client.post("/api/appointment", json=body)
        with lock:
            outcomes[(reply.status, reply.json().get("error_code"))] += 1

    threads = [threading.Thread(target=book, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("racers", [48])
def test_many_clients_race_for_the_last_places_of_a_slot(racers):
    with running("--workers", "2", "--threads", "8") as (_, url):
        client = SandboxClient(url, token=DEFAULT_TOKEN)
        slots = client.get(
            "/api/slots",
            params={"calendar_id": 3, "date_from": "2025-06-23", "date_to": "2025-06-27", "per_page": 200},
        ).json()["data"]
        slot = next(s for s in slots if s["capacity"] > 2 and s["is_available"])
        free = slot["capacity"] - slot["booked_appointments"]
        outcomes = _race(url, slot, racers)
        assert outcomes == Counter({(200, "SUCCESS"): free, (409, "SLOT_UNAVAILABLE"): racers - free})
        after = client.get(f"/api/slots/{slot['slot_id']}").json()["data"]
        assert after["booked_appointments"] == slot["capacity"] and after["is_available"] is False
        booked = client.get(
            "/api/appointments",
            params={
                "calendar_id": 3,
                "client_id": None,
                "date_from": slot["date"],
                "date_to": slot["date"],
                "per_page": 1000,
            },
        ).json()["data"]
        racers_in = [a for a in booked if a["slot_id"] == slot["slot_id"] and a["client_firstname"] == "Racer"]
        assert len(racers_in) == free
