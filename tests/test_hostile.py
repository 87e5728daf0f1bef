"""What an adversarial probe found (issue 15), one regression test each: a wrong token never acts on the whole
server, capacity is exact for every writer, every bad input gets its envelope, and nothing is half-changed."""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

import pytest
from conftest import DEFAULT_TOKEN, NOW, Api, assert_error
from flask.testing import FlaskClient
from test_control import booking, future_free_slot

from mockserver.auth import make_token

PRODUCTION_DEMO = make_token("production-demo", "production-demo-secret")


def _state(client: Any) -> tuple[Any, ...]:
    """What a control call could destroy: rules, tenants, the debug tenant's bookings."""
    rules = client.get("/__mock/rules").get_json()["data"]
    tenants = [row["tenant"] for row in client.get("/__mock/tenants").get_json()["data"]]
    appointments = client.get("/api/appointments?per_page=1", headers={"X-Debug": "true"}).get_json()
    return len(rules), tenants, appointments["pagination"]["total"]


def _setup_other_tenants_state(client: Any, api: Api) -> None:
    client.post("/__mock/rules", json={"path": "/api/health", "delay_ms": 1})
    debug = Api(client, token=None, debug=True)
    debug.post("/api/appointment", booking(future_free_slot(debug)))
    client.post("/__mock/reset", json={"tenant": "sandbox/w2"})


# -- 1: credentials that do not authenticate are refused, never widened ---------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Access-Token": DEFAULT_TOKEN + "x"},
        {"Access-Token": ""},
        {"Access-Token": PRODUCTION_DEMO},  # the other environment's key
        {"Access-Token": DEFAULT_TOKEN + "x", "X-Mock-Tenant": "w1"},
    ],
    ids=["typo", "empty", "other-environment", "typo-with-tenant"],
)
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/__mock/reset", None),
        ("POST", "/__mock/rules", {"path": "/api/calendars", "error_code": "INTERNAL_ERROR"}),
        ("DELETE", "/__mock/rules", None),
        ("DELETE", "/__mock/journal", None),
        ("POST", "/__mock/clock/freeze", {"at": "2030-01-01T00:00:00Z"}),
        ("POST", "/__mock/scenarios/maintenance", None),
    ],
)
def test_a_control_call_with_bad_credentials_is_refused_and_changes_nothing(client, api, headers, method, url, body):
    _setup_other_tenants_state(client, api)
    before = _state(client)
    clock = client.get("/__mock/clock").get_json()["data"]["now"]
    response = client.open(url, method=method, json=body, headers={**headers, "X-Mock-Explain": "true"})
    code = "AUTH_REQUIRED" if headers["Access-Token"] == "" else "AUTH_INVALID"
    body_seen = assert_error(response, code, 401)
    assert body_seen["debug"]["hint"]
    assert _state(client) == before
    assert client.get("/__mock/clock").get_json()["data"]["now"] == clock
    assert api.get("/api/calendars").status_code == 200


def test_without_credentials_a_control_call_still_acts_on_the_whole_server(client, api):
    _setup_other_tenants_state(client, api)
    data = client.post("/__mock/reset").get_json()["data"]
    assert {"sandbox/default", "sandbox/w2", "debug/default"} <= set(data["tenants"])
    assert client.get("/__mock/rules").get_json()["data"] == []


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "server_wide_control": False}])
def test_server_wide_control_calls_can_be_forbidden(client, api):
    assert_error(client.post("/__mock/reset"), "INVALID_PARAMETER", 400)
    assert client.post("/__mock/reset", headers=api.headers()).get_json()["data"]["tenants"] == ["sandbox/default"]


def test_a_token_cannot_name_a_tenant_of_another_space(client, api):
    response = client.post("/__mock/reset", json={"tenant": "staging-demo/x"}, headers=api.headers())
    assert_error(response, "INVALID_PARAMETER", 400)
    assert "staging-demo/x" not in [row["tenant"] for row in client.get("/__mock/tenants").get_json()["data"]]


