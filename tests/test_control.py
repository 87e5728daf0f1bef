"""The /__mock/ control plane: scenario switches, rules, presets, reset, clock, journal, datasets."""

from __future__ import annotations

import time

import pytest
from conftest import NOW, Api, assert_error

from mockserver import create_app
from mockserver.errors import DOCUMENTED
from mockserver.render import FORMATS


def future_free_slot(api: Api, day: str = "2025-06-20", calendar_id: int = 1) -> dict:
    return next(
        s for s in api.data("/api/slots", calendar_id=calendar_id, date_from=day, per_page=100) if s["is_available"]
    )


def booking(slot: dict, email: str = "test.client@example.org") -> dict:
    return {
        "calendar_id": slot["calendar_id"],
        "slot_id": slot["slot_id"],
        "client_firstname": "Test",
        "client_lastname": "Client",
        "client_email": email,
        "client_phone": "+33611223344",
    }


# -- scenario switches per request ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", list(DOCUMENTED))
def test_every_documented_error_can_be_forced_by_header(api, code, fmt):
    response = api.get("/api/calendars", format=fmt, headers={"X-Mock-Scenario": code})
    assert_error(response, code, DOCUMENTED[code].status, fmt)


@pytest.mark.parametrize("code", list(DOCUMENTED))
def test_every_documented_error_can_be_forced_by_query_parameter(client, code):
    response = client.get(f"/api/calendars?__scenario={code}")
    assert_error(response, code, DOCUMENTED[code].status)


def test_an_unknown_scenario_is_refused_clearly(api):
    body = assert_error(api.get("/api/calendars", headers={"X-Mock-Scenario": "NOPE"}), "INVALID_PARAMETER", 400)
    assert "SLOT_UNAVAILABLE" in body["message"]


def test_forced_error_does_not_change_state(api):
    slot = future_free_slot(api)
    before = api.data("/api/calendars/1")["total_appointments"]
    api.post("/api/appointment", booking(slot), headers={"X-Mock-Scenario": "SLOT_UNAVAILABLE"})
    assert api.data("/api/calendars/1")["total_appointments"] == before


# -- rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", list(DOCUMENTED))
def test_every_documented_error_can_be_forced_by_a_rule_once(api, client, code, fmt):
    rule = client.post("/__mock/rules", json={"path": "/api/calendars", "error_code": code, "times": 1}).get_json()
    assert rule["data"]["hits"] == 0
    assert_error(api.get("/api/calendars", format=fmt), code, DOCUMENTED[code].status, fmt)
    assert api.get("/api/calendars").status_code == 200
    assert client.get(f"/__mock/rules/{rule['data']['id']}").get_json()["data"]["hits"] == 1


def test_rule_matches_method_path_and_query(api, client):
    client.post(
        "/__mock/rules",
        json={
            "method": "GET",
            "path": "/api/appointments/*",
            "query": {"status": "cancelled"},
            "error_code": "RESOURCE_NOT_FOUND",
        },
    )
    assert api.get("/api/appointments/1", status="cancelled").status_code == 404
    assert api.get("/api/appointments/1", status="pending").status_code == 200
    assert api.get("/api/appointments", status="cancelled").status_code == 200


def test_rule_can_answer_any_status_and_body(api, client):
    client.post(
        "/__mock/rules",
        json={
            "path": "/api/calendars",
            "status": 503,
            "body": {"oops": True},
            "headers": {"Retry-After": "7"},
        },
    )
    response = api.get("/api/calendars")
    assert response.status_code == 503
    assert response.get_json() == {"oops": True}
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-Mock-Rule"] == "1"


