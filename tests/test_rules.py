"""Rules: what they may answer (issue 22 items 13-15), how many a tenant may hold and what matching one costs
(item 11), and matching on request headers and the JSON body (issue 21)."""

from __future__ import annotations

import json

import pytest
from conftest import Api, assert_error
from test_control import booking, future_free_slot

from mockserver.control import rules
from mockserver.store.control.rules import MAX_RULES_PER_TENANT, MAX_SERVER_WIDE_RULES


def _post_raw(client, text: str, **kw):
    """A rule sent as JSON text, so that it can hold what Python's encoder would not write (a lone surrogate)."""
    return client.post("/__mock/rules", data=text.encode(), content_type="application/json", **kw)


def _refused(response, field: str) -> dict:
    body = assert_error(response, "INVALID_PARAMETER", 400)
    assert body["details"]["field"] == field, body
    return body


# -- what a rule may answer (items 13, 14) -------------------------------------------------------


@pytest.mark.parametrize("char", ["\x01", "\x0b", "\x0c", "\x1b", "\x7f", "é", "\u20ac"])
def test_header_values_the_server_cannot_send_as_written_are_refused(client, char):
    rule = {"path": "/api/health", "status": 200, "body": "x"}
    _refused(client.post("/__mock/rules", json={**rule, "headers": {"X-A": f"a{char}b"}}), "headers.X-A")
    _refused(client.post("/__mock/rules", json={**rule, "content_type": f"text/plain{char}"}), "content_type")
    assert client.get("/__mock/rules").get_json()["data"] == []


def test_a_header_value_with_a_tab_is_sent(api, client):
    rule = {"path": "/api/health", "status": 200, "body": "x", "headers": {"X-A": "a\tb c"}}
    assert client.post("/__mock/rules", json=rule).status_code == 200
    assert api.get("/api/health").headers["X-A"] == "a\tb c"


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", "Connection", "Content-Type"])
def test_headers_that_frame_the_answer_are_the_servers(client, name):
    rule = {"path": "/api/health", "status": 200, "body": "x", "headers": {name: "5"}}
    _refused(client.post("/__mock/rules", json=rule), f"headers.{name}")


@pytest.mark.parametrize("status", [100, 101, 103, 199, 600])
def test_a_rule_status_is_a_final_answer(client, status):
    _refused(client.post("/__mock/rules", json={"path": "/api/health", "status": status}), "status")


@pytest.mark.parametrize("status", [200, 204, 302, 599])
def test_statuses_from_200_to_599_are_answered(api, client, status):
    assert client.post("/__mock/rules", json={"path": "/api/health", "status": status}).status_code == 200
    assert api.get("/api/health").status_code == status


# -- lone surrogates (item 15) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"path": "/api/\\ud800", "error_code": "INTERNAL_ERROR"}', "path"),
        ('{"query": {"\\udfff": "1"}, "error_code": "INTERNAL_ERROR"}', "query"),
        ('{"query": {"calendar_id": "\\ud800"}, "error_code": "INTERNAL_ERROR"}', "query.calendar_id"),
        ('{"match_headers": {"X-A": "\\ud800"}, "error_code": "INTERNAL_ERROR"}', "match_headers.X-A"),
        ('{"match_body": {"a": ["\\ud800"]}, "error_code": "INTERNAL_ERROR"}', "match_body.a"),
    ],
)
def test_a_lone_surrogate_in_what_a_rule_matches_is_refused_before_it_is_stored(client, text, field):
    _refused(_post_raw(client, text), field)
    listed = client.get("/__mock/rules")
    assert listed.status_code == 200
    assert listed.get_json()["data"] == []


def test_a_stored_rule_holding_a_lone_surrogate_cannot_break_the_rule_list(app, client):
    """A kept --data-dir may hold one from an older sandbox: the list shows it with U+FFFD, never a 500."""
    control = app.extensions["tap4book"].control
    with control.transaction() as tx:
        tx.execute(
            "INSERT INTO rules (tenant, spec, times, created_at) VALUES (NULL, ?, NULL, 0)",
            (json.dumps({"path": "/api/\ud800", "query": {"\udfff": "x"}, "error_code": "INTERNAL_ERROR"}),),
        )
    listed = client.get("/__mock/rules")
    assert listed.status_code == 200
    (rule,) = listed.get_json()["data"]
    assert rule["path"].startswith("/api/\ufffd")
    assert client.get(f"/__mock/rules/{rule['id']}").status_code == 200
    assert client.get("/api/health", headers={"X-Debug": "true"}).status_code == 200


# -- limits and matching cost (item 11) ----------------------------------------------------------


def _fill(app, tenant: str | None, count: int) -> None:
    spec = {"path": "/api/nowhere", "error_code": "INTERNAL_ERROR"}
    app.extensions["tap4book"].control.add_rules([{**spec, "tenant": tenant} if tenant else spec] * count)


