"""Access tokens, accounts bound to environments, debug mode, and isolation between accounts."""

from __future__ import annotations

import pytest
from conftest import DEFAULT_TOKEN, NOW, Api, assert_error

from mockserver.auth import AccountBook, make_token
from mockserver.render import FORMATS

SECOND = make_token("sandbox-2", "second-sandbox-secret")
STAGING = make_token("staging-demo", "staging-demo-secret")
PRODUCTION = make_token("production-demo", "production-demo-secret")


def test_token_in_header_or_in_parameter(client):
    assert client.get("/api/calendars", headers={"Access-Token": DEFAULT_TOKEN}).status_code == 200
    assert client.get(f"/api/calendars?access_token={DEFAULT_TOKEN}").status_code == 200


@pytest.mark.parametrize(
    ("token", "hint"),
    [(DEFAULT_TOKEN.upper(), "upper case"), (f" {DEFAULT_TOKEN}\t", "spaces"), ("sandbox", "account id")],
)
def test_a_near_miss_token_is_refused_with_a_hint(client, token, hint):
    """Only the token exactly as hexdigest() writes it authenticates; the debug block says what is off."""
    response = client.get("/api/calendars", headers={"Access-Token": token, "X-Mock-Explain": "true"})
    body = assert_error(response, "AUTH_INVALID", 401)
    assert hint in body["debug"]["hint"]
    assert "debug" not in client.get("/api/calendars", headers={"Access-Token": token}).get_json()


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_token_is_auth_required(client, fmt):
    body = assert_error(client.get(f"/api/calendars?format={fmt}"), "AUTH_REQUIRED", 401, fmt)
    assert "Access-Token" in body["message"]


@pytest.mark.parametrize("token", ["nope", DEFAULT_TOKEN[:-1] + "0", make_token("sandbox", "wrong-secret"), " "])
def test_wrong_token_is_auth_invalid(client, token):
    code = "AUTH_REQUIRED" if not token.strip() else "AUTH_INVALID"
    assert_error(client.get("/api/calendars", headers={"Access-Token": token}), code, 401)


def test_staging_server_refuses_production_keys(client):
    assert client.get("/api/calendars", headers={"Access-Token": STAGING}).status_code == 200
    body = assert_error(client.get("/api/calendars", headers={"Access-Token": PRODUCTION}), "AUTH_INVALID", 401)
    assert "production" in body["message"] and "staging" in body["message"]


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "environment": "production"}])
def test_production_server_refuses_staging_keys(client):
    assert client.get("/api/calendars", headers={"Access-Token": PRODUCTION}).status_code == 200
    assert client.get("/api/calendars", headers={"Access-Token": DEFAULT_TOKEN}).status_code == 200
    assert_error(client.get("/api/calendars", headers={"Access-Token": STAGING}), "AUTH_INVALID", 401)


def test_accounts_never_see_each_others_data(client):
    mine, theirs = Api(client), Api(client, token=SECOND)
    slot = next(
        s for s in mine.data("/api/slots", calendar_id=1, date_from="2025-06-20", per_page=100) if s["is_available"]
    )
    body = {
        "calendar_id": 1,
        "slot_id": slot["slot_id"],
        "client_firstname": "A",
        "client_lastname": "B",
        "client_email": "only.mine@example.org",
        "client_phone": "+33600000001",
    }
    assert mine.post("/api/appointment", body).status_code == 200
    assert len(mine.data("/api/clients", email="only.mine@example.org")) == 1
    assert theirs.data("/api/clients", email="only.mine@example.org") == []
    assert theirs.data(f"/api/slots/{slot['slot_id']}")["booked_appointments"] == slot["booked_appointments"]
    # The same tenant name under another account is another tenant.
    assert Api(client, token=SECOND, tenant="default").data("/api/clients", email="only.mine@example.org") == []


def test_debug_mode_needs_no_token_and_adds_the_debug_block(client):
    for response in (
        client.get("/api/calendars?debug=true"),
        client.get("/api/calendars", headers={"X-Debug": "true"}),
    ):
        body = response.get_json()
        assert response.status_code == 200
        debug = body["debug"]
        assert list(debug) == [
            "memory_usage",
            "execution_time",
            "query_count",
            "request_method",
            "endpoint",
            "debug_mode",
        ]
        assert debug["memory_usage"] > 1_000_000 and debug["execution_time"] >= 0
        assert debug["query_count"] >= 2  # a count and a page
        assert (debug["request_method"], debug["endpoint"], debug["debug_mode"]) == (
            "GET",
            "/api/calendars",
            True,
        )


def test_debug_false_is_not_debug(client):
    assert_error(client.get("/api/calendars?debug=false"), "AUTH_REQUIRED", 401)


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "debug_mode": False}])
def test_debug_mode_can_be_switched_off(client):
    body = assert_error(client.get("/api/calendars?debug=true"), "AUTH_REQUIRED", 401)
    assert "disabled" in body["message"]
    assert "debug" not in body
    assert client.get("/api/").get_json()["data"]["debug_mode"] is False


def test_invalid_tenant_names_are_refused(client):
    assert_error(client.get("/api/calendars?debug=true", headers={"X-Mock-Tenant": "../etc"}), "INVALID_PARAMETER", 400)


def test_accounts_file_errors_are_clear(tmp_path):
    bad = tmp_path / "accounts.json"
    bad.write_text('{"accounts": [{"entity_account_id": "x"}]}')
    with pytest.raises(ValueError, match="cannot read accounts"):
        AccountBook.load(bad)