def test_an_answer_given_or_delayed_by_a_rule_names_it(api, client):
    delay = client.post("/__mock/rules", json={"path": "/api/calendars", "delay_ms": 1}).get_json()["data"]["id"]
    error = client.post(
        "/__mock/rules", json={"path": "/api/calendars/*", "error_code": "CALENDAR_NOT_FOUND", "times": 1}
    ).get_json()["data"]["id"]
    assert api.get("/api/calendars").headers["X-Mock-Rule"] == str(delay)
    forced = api.get("/api/calendars/1", format="xml")
    assert_error(forced, "CALENDAR_NOT_FOUND", 404, "xml")
    assert forced.headers["X-Mock-Rule"] == str(error)
    spent = api.get("/api/calendars/1")
    assert spent.status_code == 200 and "X-Mock-Rule" not in spent.headers
    assert [entry["rule_id"] for entry in client.get("/__mock/journal").get_json()["data"]] == [delay, error, None]


def _statuses(probability_seed: int, count: int = 40) -> list[int]:
    app = create_app({"now": NOW, "log_format": "off", "seed": probability_seed})
    client = app.test_client()
    client.post("/__mock/rules", json={"path": "/api/*", "error_code": "INTERNAL_ERROR", "probability": 0.3})
    return [client.get("/api/health").status_code for _ in range(count)]


def test_probability_is_seeded_so_a_flaky_run_replays():
    first, again, other = _statuses(1), _statuses(1), _statuses(2)
    assert first == again
    assert first != other
    assert 4 <= first.count(500) <= 20


def test_rule_delay_slows_the_answer_down(api, client):
    client.post("/__mock/rules", json={"path": "/api/calendars", "delay_ms": 150})
    started = time.perf_counter()
    assert api.get("/api/calendars").status_code == 200  # a delay-only rule lets the API answer
    assert time.perf_counter() - started >= 0.15


def test_empty_and_malformed_body_faults(api, client):
    client.post("/__mock/rules", json={"path": "/api/calendars", "fault": "empty_response", "times": 1})
    empty = api.get("/api/calendars")
    assert empty.status_code == 200 and empty.get_data() == b""
    client.post("/__mock/rules", json={"path": "/api/calendars", "fault": "malformed_body", "times": 1})
    broken = api.get("/api/calendars")
    assert broken.status_code == 200 and broken.headers["X-Mock-Fault"] == "malformed_body"
    with pytest.raises(ValueError):
        broken.get_json(force=True)
    assert api.get("/api/calendars").get_json()["success"] is True


def test_rules_are_listed_removed_one_by_one_and_cleared(client):
    ids = [
        client.post("/__mock/rules", json={"path": f"/api/x{i}", "error_code": "INTERNAL_ERROR"}).get_json()["data"][
            "id"
        ]
        for i in range(3)
    ]
    assert [r["id"] for r in client.get("/__mock/rules").get_json()["data"]] == ids
    assert client.delete(f"/__mock/rules/{ids[0]}").status_code == 200
    assert client.delete(f"/__mock/rules/{ids[0]}").status_code == 404
    assert [r["id"] for r in client.get("/__mock/rules").get_json()["data"]] == ids[1:]
    assert client.delete("/__mock/rules").get_json()["data"]["removed"] == 2
    assert client.get("/__mock/rules").get_json()["data"] == []


@pytest.mark.parametrize(
    "rule",
    [
        {"path": "/api/*"},
        {"error_code": "NOT_A_CODE"},
        {"error_code": "INTERNAL_ERROR", "times": 0},
        {"error_code": "INTERNAL_ERROR", "probability": 2},
        {"delay_ms": [500, 100]},
        {"fault": "gremlins"},
        {"status": 700},
        {"error_code": "INTERNAL_ERROR", "status": 500},
        {"method": "FETCH", "delay_ms": 1},
        {"path": "api", "delay_ms": 1},
        {"error_code": "INTERNAL_ERROR", "colour": "red"},
    ],
)
def test_bad_rules_are_refused_with_the_field_named(client, rule):
    response = client.post("/__mock/rules", json=rule)
    assert_error(response, "INVALID_PARAMETER", 400)
    assert client.get("/__mock/rules").get_json()["data"] == []