def test_a_scoped_call_sees_and_removes_only_its_tenants_rules(client, api):
    mine = client.post("/__mock/rules", json={"delay_ms": 1}, headers=api.headers()).get_json()["data"]["id"]
    theirs = client.post("/__mock/rules", json={"delay_ms": 1, "tenant": "debug/x"}).get_json()["data"]["id"]
    assert_error(client.delete(f"/__mock/rules/{theirs}", headers=api.headers()), "RESOURCE_NOT_FOUND", 404)
    assert_error(client.get(f"/__mock/rules/{theirs}", headers=api.headers()), "RESOURCE_NOT_FOUND", 404)
    assert client.delete(f"/__mock/rules/{mine}", headers=api.headers()).status_code == 200
    assert [rule["id"] for rule in client.get("/__mock/rules").get_json()["data"]] == [theirs]


# -- 2: capacity is exact for every writer, presets and imports included ------------------------


def test_the_fully_booked_preset_racing_bookings_never_overbooks(app):
    client = app.test_client()
    api = Api(client)
    slots = [s for s in api.all("/api/slots", calendar_id=1, date_from="2025-06-09", date_to="2025-07-07")]
    future = [s["slot_id"] for s in slots if s["is_available"]]
    errors: list[str] = []

    def book(offset: int) -> None:
        caller = Api(app.test_client())
        for number, slot_id in enumerate(future[offset::4]):
            reply = caller.post(
                "/api/appointment",
                {**booking({"calendar_id": 1, "slot_id": slot_id}, f"r{offset}.{number}@example.org")},
            )
            if reply.status_code not in (200, 409):
                errors.append(reply.get_data(as_text=True))

    threads = [threading.Thread(target=book, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    assert client.post("/__mock/scenarios/fully-booked", json={"tenant": "sandbox/default"}).status_code == 200
    for thread in threads:
        thread.join()
    assert errors == []
    for slot in api.all("/api/slots", calendar_id=1, date_from="2025-06-09", date_to="2025-07-07"):
        assert slot["booked_appointments"] <= slot["capacity"], slot
        if slot["slot_id"] in future:
            assert slot["booked_appointments"] == slot["capacity"]


def test_a_dataset_import_that_overbooks_a_slot_is_refused(client):
    export = client.get("/__mock/dataset").get_json()["data"]
    slot = next(s for s in export["tables"]["slots"] if s["capacity"] == 1)
    template = export["tables"]["appointments"][0]
    extra = [
        {**template, "appointment_id": 900000 + n, "slot_id": slot["slot_id"], "status": "confirmed"} for n in range(2)
    ]
    export["tables"]["appointments"] += extra
    assert_error(client.put("/__mock/dataset?tenant=sandbox/x", json=export), "INVALID_PARAMETER", 400)


# -- 3: a reset is validated first, then everything or nothing ----------------------------------


@pytest.mark.parametrize("seed", [2**64, -1, True, "7"])
def test_a_refused_reset_changes_nothing(client, api, seed):
    client.post("/__mock/reset", json={"tenant": "sandbox/keep"})
    client.post("/__mock/rules", json={"delay_ms": 1, "tenant": "sandbox/keep"})
    client.post("/__mock/clock/freeze", json={"at": "2025-06-08T10:00:00+02:00", "tenant": "sandbox/keep"})
    response = client.post("/__mock/reset", json={"tenant": "sandbox/keep", "seed": seed})
    assert_error(response, "INVALID_PARAMETER", 400)
    assert len(client.get("/__mock/rules?tenant=sandbox/keep").get_json()["data"]) == 1
    assert client.get("/__mock/clock?tenant=sandbox/keep").get_json()["data"]["now"] == "2025-06-08T10:00:00+02:00"
    assert "sandbox/keep" in [row["tenant"] for row in client.get("/__mock/tenants").get_json()["data"]]


def test_a_reset_keeps_the_clock_unless_asked(client):
    client.post("/__mock/clock/freeze", json={"at": "2025-06-08T10:00:00+02:00", "tenant": "sandbox/t"})
    client.post("/__mock/reset", json={"tenant": "sandbox/t"})
    assert client.get("/__mock/clock?tenant=sandbox/t").get_json()["data"]["now"] == "2025-06-08T10:00:00+02:00"
    client.post("/__mock/reset", json={"tenant": "sandbox/t", "keep_clock": False})
    assert client.get("/__mock/clock?tenant=sandbox/t").get_json()["data"]["now"] == NOW


# -- 4: tenants are bounded ---------------------------------------------------------------------


def test_a_deleted_tenant_comes_back_fresh_when_named_again(client):
    debug = Api(client, token=None, debug=True, tenant="again")
    debug.post("/api/appointment", booking(future_free_slot(debug)))
    total = debug.get("/api/appointments", per_page=1).get_json()["pagination"]["total"]
    assert client.delete("/__mock/tenants/debug/again").status_code == 200
    assert debug.get("/api/appointments", per_page=1).get_json()["pagination"]["total"] == total - 1


# -- 6: the journal is bounded in bytes too -----------------------------------------------------


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "journal_bytes": 1024 * 1024, "workers": 1}])
def test_the_journal_bounds_header_bytes_and_total_bytes(client):
    headers = {f"X-Pad-{n}": "x" * 4000 for n in range(40)}
    for _ in range(300):
        client.get("/api/health", headers=headers)
    entries = client.get("/__mock/journal?limit=1000").get_json()["data"]
    assert 0 < len(entries) < 300
    assert all(sum(len(k) + len(v) for k, v in entry["headers"].items()) < 9000 for entry in entries)
    assert len(client.get("/__mock/journal?limit=1000").get_data()) < 2 * 1024 * 1024
    assert_error(client.get("/__mock/journal?limit=100000"), "INVALID_PARAMETER", 400)


