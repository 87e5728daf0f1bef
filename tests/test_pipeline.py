"""The request pipeline (mockserver/pipeline.py): one ordered set of stages for every request, the answer cache
one of them. A repeated read is answered byte for byte as the first one was, journal entry included, and every
switch of ``pipeline.SWITCHES`` reaches the answer even when a cached answer to the same read exists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import DEFAULT_TOKEN, NOW, Api
from flask import Flask
from flask.testing import FlaskClient
from test_control import booking, future_free_slot

from mockserver.pipeline import REQUEST_STAGES, SWITCHES, Pipeline

VOLATILE = ("id", "at", "duration_ms")
URL = "/api/calendars/1"


def _journal(client: FlaskClient) -> dict[str, Any]:
    entry = client.get("/__mock/journal?limit=1").get_json()["data"][-1]
    return {key: value for key, value in entry.items() if key not in VOLATILE}


def _pipeline(app: Flask) -> Pipeline:
    return app.wsgi_app  # type: ignore[return-value]


def test_the_stages_run_in_the_documented_order() -> None:
    assert [stage.name for stage in REQUEST_STAGES] == [
        "message",
        "preflight",
        "identify",
        "guard",
        "refuse",
        "switches",
        "route",
        "authenticate",
        "cache",
        "view",
    ]


@pytest.mark.parametrize(
    "url",
    [
        "/api/calendars",
        "/api/calendars?page=1&per_page=2",
        f"/api/appointments?calendar_id=1&status=confirmed&access_token={DEFAULT_TOKEN}",
        "/api/clients?search=jean",
        "/api/statistics/appointments?period=last7days",
        "/api/slots?calendar_id=1&date_from=2025-06-10",
        "/api/calendars?format=xml",
    ],
)
def test_a_repeated_read_is_answered_byte_for_byte_as_the_first(app, url):
    raw = FlaskClient(app)
    headers = {} if "access_token" in url else {"Access-Token": DEFAULT_TOKEN}
    first = raw.get(url, headers=headers)  # a miss: the view answers and the answer is kept
    first_entry = _journal(raw)
    hits = _pipeline(app).hits
    second = raw.get(url, headers=headers)
    assert _pipeline(app).hits == hits + 1
    assert second.get_data() == first.get_data()
    per_request = ("X-Request-Id",)
    assert [h for h in second.headers.items() if h[0] not in per_request] == [
        h for h in first.headers.items() if h[0] not in per_request
    ]
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert _journal(raw) == first_entry


def _cached(api: Api, url: str = URL, **kwargs: Any) -> bytes:
    """Make sure ``url`` has a kept answer, and return it."""
    api.get(url, **kwargs)
    return api.get(url, **kwargs).get_data()


def _scenario_header(app, api, client) -> None:
    _cached(api)
    response = api.get(URL, headers={"X-Mock-Scenario": "INTERNAL_ERROR"})
    assert (response.status_code, response.get_json()["error_code"]) == (500, "INTERNAL_ERROR")


def _scenario_parameter(app, api, client) -> None:
    _cached(api, URL, __scenario="SLOT_UNAVAILABLE")  # the kept answer would be this very URL's
    response = api.get(URL, __scenario="SLOT_UNAVAILABLE")
    assert (response.status_code, response.get_json()["error_code"]) == (409, "SLOT_UNAVAILABLE")


def _rule(app, api, client) -> None:
    _cached(api)
    client.post("/__mock/rules", json={"path": URL, "error_code": "RESOURCE_NOT_FOUND", "times": 1})
    assert api.get(URL).get_json()["error_code"] == "RESOURCE_NOT_FOUND"


def _preset(app, api, client) -> None:
    _cached(api)
    assert client.post("/__mock/scenarios/maintenance").status_code == 200
    assert api.get(URL).status_code == 500


def _fault(app, api, client) -> None:
    _cached(api)
    client.post("/__mock/rules", json={"path": URL, "fault": "empty_response", "times": 1})
    response = api.get(URL)
    assert (response.headers["X-Mock-Fault"], response.get_data()) == ("empty_response", b"")


def _debug_header(app, api, client) -> None:
    _cached(api)
    assert "debug" in api.get(URL, headers={"X-Debug": "true"}).get_json()


def _debug_parameter(app, api, client) -> None:
    _cached(api, URL, debug="true")
    first = api.get(URL, debug="true").get_json()["debug"]
    assert first["query_count"] > 0  # measured again: not a kept answer


def _format_parameter(app, api, client) -> None:
    _cached(api)
    assert api.get(URL, format="xml").get_data().startswith(b"<?xml")


def _accept_header(app, api, client) -> None:
    _cached(api)
    assert api.get(URL, headers={"Accept": "text/csv"}).headers["Content-Type"].startswith("text/csv")


def _tenant_header(app, api, client) -> None:
    slot = future_free_slot(api)
    api.post("/api/appointment", booking(slot))
    mine = _cached(api, f"/api/slots/{slot['slot_id']}")
    other = Api(client, tenant="elsewhere").get(f"/api/slots/{slot['slot_id']}").get_data()
    assert other != mine


def _clock_change(app, api, client) -> None:
    _cached(api)
    client.post("/__mock/clock/advance", json={"by": "1s"})
    assert api.get(URL).get_json()["timestamp"] == "2025-06-07T15:30:01+02:00"


def _data_change(app, api, client) -> None:
    before = api.data(URL)["total_appointments"]
    _cached(api)
    api.post("/api/appointment", booking(future_free_slot(api)))
    assert api.data(URL)["total_appointments"] == before + 1


def _query(app, api, client) -> None:
    _cached(api, "/api/calendars")
    assert len(api.data("/api/calendars", per_page=1)) == 1


CASES: dict[str, Callable[..., None]] = {
    "scenario header": _scenario_header,
    "scenario parameter": _scenario_parameter,
    "rule": _rule,
    "preset": _preset,
    "fault": _fault,
    "debug header": _debug_header,
    "debug parameter": _debug_parameter,
    "format parameter": _format_parameter,
    "accept header": _accept_header,
    "tenant header": _tenant_header,
    "clock change": _clock_change,
    "data change": _data_change,
    "query": _query,
}


def test_every_switch_has_a_cache_case() -> None:
    """A switch added to pipeline.SWITCHES without a case here fails: say how the cache stays right for it."""
    assert sorted(switch.name for switch in SWITCHES) == sorted(CASES)


@pytest.mark.parametrize("name", [switch.name for switch in SWITCHES])
def test_every_switch_reaches_past_a_kept_answer(app, api, client, name):
    CASES[name](app, api, client)


def test_a_rule_on_a_repeated_parameter_applies_to_a_kept_answer(api, client):
    """Issue 22 item 1: the answer to calendar_id=1&calendar_id=2 was kept, then a rule for calendar_id=2."""
    url = "/api/appointments?calendar_id=1&calendar_id=2"
    assert api.client.get(url, headers=api.headers()).status_code == 200
    assert api.client.get(url, headers=api.headers()).status_code == 200
    client.post("/__mock/rules", json={"path": "/api/appointments", "query": {"calendar_id": "2"}, "status": 418})
    assert api.client.get(url, headers=api.headers()).status_code == 418


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "admin_token": "s3cret"}])
def test_the_admin_token_is_asked_for_before_anything_else_is_checked(client):
    """Issue 19 item 2: neither the admin token nor a valid tenant: 401, not 400 for the tenant name."""
    response = client.get("/__mock/rules", headers={"X-Mock-Tenant": "-bad name"})
    assert (response.status_code, response.get_json()["error_code"]) == (401, "AUTH_REQUIRED")
    response = client.get("/__mock/rules", headers={"X-Mock-Tenant": "-bad", "X-Mock-Admin-Token": "s3cret"})
    assert (response.status_code, response.get_json()["error_code"]) == (400, "INVALID_PARAMETER")