# -- presets -------------------------------------------------------------------------------------


def test_presets_are_listed(client):
    names = client.get("/__mock/scenarios").get_json()["data"]
    assert {"fully-booked", "maintenance", "flaky", "slow"} <= set(names)


def test_fully_booked_fills_every_future_slot(api, client):
    slot = future_free_slot(api)
    before = api.data("/api/statistics/calendars")["calendars"][0]["appointments_count"]
    client.post("/__mock/scenarios/fully-booked", json={"tenant": "sandbox/default"})
    slots = api.data("/api/slots", calendar_id=1, date_from="2025-06-08", date_to="2025-07-07", per_page=1000)
    assert slots and all(s["booked_appointments"] == s["capacity"] and not s["is_available"] for s in slots)
    assert api.data("/api/statistics/calendars")["calendars"][0]["appointments_count"] > before
    assert_error(api.post("/api/appointment", booking(slot)), "SLOT_UNAVAILABLE", 409)


def test_maintenance_takes_the_database_down(api, client):
    client.post("/__mock/scenarios/maintenance")
    health = client.get("/api/health")
    body = assert_error(health, "INTERNAL_ERROR", 500)
    assert body["data"]["database"] == "disconnected" and body["data"]["status"] == "unhealthy"
    assert_error(api.get("/api/calendars"), "INTERNAL_ERROR", 500)


def test_flaky_fails_a_seeded_fraction(api, client):
    client.post("/__mock/scenarios/flaky")
    statuses = [api.get("/api/calendars").status_code for _ in range(100)]
    assert set(statuses) == {200, 500}
    assert 10 <= statuses.count(500) <= 30


def test_slow_adds_latency(api, client):
    client.post("/__mock/scenarios/slow")
    started = time.perf_counter()
    assert api.get("/api/calendars").status_code == 200
    assert time.perf_counter() - started >= 0.2


def test_unknown_preset(client):
    assert_error(client.post("/__mock/scenarios/apocalypse"), "RESOURCE_NOT_FOUND", 404)


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "scenario": "maintenance"}])
def test_preset_loaded_at_start(client):
    assert client.get("/api/health").status_code == 500


# -- reset ---------------------------------------------------------------------------------------


def test_reset_restores_the_seeded_dataset(api, client):
    pristine = api.get("/api/calendars").get_data()
    slot = future_free_slot(api)
    assert api.post("/api/appointment", booking(slot)).status_code == 200
    assert api.get("/api/calendars").get_data() != pristine
    result = client.post("/__mock/reset", json={}).get_json()["data"]
    assert "sandbox/default" in result["tenants"]
    assert api.get("/api/calendars").get_data() == pristine
    assert api.data("/api/clients", email="test.client@example.org") == []


def test_reset_with_a_new_seed_changes_the_data(api, client):
    before = api.data("/api/clients", per_page=50)
    client.post("/__mock/reset", json={"seed": 7})
    after = api.data("/api/clients", per_page=50)
    assert [c["client_lastname"] for c in after[3:]] != [c["client_lastname"] for c in before[3:]]
    client.post("/__mock/reset", json={"seed": 42})
    assert api.data("/api/clients", per_page=50) == before


def test_reset_clears_rules_and_journal_unless_kept(api, client):
    client.post("/__mock/rules", json={"path": "/api/nothing", "error_code": "INTERNAL_ERROR"})
    api.get("/api/calendars")
    client.post("/__mock/reset", json={"keep_rules": True, "keep_journal": True})
    assert len(client.get("/__mock/rules").get_json()["data"]) == 1
    assert client.get("/__mock/journal/count").get_json()["data"]["count"] == 1
    client.post("/__mock/reset", json={})
    assert client.get("/__mock/rules").get_json()["data"] == []
    assert client.get("/__mock/journal/count").get_json()["data"]["count"] == 0