def test_the_journal_file_itself_stays_bounded(tmp_path):
    # Not only what reads show: the rows on disk, by count and by bytes, also after a tenant's entries go.
    import os
    import sqlite3

    from mockserver.store.journal import TRIM_EVERY, Journal

    journal = Journal(tmp_path, size=10, max_bytes=200_000)

    def record(n: int, tenant: str = "sandbox/default") -> None:
        for _ in range(n):
            journal.record(
                tenant=tenant, method="GET", path="/api/health", query=[], headers=[], body=b"",
                status=200, error_code="SUCCESS", rule_id=None, duration_ms=0.1, answer=b"x" * 2000,
            )  # fmt: skip
            journal.flush()

    def on_disk() -> tuple[int, int]:
        with sqlite3.connect(tmp_path / f"{os.getpid()}.sqlite") as conn:
            return conn.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM entries").fetchone()

    record(1500)
    rows, size = on_disk()
    assert journal.count() == 10
    assert rows <= 10 + TRIM_EVERY and size <= 200_000
    record(30, tenant="sandbox/other")
    assert journal.clear(tenant="sandbox/other") == 10
    record(600)
    rows, size = on_disk()
    assert journal.count() == 10 and rows <= 10 + TRIM_EVERY and size <= 200_000
    assert [e["tenant"] for e in journal.entries(limit=20)] == ["sandbox/default"] * 10
    journal.max_bytes = 30_000  # the byte bound alone: 3/4 of it kept, the newest entries
    record(1)
    assert on_disk()[1] <= 30_000 and journal.count() == on_disk()[0] <= 10


