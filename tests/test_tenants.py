"""Tenant quotas (issue 22 items 4, 17, 19): each account holds its own tenants, debug traffic a small pool of
its own, anonymous calls create none, and only a tenant idle past --tenant-idle-seconds ever makes room."""

from __future__ import annotations

import pytest
from conftest import DEFAULT_TOKEN, NOW, assert_error

from mockserver.auth import make_token

OTHER_TOKEN = make_token("sandbox-2", "second-sandbox-secret")
DEBUG = {"X-Debug": "true"}


def _names(client) -> list[str]:
    return [row["tenant"] for row in client.get("/__mock/tenants").get_json()["data"]]


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "max_debug_tenants": 3}])
def test_debug_tenants_stop_at_their_pool_and_a_deleted_one_makes_room(client):
    assert client.get("/api/calendars", headers={**DEBUG, "X-Mock-Tenant": "a"}).status_code == 200
    assert client.get("/api/calendars", headers={**DEBUG, "X-Mock-Tenant": "b"}).status_code == 200
    refused = client.get("/api/calendars", headers={**DEBUG, "X-Mock-Tenant": "c"})
    body = assert_error(refused, "INVALID_PARAMETER", 400)
    assert "--max-debug-tenants" in body["message"]
    # The accounts' quotas are their own: debug traffic at its limit takes nothing from them.
    assert (
        client.get("/api/calendars", headers={"Access-Token": DEFAULT_TOKEN, "X-Mock-Tenant": "c"}).status_code == 200
    )
    assert client.delete("/__mock/tenants/debug/a").status_code == 200
    assert client.get("/api/calendars", headers={**DEBUG, "X-Mock-Tenant": "c"}).status_code == 200
    assert_error(client.delete("/__mock/tenants/debug/default"), "INVALID_PARAMETER", 400)


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "max_tenants": 3}])
def test_anonymous_calls_create_no_tenant_and_take_no_account_slot(client):
    before = _names(client)
    for n in range(300):
        response = client.get("/api/health", headers={"X-Mock-Tenant": f"squat-{n}"})
        assert response.status_code == 200
    assert _names(client) == before
    # The account's own quota is untouched: its new tenants are made.
    for name in ("w1", "w2"):
        response = client.get("/api/calendars", headers={"Access-Token": DEFAULT_TOKEN, "X-Mock-Tenant": name})
        assert response.status_code == 200, response.get_data(as_text=True)


def test_an_anonymous_public_call_reads_an_existing_tenant_of_that_name(api, client):
    client.post("/__mock/reset", json={"tenant": "sandbox/t1"})
    client.post("/__mock/clock/freeze", json={"tenant": "sandbox/t1", "at": "2025-07-01T10:00:00+02:00"})
    named = client.get("/api/health", headers={"X-Mock-Tenant": "t1"}).get_json()
    assert named["timestamp"] == "2025-07-01T10:00:00+02:00"
    unknown = client.get("/api/health", headers={"X-Mock-Tenant": "never-made"}).get_json()
    assert unknown["timestamp"] == NOW  # the default tenant's clock, and nothing was created
    assert "sandbox/never-made" not in _names(client)


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "max_tenants": 2}])
def test_one_account_at_its_limit_never_evicts_another_accounts_tenant(client):
    """Issue 22 item 19: a tenant in use was evicted when another account created one at the limit."""
    mine = {"Access-Token": DEFAULT_TOKEN, "X-Mock-Tenant": "busy"}
    assert client.get("/api/calendars", headers=mine).status_code == 200  # sandbox/default + sandbox/busy: full
    for name in ("x", "y"):
        other = {"Access-Token": OTHER_TOKEN, "X-Mock-Tenant": name}
        assert client.get("/api/calendars", headers=other).status_code == 200
    assert "sandbox/busy" in _names(client)


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "max_tenants": 2}])
def test_a_tenant_in_use_is_never_evicted(client):
    busy = {"Access-Token": DEFAULT_TOKEN, "X-Mock-Tenant": "busy"}
    assert client.get("/api/calendars", headers=busy).status_code == 200
    refused = client.get("/api/calendars", headers={"Access-Token": DEFAULT_TOKEN, "X-Mock-Tenant": "new"})
    assert "--max-tenants" in assert_error(refused, "INVALID_PARAMETER", 400)["message"]
    assert "sandbox/busy" in _names(client)


@pytest.mark.parametrize(
    "settings", [{"now": NOW, "log_format": "off", "max_debug_tenants": 2, "tenant_idle_seconds": 0}]
)
def test_an_idle_tenant_makes_room_and_the_answer_says_so(client):
    assert client.get("/api/calendars", headers={**DEBUG, "X-Mock-Tenant": "old"}).status_code == 200
    response = client.get("/api/calendars", headers={**DEBUG, "X-Mock-Tenant": "new"})
    assert response.status_code == 200
    assert "debug/old" in response.headers["X-Mock-Hint"] and "removed to make room" in response.headers["X-Mock-Hint"]
    names = _names(client)
    assert "debug/new" in names and "debug/old" not in names and "sandbox/default" in names
    entry = client.get("/__mock/journal?limit=1").get_json()["data"][-1]
    assert "debug/old" in entry["hint"]


@pytest.mark.parametrize("token", ["wrong", "", DEFAULT_TOKEN.upper()])
def test_refused_credentials_list_no_tenants(client, token):
    """Issue 22 item 4: a wrong or empty token listed every account's tenants."""
    response = client.get("/__mock/tenants", headers={"Access-Token": token})
    assert response.status_code == 401


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "server_wide_control": False}])
def test_without_server_wide_control_an_anonymous_listing_is_refused(client):
    assert_error(client.get("/__mock/tenants"), "INVALID_PARAMETER", 400)
    scoped = client.get("/__mock/tenants", headers={"Access-Token": OTHER_TOKEN})
    assert {row["tenant"].split("/")[0] for row in scoped.get_json()["data"]} <= {"sandbox-2"}