def test_reset_of_one_tenant_leaves_the_others(client):
    mine, theirs = Api(client, tenant="mine"), Api(client, tenant="theirs")
    for tenant_api in (mine, theirs):
        slot = future_free_slot(tenant_api)
        assert tenant_api.post("/api/appointment", booking(slot)).status_code == 200
    client.post("/__mock/reset", json={"tenant": "sandbox/mine"})
    assert mine.data("/api/clients", email="test.client@example.org") == []
    assert len(theirs.data("/api/clients", email="test.client@example.org")) == 1


# -- clock ---------------------------------------------------------------------------------------


def test_clock_freeze_advance_and_real(api, client):
    assert client.get("/__mock/clock").get_json()["data"]["now"] == NOW
    moved = client.post("/__mock/clock/advance", json={"by": "1d2h"}).get_json()["data"]
    assert moved["now"] == "2025-06-08T17:30:00+02:00"
    assert api.get("/api/calendars").get_json()["timestamp"] == moved["now"]
    frozen = client.post("/__mock/clock/freeze", json={"at": "2025-12-24T18:00:00Z"}).get_json()["data"]
    assert frozen["now"] == "2025-12-24T19:00:00+01:00"  # winter: Paris is UTC+1
    real = client.post("/__mock/clock/real").get_json()["data"]
    assert real["mode"] == "real"
    assert_error(client.post("/__mock/clock/advance", json={"by": "soon"}), "INVALID_PARAMETER", 400)


def test_time_travel_moves_slots_into_the_past(api, client):
    slot = future_free_slot(api, day="2025-06-10")
    client.post("/__mock/clock/freeze", json={"at": "2025-06-11T09:00:00+02:00"})
    assert api.data(f"/api/slots/{slot['slot_id']}")["is_available"] is False
    assert_error(api.post("/api/appointment", booking(slot)), "SLOT_IN_PAST", 409)
    assert api.data("/api/statistics/appointments", period="today")["start_date"] == "2025-06-11"


def test_a_tenant_clock_does_not_move_the_others(client):
    mine, theirs = Api(client, tenant="mine"), Api(client, tenant="theirs")
    client.post("/__mock/clock/advance", json={"by": 3600, "tenant": "sandbox/mine"})
    assert mine.get("/api/").get_json()["timestamp"] == "2025-06-07T16:30:00+02:00"
    assert theirs.get("/api/").get_json()["timestamp"] == NOW


# -- journal -------------------------------------------------------------------------------------


def test_journal_records_what_the_integrator_sent(api, client):
    slot = future_free_slot(api)
    api.post("/api/appointment", booking(slot))
    entries = client.get("/__mock/journal", query_string={"method": "POST", "path": "/api/appointment"}).get_json()
    assert len(entries["data"]) == 1
    entry = entries["data"][0]
    assert entry["body"] == booking(slot)
    assert (entry["status"], entry["error_code"], entry["tenant"]) == (200, "SUCCESS", "sandbox/default")
    assert entry["headers"]["Access-Token"].endswith("…") and len(entry["headers"]["Access-Token"]) < 10
    count = client.get("/__mock/journal/count", query_string={"method": "POST"}).get_json()["data"]["count"]
    assert count == 1


def test_journal_masks_query_tokens_and_names_the_rule(client):
    from conftest import DEFAULT_TOKEN

    rule = client.post("/__mock/rules", json={"path": "/api/calendars", "error_code": "SLOT_UNAVAILABLE"})
    client.get(f"/api/calendars?access_token={DEFAULT_TOKEN}")
    entry = client.get("/__mock/journal").get_json()["data"][-1]
    assert DEFAULT_TOKEN not in str(entry)
    assert entry["rule_id"] == rule.get_json()["data"]["id"]
    assert entry["error_code"] == "SLOT_UNAVAILABLE"