def test_journal_entries_keep_their_own_answer_when_answers_repeat(tmp_path):
    # Answers are stored once per file: entries must still read back their own, across trims and past the
    # number of answers remembered, and the stored answers stay bounded by the entries that use them.
    import os
    import sqlite3

    from mockserver.store.journal import ANSWERS_REMEMBERED, TRIM_EVERY, Journal

    journal = Journal(tmp_path, size=20)
    distinct = ANSWERS_REMEMBERED + 44
    for n in range(3 * distinct):
        k = (n * 7) % distinct if n < 2 * distinct else n % 3  # many answers, then a few repeated ones
        journal.record(
            tenant="sandbox/default", method="GET", path="/api/calendars", query=[("k", str(k))], headers=[],
            body=b"", status=200, error_code="SUCCESS", rule_id=None, duration_ms=0.1,
            answer_type="application/json", answer=b'{"k": %d}' % k,
        )  # fmt: skip
        if n % 7 == 0:
            journal.flush()
    entries = journal.entries(limit=20)
    assert len(entries) == 20
    assert all(entry["response"]["body"] == {"k": int(entry["query"]["k"])} for entry in entries)
    with sqlite3.connect(tmp_path / f"{os.getpid()}.sqlite") as conn:
        stored = conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
    assert stored <= 20 + TRIM_EVERY


def test_journal_pages_back_with_before(client, api):
    for n in range(5):
        api.get("/api/calendars", page=n + 1)
    newest = client.get("/__mock/journal?limit=2").get_json()["data"]
    older = client.get(f"/__mock/journal?limit=2&before={newest[0]['id']}").get_json()["data"]
    assert [e["query"]["page"] for e in older + newest] == ["2", "3", "4", "5"]


# -- 7, 16: hostile input is the documented 400 envelope, never a 500 ----------------------------


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/clients?created_to=9999-12-31", None),
        ("/api/clients/1?created_to=9999-12-31", None),
        ("/api/clients?created_from=0001-01-01&created_to=0001-12-31", None),
        ("/api/statistics/appointments?period=specific_day&date=9999-12-31", None),
        ("/api/statistics/appointments?period=custom&start_date=9999-01-01&end_date=9999-12-31", None),
        ("/api/statistics/1?period=custom&start_date=0001-01-01&end_date=0001-12-31", None),
        ("/api/calendars/%EF%BC%91", "INVALID_PARAMETER"),
        ("/api/calendars?page=%EF%BC%92", "INVALID_PARAMETER"),
        ("/api/slots?calendar_id=1&date_from=%EF%BC%92025-06-07", "INVALID_DATE_FORMAT"),
    ],
)
def test_extreme_query_values_answer_without_a_server_error(api, path, code):
    response = api.client.get(path, headers=api.headers())
    if code is None:
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        assert_error(response, code, 400)


HUGE = "1" + "0" * 4400
PEOPLE = (
    b'"client_firstname": "A", "client_lastname": "B", "client_email": "a@example.org", "client_phone": "0612345678"'
)


