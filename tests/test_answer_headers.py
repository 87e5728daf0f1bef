"""Hints that reach a plain client (issue 21): every API answer names its journal entry (X-Request-Id), every
failed one says why in one line (X-Mock-Hint), without changing the documented body; browsers may read both."""

from __future__ import annotations

import pytest
from conftest import DEFAULT_TOKEN, NOW

from mockserver.auth import make_token
from mockserver.cors import EXPOSE_HEADERS
from mockserver.pipeline import header_text


def _last_entry(client):
    return client.get("/__mock/journal?limit=1").get_json()["data"][-1]


@pytest.mark.parametrize(
    ("token", "words"),
    [
        (DEFAULT_TOKEN.upper(), "upper case"),
        (make_token("sandbox-secret-key-change-me", "sandbox"), "swapped"),
        ("sandbox-secret-key-change-me", "secret key itself"),
        (f" {DEFAULT_TOKEN}", "spaces"),
    ],
)
def test_a_refused_token_says_what_is_wrong_with_it(client, token, words):
    response = client.get("/api/calendars", headers={"Access-Token": token})
    assert response.status_code == 401
    assert words in response.headers["X-Mock-Hint"]
    assert response.headers["X-Mock-Hint"] == _last_entry(client)["hint"]
    assert "hint" not in response.get_data(as_text=True)  # the documented body is unchanged


def test_every_api_answer_names_its_journal_entry(api, client):
    for call in (lambda: api.get("/api/calendars"), lambda: api.get("/api/calendars/999"), lambda: client.get("/")):
        response = call()
        if response.request.path.startswith("/api"):
            assert int(response.headers["X-Request-Id"]) == _last_entry(client)["id"]
        else:
            assert "X-Request-Id" not in response.headers  # only API calls are journaled


def test_a_successful_answer_has_no_hint_unless_something_is_off(api):
    assert "X-Mock-Hint" not in api.get("/api/calendars").headers


@pytest.mark.parametrize("settings", [{"log_format": "off", "cache_dir": "off"}])  # the real clock: data of today
def test_the_documentations_own_dates_get_a_hint_naming_the_data_and_now(api, client):
    url = "/api/slots?calendar_id=1&date_from=2025-06-15&date_to=2025-06-20"
    for _ in range(2):  # the second answer comes from the answer cache: the same hint
        response = api.client.get(url, headers=api.headers())
        assert response.get_json()["data"] == []
        hint = response.headers["X-Mock-Hint"]
        assert "outside this tenant's data" in hint and "--now 2025-06-15T12:00:00+02:00" in hint
        assert _last_entry(client)["hint"] == hint


def test_an_empty_list_inside_the_data_has_no_hint(api):
    response = api.get("/api/appointments", date_from="2025-06-07", date_to="2025-06-07", status="cancelled")
    assert "X-Mock-Hint" not in response.headers


def test_a_hint_header_is_one_line_of_ascii(api):
    response = api.get("/api/calendars", __scenario="ëx\u2028y\n")
    assert response.status_code == 400
    hint = response.headers["X-Mock-Hint"]
    assert hint.isascii() and "\n" not in hint and "\\xeb" in hint and "\\u2028" in hint
    assert header_text("a\r\nb\x7f") == "a\\x0d\\x0ab\\x7f"


def test_browsers_may_read_the_hint_and_the_request_id(api):
    response = api.get("/api/calendars/999", headers={"Origin": "http://localhost:5173"})
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert "X-Request-Id" in exposed and "X-Mock-Hint" in exposed
    assert "X-Mock-Hint" in EXPOSE_HEADERS


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "debug_mode": False}])
def test_debug_refused_says_why(client):
    response = client.get("/api/calendars?debug=true")
    assert "--no-debug-mode" in response.headers["X-Mock-Hint"]