def test_a_tenant_holds_a_bounded_number_of_rules(app, client):
    _fill(app, "sandbox/default", MAX_RULES_PER_TENANT)
    token = Api(client).headers()
    refused = client.post("/__mock/rules", json={"path": "/api/*", "delay_ms": 1}, headers=token)
    body = _refused(refused, "rules")
    assert body["details"]["limit"] == MAX_RULES_PER_TENANT
    assert str(MAX_RULES_PER_TENANT) in body["message"]
    # Another tenant, and the server-wide rules, are not affected.
    elsewhere = {**token, "X-Mock-Tenant": "w2"}
    assert client.post("/__mock/rules", json={"path": "/api/*", "delay_ms": 1}, headers=elsewhere).status_code == 200
    assert client.post("/__mock/rules", json={"path": "/api/*", "delay_ms": 1}).status_code == 200


def test_server_wide_rules_are_bounded_too(app, client):
    _fill(app, None, MAX_SERVER_WIDE_RULES)
    body = _refused(client.post("/__mock/rules", json={"path": "/api/*", "delay_ms": 1}), "rules")
    assert body["details"]["limit"] == MAX_SERVER_WIDE_RULES


def test_a_preset_past_the_limit_adds_none_of_its_rules(app, client):
    _fill(app, None, MAX_SERVER_WIDE_RULES)
    _refused(client.post("/__mock/scenarios/maintenance"), "rules")
    assert len(client.get("/__mock/rules").get_json()["data"]) == MAX_SERVER_WIDE_RULES


def test_rules_for_a_tenant_are_the_server_wide_ones_and_its_own_in_id_order(app, client):
    control = app.extensions["tap4book"].control
    mine = {"path": "/api/calendars", "delay_ms": 1}
    first = control.add_rule({**mine, "tenant": "sandbox/default"})["id"]
    shared = control.add_rule(mine)["id"]
    _fill(app, "sandbox/other", 300)
    last = control.add_rule({**mine, "tenant": "sandbox/default"})["id"]
    snapshot = control.snapshot()
    assert [rule["id"] for rule in snapshot.rules_for("sandbox/default")] == [first, shared, last]
    assert [rule["id"] for rule in snapshot.rules_for(None)] == [shared]
    assert len(snapshot.rules) == 303  # every rule, for the pipeline until it matches with rules_for


def test_another_tenants_rules_firing_do_not_reload_a_tenants_rules(app, client):
    """Each firing writes its counters (a new snapshot); the rules a tenant is matched against are loaded
    again only when that tenant's or the server-wide set changes."""
    control = app.extensions["tap4book"].control
    control.add_rule({"path": "/api/calendars", "delay_ms": 1, "tenant": "sandbox/default"})
    _fill(app, "sandbox/other", 200)
    before = control.snapshot()
    loaded = before.rules_for("sandbox/default")
    busy = control.add_rule({"path": "/api/*", "delay_ms": 0, "tenant": "sandbox/other"})
    control.fire(busy, lambda n: 0.0)
    after = control.snapshot()
    assert after is not before
    assert after.rules_for("sandbox/default") is loaded
    control.add_rule({"path": "/api/health", "delay_ms": 1, "tenant": "sandbox/default"})
    assert len(control.snapshot().rules_for("sandbox/default")) == 2


def test_matching_loads_no_other_tenants_rules(app, client, monkeypatch):
    """What a request's matching loads and walks holds no other tenant's rules, however many there are."""
    control = app.extensions["tap4book"].control
    _fill(app, "sandbox/other", MAX_RULES_PER_TENANT)
    mine = control.add_rule({"path": "/api/calendars", "delay_ms": 0, "tenant": "sandbox/default"})
    loaded: list[int] = []
    real = control._rules

    def spy(*args: object) -> list[dict]:
        found = real(*args)
        loaded.append(len(found))
        return found

    monkeypatch.setattr(control, "_rules", spy)
    api = Api(client)
    for _ in range(3):
        assert api.get("/api/calendars").headers["X-Mock-Rule"] == str(mine["id"])
        control.snapshot().rules_for("sandbox/default")
    assert loaded and max(loaded) == 1


# -- matching on headers and body (issue 21) -----------------------------------------------------


def test_a_rule_matches_a_json_body_value_by_glob(api, client):
    client.post(
        "/__mock/rules",
        json={"method": "POST", "path": "/api/appointment", "match_body": {"client_email": "jean@*"},
              "error_code": "SLOT_UNAVAILABLE"},
    )  # fmt: skip
    slot = future_free_slot(api)
    assert_error(api.post("/api/appointment", booking(slot, "jean@example.com")), "SLOT_UNAVAILABLE", 409)
    assert api.post("/api/appointment", booking(slot, "marie@example.com")).get_json()["error_code"] == "SUCCESS"