@pytest.mark.parametrize(
    ("method", "url", "raw", "code"),
    [
        ("POST", "/api/appointment", b'{"calendar_id": 1, "slot_id": 9223372036854775808, ' + PEOPLE + b"}", None),
        (
            "POST",
            "/api/appointment",
            b'{"calendar_id": 1, "slot_id": 1000000000000000000000000000000, ' + PEOPLE + b"}",
            None,
        ),
        ("PUT", "/api/appointment/100001", b'{"slot_id": 9223372036854775808}', "INVALID_PARAMETER"),
        ("POST", "/api/appointment", f'{{"calendar_id": {HUGE}}}'.encode(), "INVALID_JSON"),
        ("POST", "/api/appointment", b"[" * 30000, "INVALID_JSON"),
        ("POST", "/__mock/rules", b"[" * 30000, "INVALID_JSON"),
        ("POST", "/__mock/reset", f'{{"seed": {HUGE}}}'.encode(), "INVALID_JSON"),
        ("POST", "/__mock/rules", b'{"delay_ms": 1, "times": 18446744073709551616}', "INVALID_PARAMETER"),
        ("POST", "/__mock/clock/freeze", b'{"at": 1' + b"0" * 400 + b"}", "INVALID_PARAMETER"),
        ("POST", "/__mock/clock/freeze", b'{"at": 1e999}', "INVALID_PARAMETER"),
        ("POST", "/__mock/clock/advance", b'{"by": 1e999}', "INVALID_PARAMETER"),
        ("POST", "/__mock/clock/advance", b'{"by": {"days": 1}}', "INVALID_PARAMETER"),
    ],
)
def test_hostile_bodies_are_the_documented_400(client, method, url, raw, code):
    headers = {"Access-Token": DEFAULT_TOKEN, "Content-Type": "application/json"}
    response = client.open(url, method=method, data=raw, headers=headers)
    body = assert_error(response, code or "INVALID_PARAMETER", 400)
    assert "Internal" not in body["message"]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ('{"slot_id": NaN}', '{"slot_id": NaN}'),  # not standard JSON: the text as sent, not null
        ('{"slot_id": 1e999}', '{"slot_id": 1e999}'),
        ('{"notes": "\\ud800"}', '{"notes": "\\ud800"}'),  # was a 500 of GET /__mock/journal
        ('{"slot_id": 123456789012345678901234567890}', {"slot_id": 123456789012345678901234567890}),  # exact
        (f'{{"slot_id": {HUGE}}}', f'{{"slot_id": {HUGE}}}'),  # past Python's 4,300 digits: text
    ],
)
def test_the_journal_shows_a_hostile_body_as_sent(app, client, monkeypatch, raw, shown):
    from mockserver.control import stream

    monkeypatch.setattr(stream, "SETTLE_MS", 0)
    monkeypatch.setattr(stream, "POLL_SECONDS", 0.01)
    headers = {"Access-Token": DEFAULT_TOKEN, "Content-Type": "application/json"}
    client.post("/api/appointment", data=raw, headers=headers)
    entries = client.get("/__mock/journal?limit=1").get_json()["data"]
    assert entries[0]["body"] == shown
    # The live stream sends the same entry (an integer past 64 bits ended the stream).
    events = stream.follow(app.extensions["tap4book"].journal, {}, entries[0]["id"] - 1)
    with app.test_request_context():
        next(events)  # the stream's preamble
        sent = next(chunk for chunk in itertools.islice(events, 20) if "event: entry" in chunk)  # or StopIteration
    events.close()
    assert json.loads(sent.split("data: ", 1)[1])["body"] == shown


def test_an_unpaired_surrogate_in_a_name_is_refused_and_books_nothing(api):
    slot = future_free_slot(api)
    raw = (
        f'{{"calendar_id": 1, "slot_id": {slot["slot_id"]}, "client_firstname": "\\ud800", "client_lastname": "X",'
        ' "client_email": "s@example.org", "client_phone": "+33612345678"}'
    )
    response = api.client.post(
        "/api/appointment", data=raw, headers={**api.headers(), "Content-Type": "application/json"}
    )
    assert_error(response, "INVALID_PARAMETER", 400)
    assert api.data(f"/api/slots/{slot['slot_id']}")["booked_appointments"] == slot["booked_appointments"]


# -- 8: rules that would break every request they match are refused ------------------------------


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"status": 200, "headers": {"X-A": "a\r\nSet-Cookie: x"}}, "headers.X-A"),
        ({"status": 200, "headers": {"X-A": "café ☕"}}, "headers.X-A"),
        ({"status": 200, "headers": {"Bad Name": "a"}}, "headers"),
        ({"status": 200, "content_type": "text/plain\r\nX: y"}, "content_type"),
        ({"status": 200, "body": "\ud800"}, "body"),
        ({"error_code": "INTERNAL_ERROR", "message": "\ud800"}, "message"),
    ],
)
def test_rules_that_cannot_be_sent_are_refused_naming_the_field(client, rule, field):
    body = assert_error(client.post("/__mock/rules", json=rule), "INVALID_PARAMETER", 400)
    assert f"rule.{field}" in body["message"]
    assert client.get("/__mock/rules").get_json()["data"] == []


