"""Every failed call says why, in one sentence a person can act on: in the journal always, in the debug block
in debug mode or with X-Mock-Explain, never in the documented envelope otherwise, and never a secret."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import DEFAULT_TOKEN, NOW
from test_control import booking, future_free_slot

from mockserver.auth import make_token

EXPLAIN = {"X-Mock-Explain": "true"}
SECRETS = ("sandbox-secret-key-change-me", "second-sandbox-secret", "staging-demo-secret", "production-demo-secret")


def _hint(response: Any) -> str:
    body = response.get_json()
    assert body["success"] is False
    return body["debug"]["hint"]


def _journal_hint(client: Any) -> str:
    return client.get("/__mock/journal?limit=1").get_json()["data"][-1]["hint"]


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({}, "Access-Token header or the access_token query parameter"),
        ({"Access-Token": ""}, "sent empty"),
        ({"Access-Token": make_token("nobody", "whatever")}, "does not know, or with another secret"),
        ({"Access-Token": make_token("sandbox", "an-old-secret")}, "does not know, or with another secret"),
        ({"Access-Token": make_token("sandbox-secret-key-change-me", "sandbox")}, "swapped"),
        ({"Access-Token": "sandbox-secret-key-change-me"}, "secret key itself"),
        ({"Access-Token": DEFAULT_TOKEN.upper()}, "upper case"),
        ({"Access-Token": DEFAULT_TOKEN + "\n"}, "spaces or line breaks"),
        ({"Access-Token": "abc"}, "64 hexadecimal characters"),
        ({"Access-Token": make_token("production-demo", "production-demo-secret")}, "--environment production"),
    ],
)
def test_authentication_failures_say_what_to_fix_without_a_secret(client, headers, words):
    if any("\n" in value for value in headers.values()):
        pytest.skip("the test client cannot send a line break in a header")
    response = client.get("/api/calendars", headers={**headers, **EXPLAIN})
    hint = _hint(response)
    assert words in hint
    assert _journal_hint(client) == hint
    for secret in SECRETS:
        assert secret not in hint
    assert "debug" not in client.get("/api/calendars", headers=headers).get_json()


def test_slot_hints_name_the_clock_and_the_places(api, client):
    past = api.data("/api/slots", calendar_id=1, date_from="2025-06-06")[0]
    hint = _hint(api.post("/api/appointment", booking(past), headers=EXPLAIN))
    assert "2025-06-07T15:30:00+02:00" in hint and "clock" in hint
    slot = future_free_slot(api)
    api.post("/api/appointment", booking(slot))
    hint = _hint(api.post("/api/appointment", booking(slot, "x@example.org"), headers=EXPLAIN))
    assert f"slot {slot['slot_id']}" in hint and "taken" in hint


@pytest.mark.parametrize(
    ("method", "path", "words"),
    [
        ("GET", "/api/calender", "GET /api/calendars"),
        ("GET", "/api/appointmnets", "GET /api/appointments"),
        ("DELETE", "/api/calendars", "takes GET"),
        ("POST", "/api/appointment/100001", "takes PUT"),
    ],
)
def test_an_unknown_endpoint_names_the_nearest_one(api, method, path, words):
    response = api.client.open(path, method=method, headers={**api.headers(), **EXPLAIN})
    assert words in _hint(response)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b'{"calendar_id": 1,,}', "line 1, column 19"),
        (
            b'{"calendar_id": "1", "slot_id": 1, "client_firstname": "a", "client_lastname": "b",'
            b' "client_email": "a@b.fr", "client_phone": "0612345678"}',
            "calendar_id is an integer",
        ),
    ],
)
def test_invalid_json_says_where_and_what_type(api, raw, words):
    response = api.client.post(
        "/api/appointment", data=raw, headers={**api.headers(), **EXPLAIN, "Content-Type": "application/json"}
    )
    assert words in _hint(response)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"date_from": "15/06/2025"}, "date_from=2025-06-15"),
        ({"date_from": "2025-02-30"}, "no calendar date"),
        ({"date_from": "2025-06-15T10:00"}, "a day, not an instant"),
        ({"date_from": "2024-01-01", "date_to": "2025-06-30"}, "Split the range"),
    ],
)
def test_date_errors_show_the_fix(api, query, words):
    response = api.get("/api/appointments", headers=EXPLAIN, **query)
    assert words in _hint(response)


def test_forced_errors_say_who_forced_them_and_how_to_stop_it(api, client):
    assert "X-Mock-Scenario header" in _hint(
        api.get("/api/calendars", headers={**EXPLAIN, "X-Mock-Scenario": "AUTH_INVALID"})
    )
    rule = client.post("/__mock/rules", json={"path": "/api/health", "error_code": "INTERNAL_ERROR"}).get_json()
    hint = _hint(api.get("/api/health", headers=EXPLAIN))
    assert f"DELETE /__mock/rules/{rule['data']['id']}" in hint
    client.delete("/__mock/rules")
    client.post("/__mock/scenarios/maintenance")
    assert "'maintenance' preset" in _hint(api.get("/api/calendars", headers=EXPLAIN))


def test_debug_mode_carries_the_hint_in_its_debug_block(client):
    body = client.get("/api/slots?debug=true&calendar_id=1").get_json()
    assert body["debug"]["debug_mode"] is True
    assert "date_from" in body["message"] and body["debug"]["hint"]


def test_a_clock_outside_the_data_is_pointed_out(client, api):
    client.post("/__mock/clock/freeze", json={"at": "2026-01-15T10:00:00+01:00"})
    body = client.get("/api/calendars?debug=true").get_json()
    assert "outside this tenant's data" in body["debug"]["hint"]
    assert "rebase" in _journal_hint(client)
    frozen = client.post("/__mock/clock/freeze", json={"at": "2026-01-15T10:00:00+01:00", "rebase": True}).get_json()
    assert "warning" not in frozen["data"] or frozen["data"]["scope"] == "*"
    assert "hint" not in client.get("/api/calendars?debug=true").get_json()["debug"]
    assert NOW  # the fixture's clock was the documentation's; the freeze above moved every tenant