def test_match_body_follows_dot_paths_into_arrays_and_compares_json_values(client):
    client.post(
        "/__mock/rules",
        json={"path": "/api/health", "match_body": {"items.1.name": "b?", "n": 1, "flag": None},
              "status": 418, "body": "matched"},
    )  # fmt: skip
    debug = {"X-Debug": "true"}

    def answer(body: object) -> int:
        return client.post("/api/health", json=body, headers=debug).status_code

    assert answer({"items": [{"name": "a"}, {"name": "b2"}], "n": 1.0, "flag": None}) == 418
    assert answer({"items": [{"name": "a"}, {"name": "b22"}], "n": 1, "flag": None}) != 418  # ? is one character
    assert answer({"items": [{"name": "a"}, {"name": "b2"}], "n": True, "flag": None}) != 418  # true is not 1
    assert answer({"items": [{"name": "a"}, {"name": "b2"}], "n": "1", "flag": None}) != 418  # nor "1"
    assert answer({"items": [{"name": "a"}, {"name": "b2"}], "n": 1}) != 418  # a missing value is not null
    assert client.post("/api/health", data=b"not json", headers=debug).status_code != 418


def test_a_rule_matches_request_headers_case_insensitively(api, client):
    client.post(
        "/__mock/rules",
        json={"path": "/api/calendars", "match_headers": {"X-Client": "mobile-*"}, "status": 503, "body": "busy"},
    )
    assert api.get("/api/calendars", headers={"x-client": "mobile-ios"}).status_code == 503
    assert api.get("/api/calendars", headers={"X-Client": "web"}).status_code == 200
    assert api.get("/api/calendars").status_code == 200


def test_a_header_rule_is_not_bypassed_by_a_cached_answer(api, client):
    assert api.get("/api/calendars").status_code == 200
    assert api.get("/api/calendars").status_code == 200  # now in the answer cache
    client.post("/__mock/rules", json={"path": "/api/calendars", "match_headers": {"X-Variant": "b"}, "status": 503})
    assert api.get("/api/calendars", headers={"X-Variant": "b"}).status_code == 503
    assert api.get("/api/calendars").status_code == 200


def test_globs_take_star_and_question_mark_only():
    rule = rules.validate({"path": "/api/*", "match_headers": {"X-A": "[ab]*"}, "delay_ms": 1})
    assert rules.matches(rule, "GET", "/api/x", {}, None, headers={"x-a": "[ab]c"}, body=None)
    assert not rules.matches(rule, "GET", "/api/x", {}, None, headers={"x-a": "ac"}, body=None)


def test_the_body_is_parsed_only_for_a_rule_that_needs_it():
    calls = []

    def body() -> object:
        calls.append(1)
        return {"a": 1}

    plain = rules.validate({"path": "/api/*", "match_headers": {"X-A": "1"}, "delay_ms": 1})
    assert rules.matches(plain, "GET", "/api/x", {}, None, headers={"x-a": "1"}, body=body)
    assert rules.matches(rules.validate({"path": "/api/*", "delay_ms": 1}), "GET", "/api/x", {}, None, {}, body)
    other_path = rules.validate({"path": "/api/y", "match_body": {"a": 1}, "delay_ms": 1})
    assert not rules.matches(other_path, "GET", "/api/x", {}, None, headers={}, body=body)
    assert calls == []
    wanted = rules.validate({"path": "/api/*", "match_body": {"a": 1}, "delay_ms": 1})
    assert rules.matches(wanted, "GET", "/api/x", {}, None, headers={}, body=body)
    assert calls == [1]


def test_lazy_json_parses_once_and_gives_none_for_what_is_not_json():
    reads = []
    body = rules.lazy_json(lambda: reads.append(1) or b'{"a": [1]}')
    assert body() == {"a": [1]} and body() == {"a": [1]}
    assert reads == [1]
    assert rules.lazy_json(lambda: b"{nope")() is None
    assert rules.lazy_json(lambda: b"")() is None


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"match_body": {"a..b": 1}}, "match_body"),
        ({"match_body": {"": 1}}, "match_body"),
        ({"match_body": {}}, "match_body"),
        ({"match_body": [1]}, "match_body"),
        ({"match_headers": {"Bad Name": "x"}}, "match_headers"),
        ({"match_headers": {"X-A": {"b": 1}}}, "match_headers"),
        ({"query": {"a": True}}, "query"),
    ],
)
def test_bad_matchers_are_refused_with_the_field_named(client, rule, field):
    _refused(client.post("/__mock/rules", json={"path": "/api/*", "delay_ms": 1, **rule}), field)