def test_stacked_delays_are_capped_per_request(client, api, monkeypatch):
    from mockserver.control import switches

    slept: list[float] = []
    # The delay's own sleep only: patching time.sleep would also count the journal flusher's naps.
    monkeypatch.setattr(switches.requestlock, "sleep", slept.append)
    for _ in range(3):
        client.post("/__mock/rules", json={"path": "/api/health", "delay_ms": 60000})
    assert api.get("/api/health").status_code == 200
    assert sum(slept) == pytest.approx(60.0)


# -- 12: cross-site requests cannot drive the control API ----------------------------------------


def test_control_writes_need_a_json_content_type(client):
    response = client.post("/__mock/reset", data='{"seed": 1}', content_type="text/plain")
    body = assert_error(response, "INVALID_JSON", 400)
    assert "application/json" in body["message"]
    assert client.post("/__mock/reset").status_code == 200  # no body: curl -X POST stays simple


def test_control_writes_from_another_site_are_refused(client):
    before = _state(client)
    response = client.post("/__mock/reset", headers={"Origin": "https://evil.example"})
    assert_error(response, "INVALID_PARAMETER", 400)
    assert _state(client) == before
    assert client.post("/__mock/reset", headers={"Origin": "http://localhost"}).status_code == 200


def test_no_preflight_answer_for_control_calls_from_other_origins(client):
    response = client.options(
        "/__mock/reset", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in response.headers


# -- 13, 14, 17, 18, 19: names, search, text, switches, masking ----------------------------------


@pytest.mark.parametrize("name", ["w1\n", "w1\r", " w1", "-w1", "w/1", "a" * 65])
def test_a_malformed_tenant_name_is_refused_everywhere(client, name):
    assert_error(client.post("/__mock/reset", json={"tenant": name}), "INVALID_PARAMETER", 400)
    if "\n" not in name and "\r" not in name:  # the test client cannot send those in a header
        response = client.get("/api/calendars", headers={"X-Debug": "true", "X-Mock-Tenant": name})
        assert_error(response, "INVALID_PARAMETER", 400)


def test_search_finds_text_after_a_nul(api):
    slot = future_free_slot(api)
    body = {**booking(slot, "ann.nul@example.com"), "client_firstname": "Ann\u0000e"}
    assert api.post("/api/appointment", body).status_code == 200
    assert api.get("/api/clients", search="nul").get_json()["pagination"]["total"] == 1
    assert api.get("/api/clients", search="e dupont").get_json()["pagination"]["total"] == 0
    assert api.get("/api/clients", search="ann.nul@example.com").get_json()["pagination"]["total"] == 1


def test_text_is_stored_as_sent(api):
    slot = future_free_slot(api)
    created = api.post("/api/appointment", {**booking(slot), "client_firstname": "  Jean  "}).get_json()
    assert created["data"]["appointment"]["client_firstname"] == "  Jean  "


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "control_api": False}])
def test_without_the_control_api_no_switch_forces_anything(client):
    assert client.get("/api/health", headers={"X-Mock-Scenario": "INTERNAL_ERROR"}).status_code == 200
    assert client.get("/api/health?__scenario=AUTH_INVALID").status_code == 200


def test_tokens_are_masked_wherever_they_appear_in_the_journal(app, client):
    FlaskClient(app).get(  # unchecked: Access_Token is no declared parameter
        f"/api/calendars?Access_Token={DEFAULT_TOKEN}",
        headers={
            "Referer": f"http://app.example/?access_token={DEFAULT_TOKEN}",
            "access_token": DEFAULT_TOKEN,
            "X-Forwarded-Token": DEFAULT_TOKEN,
        },
    )
    entry = client.get("/__mock/journal?limit=1").get_json()["data"][0]
    assert DEFAULT_TOKEN not in str(entry)
    assert DEFAULT_TOKEN[:4] in entry["headers"]["Referer"]
