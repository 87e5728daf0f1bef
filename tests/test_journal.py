"""The request journal (GET|DELETE /__mock/journal, /journal/count): secrets masked in every part of an entry,
the journal off, entry ids, and the filters by id, credentials, body and headers (issues 21 and 22)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import DEFAULT_TOKEN, NOW, Api, assert_error
from flask import Flask
from flask.testing import FlaskClient

from mockserver.auth import make_token
from mockserver.store.journal import BODY_LIMIT, Journal

OTHER_TOKEN = make_token("sandbox-2", "second-sandbox-secret")
STAGING_TOKEN = make_token("staging-demo", "staging-demo-secret")
ADMIN = "the-admin-token-1234"


def _journal(client: FlaskClient, headers: dict[str, str] | None = None, **query: Any) -> list[dict[str, Any]]:
    response = client.get("/__mock/journal", query_string={"limit": 1000, **query}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["data"]


def _count(client: FlaskClient, **query: Any) -> int:
    response = client.get("/__mock/journal/count", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["data"]["count"]


# -- issue 22, item 2: every known token masked wherever it appears -------------------------------


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "cache_dir": "off", "admin_token": ADMIN}])
def test_every_known_token_is_masked_in_every_part_of_an_entry(app: Flask) -> None:
    raw = FlaskClient(app)  # unchecked: these requests send names no description declares
    mine = {"Access-Token": DEFAULT_TOKEN}
    admin = {"X-Mock-Admin-Token": ADMIN}
    raw.get(f"/api/calendars/{OTHER_TOKEN}", headers=mine)  # a path segment
    raw.get(f"/api/calendars?{OTHER_TOKEN}=1&q={STAGING_TOKEN.upper()}", headers=mine)  # a query name; a value
    raw.get("/api/calendars", headers={**mine, OTHER_TOKEN: "x", "X-Note": f"admin {ADMIN}"})  # header name, value
    raw.get("/api/calendars", headers={**mine, "X-Mock-Scenario": OTHER_TOKEN})  # echoed by the hint and answer
    raw.post(
        "/__mock/rules", json={"path": f"/api/clients/{STAGING_TOKEN}", "error_code": "INTERNAL_ERROR"}, headers=admin
    )
    raw.get(f"/api/clients/{STAGING_TOKEN}", headers=mine)  # the rule's hint names its path
    raw.post("/api/appointment", json={"note": OTHER_TOKEN}, headers=mine)  # the body
    entries = _journal(raw, headers=admin)
    assert len(entries) == 6
    shown = json.dumps(entries, ensure_ascii=False).lower()
    for secret in (OTHER_TOKEN, STAGING_TOKEN, ADMIN, DEFAULT_TOKEN):
        assert secret.lower() not in shown
        assert secret[:4].lower() + "…" in shown  # masked, not dropped: two secrets can still be told apart
    assert entries[0]["path"] == f"/api/calendars/{OTHER_TOKEN[:4]}…"
    assert f"{OTHER_TOKEN[:4]}…" in entries[1]["query"]
    assert entries[3]["hint"] and entries[4]["hint"]


@pytest.mark.parametrize(
    "settings", [{"now": NOW, "log_format": "off", "cache_dir": "off", "max_body_bytes": 2 * BODY_LIMIT}]
)
def test_a_token_cut_at_the_body_limit_is_masked_not_half_shown(api: Api, client: FlaskClient) -> None:
    # The journal keeps BODY_LIMIT bytes of a body: a token across that border must not survive as a prefix.
    padding = "x" * (BODY_LIMIT - 40 - len('{"a": "') - len('", "b": "'))  # the token: 40 bytes in, 24 out
    raw = f'{{"a": "{padding}", "b": "{OTHER_TOKEN}", "c": "{"y" * 200}"}}'  # still over the limit once masked
    client.post("/api/appointment", data=raw, headers={**api.headers(), "Content-Type": "application/json"})
    body = _journal(client)[0]["body"]
    assert isinstance(body, str) and len(body.encode()) == BODY_LIMIT  # cut, as text
    assert OTHER_TOKEN[:8] not in body


# -- issue 22, item 12: --journal-size 0 -----------------------------------------------------------


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "cache_dir": "off", "journal_size": 0}])
def test_a_journal_of_size_0_is_empty_and_every_call_answers(api: Api, client: FlaskClient) -> None:
    assert api.get("/api/calendars").status_code == 200
    assert client.post("/__mock/reset").status_code == 200
    assert _journal(client) == []
    assert _count(client) == 0
    cleared = client.delete("/__mock/journal")
    assert cleared.status_code == 200 and cleared.get_json()["data"]["removed"] == 0


def test_record_gives_each_call_its_entry_id_even_with_the_journal_off(tmp_path: Any) -> None:
    call = {
        "tenant": None, "method": "GET", "path": "/api/x", "query": [], "headers": [], "body": b"", "status": 401,
        "error_code": "AUTH_REQUIRED", "rule_id": None, "duration_ms": 1.0,
    }  # fmt: skip
    on, off = Journal(tmp_path / "on", size=10), Journal(tmp_path / "off", size=0)
    first, second = on.record(**call), on.record(**call)
    assert second > first > 0
    assert [row.id for row in on.rows()] == [first, second]
    assert off.record(**call) < off.record(**call)
    assert off.rows() == [] and off.count() == 0


# -- issue 21: filters by id, credentials, body and headers ----------------------------------------


def test_the_journal_filters_by_entry_id(api: Api, client: FlaskClient) -> None:
    api.get("/api/calendars")
    api.get("/api/clients")
    wanted = _journal(client)[0]
    assert [entry["path"] for entry in _journal(client, id=wanted["id"])] == ["/api/calendars"]
    assert _count(client, id=wanted["id"]) == 1
    assert _count(client, id=1) == 0


def test_the_journal_filters_the_calls_without_valid_credentials(client: FlaskClient) -> None:
    Api(client).get("/api/calendars")
    Api(client, token=None).get("/api/calendars")  # no token
    Api(client, token=DEFAULT_TOKEN + "0").get("/api/clients")  # a token that fails
    unauthenticated = _journal(client, unauthenticated="true")
    assert [(entry["path"], entry["tenant"]) for entry in unauthenticated] == [
        ("/api/calendars", None),
        ("/api/clients", None),
    ]
    assert DEFAULT_TOKEN not in json.dumps(unauthenticated)
    assert [entry["tenant"] for entry in _journal(client, unauthenticated="false")] == ["sandbox/default"]
    assert _count(client, unauthenticated="true") == 2


def _book(api: Api, body: dict[str, Any]) -> None:
    api.post("/api/appointment", body)


def test_the_journal_filters_by_a_value_of_the_json_body(api: Api, client: FlaskClient) -> None:
    _book(api, {"calendar_id": 1, "client_email": "jean@example.com", "items": [{"name": "coupe"}], "zip": "75001"})
    _book(api, {"calendar_id": 2, "client_email": "anne@example.org", "items": [{"name": "barbe"}], "zip": 75002})
    _book(api, {"calendar_id": 1, "client_email": "jean@example.com", "paid": True, "note": None})

    def emails(**query: Any) -> list[str | None]:
        return [entry["body"].get("client_email") for entry in _journal(client, **query)]

    assert emails(**{"body.client_email": "jean@example.com"}) == ["jean@example.com", "jean@example.com"]
    assert emails(**{"body.client_email": "*@example.org"}) == ["anne@example.org"]  # a glob
    assert emails(**{"body.client_email": "j?an@*"}) == ["jean@example.com", "jean@example.com"]
    assert emails(**{"body.items.0.name": "barbe"}) == ["anne@example.org"]  # an array index
    assert emails(**{"body.calendar_id": "2"}) == ["anne@example.org"]  # a number
    assert emails(**{"body.calendar_id": '"2"'}) == []  # the string "2": exact, and no body has it
    assert emails(**{"body.zip": "75001"}) == ["jean@example.com"]  # a bare number matches the string too
    assert emails(**{"body.zip": "7500?"}) == ["jean@example.com"]  # a glob matches strings only
    assert emails(**{"body.paid": "true"}) == ["jean@example.com"]
    assert emails(**{"body.note": "null"}) == ["jean@example.com"]
    assert emails(**{"body.missing": "*"}) == []
    both = {"body.client_email": "jean@example.com", "body.calendar_id": "1"}  # every filter must match
    assert len(emails(**both)) == 2
    assert _count(client, **{"body.client_email": "*example*"}) == 3


def test_a_body_filter_skips_a_body_that_is_not_json(api: Api, client: FlaskClient) -> None:
    client.post("/api/appointment", data="client_email=jean@example.com", headers=api.headers())
    _book(api, {"client_email": "jean@example.com"})
    found = _journal(client, **{"body.client_email": "jean@example.com"})
    assert [entry["body"] for entry in found] == [{"client_email": "jean@example.com"}]


def test_the_journal_filters_by_a_request_header_in_any_case(api: Api, client: FlaskClient) -> None:
    api.get("/api/calendars", headers={"X-Client": "shop-frontend/2.1"})
    api.get("/api/clients", headers={"X-Client": "backoffice/1.0"})
    api.get("/api/slots", headers={"x-client": "shop-[beta]"})
    paths = [entry["path"] for entry in _journal(client, **{"header.x-client": "shop-*"})]
    assert paths == ["/api/calendars", "/api/slots"]
    assert [e["path"] for e in _journal(client, **{"header.X-CLIENT": "shop-[beta]"})] == ["/api/slots"]  # [ as is
    assert _count(client, **{"header.x-client": "backoffice/1.0"}) == 1
    assert _count(client, **{"header.x-absent": "*"}) == 0


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"id": "12a"}, "id"),
        ({"id": "-1"}, "id"),
        ({"unauthenticated": "maybe"}, "unauthenticated"),
        ({"status": "6xx"}, "status"),
        ({"body.": "x"}, "body."),
        ({"body.items..name": "x"}, "body.items..name"),
        ({'body.a"b': "x"}, 'body.a"b'),
        ({"header.": "x"}, "header."),
        ({"header.bad name": "x"}, "header.bad name"),
        ({"body.note": "x" * 1025}, "body.note"),
    ],
)
@pytest.mark.parametrize("route", ["/__mock/journal", "/__mock/journal/count", "/__mock/journal/stream"])
def test_a_bad_journal_filter_is_refused_naming_the_parameter(
    app: Flask, client: FlaskClient, route: str, query: dict[str, str], parameter: str
) -> None:
    if route.endswith("/stream"):  # a stream that opened would never end: read it only once refused
        response = FlaskClient(app).get(route, query_string=query, buffered=False)
        response.close()
        assert response.status_code == 400
        response = FlaskClient(app).get(route, query_string=query)
    else:
        response = client.get(route, query_string=query)
    body = assert_error(response, "INVALID_PARAMETER", 400)
    assert body["message"].startswith(parameter)
    assert body["details"] == {"parameter": parameter}
