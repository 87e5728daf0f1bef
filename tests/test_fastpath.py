"""The answer cache in front of Flask (mockserver/fastpath.py) answers exactly what Flask would have, journal
entry included, and steps aside whenever anything could make the answer different."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import DEFAULT_TOKEN
from flask.testing import FlaskClient

from mockserver.fastpath import FastPath

VOLATILE = ("id", "at", "duration_ms")


def _journal(client: FlaskClient) -> dict[str, Any]:
    entry = client.get("/__mock/journal?limit=1").get_json()["data"][-1]
    return {key: value for key, value in entry.items() if key not in VOLATILE}


@pytest.mark.parametrize(
    "url",
    [
        "/api/calendars",
        "/api/calendars?page=1&per_page=2",
        f"/api/appointments?calendar_id=1&status=confirmed&access_token={DEFAULT_TOKEN}",
        "/api/clients?search=jean",
        "/api/statistics/appointments?period=last7days",
        "/api/slots?calendar_id=1&date_from=2025-06-10",
    ],
)
def test_a_repeated_read_is_answered_byte_for_byte_as_flask_would(app, url):
    fast: FastPath = app.wsgi_app
    raw = FlaskClient(app)
    headers = {} if "access_token" in url else {"Access-Token": DEFAULT_TOKEN}
    first = raw.get(url, headers=headers)  # a miss: Flask answers and fills the cache
    slow_entry = _journal(raw)
    hits = fast.hits
    second = raw.get(url, headers=headers)
    assert fast.hits == hits + 1
    assert second.get_data() == first.get_data()
    assert list(second.headers.items()) == list(first.headers.items())
    assert _journal(raw) == slow_entry


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"X-Debug": "true"}, ""),
        ({"Origin": "http://app.example"}, ""),
        ({"X-Mock-Scenario": "AUTH_INVALID"}, ""),
        ({"Accept": "application/xml"}, ""),
        ({}, "format=csv"),
        ({}, "debug=true"),
        ({"Access-Token": DEFAULT_TOKEN.upper()}, ""),
        ({"X-Mock-Tenant": "-bad"}, ""),
    ],
)
def test_anything_out_of_the_ordinary_goes_to_flask(app, headers, query):
    fast: FastPath = app.wsgi_app
    raw = FlaskClient(app)
    base = {"Access-Token": DEFAULT_TOKEN}
    raw.get("/api/calendars?" + query, headers={**base, **headers})
    hits = fast.hits
    raw.get("/api/calendars?" + query, headers={**base, **headers})
    assert fast.hits == hits


def test_a_matching_rule_a_write_or_a_clock_move_is_seen(app, api, client):
    fast: FastPath = app.wsgi_app
    api.get("/api/calendars")
    client.post("/__mock/rules", json={"path": "/api/calendars", "error_code": "INTERNAL_ERROR", "times": 1})
    assert api.get("/api/calendars").status_code == 500  # the rule fires: not a cached answer
    hits = fast.hits
    before = api.get("/api/calendars/1").get_json()["data"]["total_appointments"]
    slot = next(s for s in api.data("/api/slots", calendar_id=1, date_from="2025-06-20") if s["is_available"])
    api.post(
        "/api/appointment",
        {
            "calendar_id": 1,
            "slot_id": slot["slot_id"],
            "client_firstname": "A",
            "client_lastname": "B",
            "client_email": "a.b@example.org",
            "client_phone": "+33612345678",
        },
    )
    assert api.get("/api/calendars/1").get_json()["data"]["total_appointments"] == before + 1
    client.post("/__mock/clock/advance", json={"by": "1s"})
    assert api.get("/api/calendars/1").get_json()["timestamp"] == "2025-06-07T15:30:01+02:00"
    assert fast.hits == hits  # every one of those was a miss