def test_control_calls_are_not_api_traffic(api, client):
    client.get("/__mock/rules")
    client.post("/__mock/clock/advance", json={"by": 1})
    assert client.get("/__mock/journal/count").get_json()["data"]["count"] == 0


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "journal_size": 5}])
def test_journal_is_bounded(api, client):
    for _ in range(12):
        api.get("/api/health")
    assert client.get("/__mock/journal/count").get_json()["data"]["count"] == 5
    assert client.delete("/__mock/journal").get_json()["data"]["removed"] == 5


# -- datasets, tenants and safety ----------------------------------------------------------------


def test_dataset_export_and_load_elsewhere(api, client):
    slot = future_free_slot(api)
    api.post("/api/appointment", booking(slot))
    document = client.get("/__mock/dataset").get_json()["data"]
    assert document["tables"]["clients"][-1]["email"] == "test.client@example.org"
    loaded = client.put("/__mock/dataset?tenant=sandbox/copy", json=document).get_json()["data"]
    assert loaded["tenant"] == "sandbox/copy"
    copy = Api(client, tenant="copy")
    assert copy.get("/api/calendars").get_json()["data"] == api.get("/api/calendars").get_json()["data"]
    assert_error(client.put("/__mock/dataset?tenant=sandbox/copy", json={"tables": {}}), "INVALID_PARAMETER", 400)
    assert copy.data("/api/calendars")  # a refused load changed nothing


def test_tenants_are_listed(client, api):
    Api(client, tenant="w1").get("/api/calendars")
    names = [t["tenant"] for t in client.get("/__mock/tenants").get_json()["data"]]
    assert {"sandbox/default", "sandbox/w1", "debug/default"} <= set(names)


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "admin_token": "s3cret"}])
def test_admin_token_protects_the_control_api(client):
    assert_error(client.get("/__mock/rules"), "AUTH_REQUIRED", 401)
    assert_error(client.get("/__mock/rules", headers={"X-Mock-Admin-Token": "nope"}), "AUTH_INVALID", 401)
    assert client.get("/__mock/rules", headers={"X-Mock-Admin-Token": "s3cret"}).status_code == 200


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "control_api": False}])
def test_control_api_can_be_disabled(client):
    assert_error(client.post("/__mock/reset"), "ENDPOINT_NOT_FOUND", 404)


def test_a_tenant_header_alone_scopes_a_control_call_to_that_tenant(client):
    mine = Api(client, tenant="mine")
    slot = future_free_slot(mine)
    mine.post("/api/appointment", booking(slot))
    Api(client).post("/api/appointment", booking(future_free_slot(Api(client)), "default.tenant@example.org"))
    reset = client.post("/__mock/reset", headers={"X-Mock-Tenant": "mine"}).get_json()["data"]
    assert reset["tenants"] == ["sandbox/mine"]
    assert mine.data("/api/clients", email="test.client@example.org") == []
    assert len(Api(client).data("/api/clients", email="default.tenant@example.org")) == 1


@pytest.mark.parametrize("at", ["1969-12-31T00:00:00Z", "9999-01-01T00:00:00Z"])
def test_the_clock_stays_within_representable_dates(client, at):
    assert_error(client.post("/__mock/clock/freeze", json={"at": at}), "INVALID_PARAMETER", 400)
    assert client.get("/__mock/clock").get_json()["data"]["now"] == NOW


def test_the_control_index_lists_every_control_route(app, client):
    """GET /__mock/ is what an integrator reads first: it names every route of the control API, and no other."""
    from mockserver.control.views.about import INDEX

    listed = " ".join(INDEX.values())
    routes = {
        rule.rule.replace("<int:rule_id>", "{id}").replace("<name>", "{name}").replace("<space>", "{space}")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("control.") and rule.rule not in ("/__mock/", "/__mock")
    }
    missing = [route for route in sorted(routes) if route not in listed]
    assert missing == []
    assert client.get("/__mock/").get_json()["data"] == INDEX
