"""The OpenAPI description (mockserver/openapi.yaml) is valid, matches the app's routes, and every response of
the documented examples and of the ways a request can fail matches it (tests/contract.py)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import contract
import pytest
import yaml
from conftest import DEFAULT_TOKEN, NOW
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from werkzeug.test import TestResponse

from mockserver import api, console, create_app, openapi
from mockserver.api import params
from mockserver.config import Config
from mockserver.control import rules as rule_specs
from mockserver.errors import ALL_CODES, DOCUMENTED
from mockserver.render import FORMATS
from mockserver.statuses import STATUSES
from mockserver.store import transfer
from mockserver.tenancy import TENANT_NAME


@pytest.fixture(scope="module")
def shared_app() -> Iterator[Flask]:
    """One app for the read-only sweeps (and for refused writes, which change nothing)."""
    # Module-scoped: built before the per-test fixture that clears T4B_* variables, so it ignores them itself.
    application = create_app(Config.load({"now": NOW, "log_format": "off"}, environ={}))
    application.testing = False
    yield application


@pytest.fixture(scope="module")
def shared_client(shared_app: Flask) -> FlaskClient:
    return shared_app.test_client()


def checked(response: TestResponse, method: str, url: str, *, forced: bool = False) -> TestResponse:
    """Validate a response against the description and return it."""
    contract.validate_response(
        method, url, response.status_code, response.headers.get("Content-Type", ""), response.get_data(), forced=forced
    )
    return response


def error_code(response: TestResponse) -> str | None:
    """The error_code of a response in any of the three formats."""
    media = response.headers["Content-Type"].split(";")[0]
    if media == "application/json":
        return response.get_json()["error_code"]
    if media == "application/xml":
        return etree.fromstring(response.get_data()).findtext("error_code")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    return rows[0].get("error_code") if rows else None


def with_query(url: str, **extra: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in extra]
    query += list(extra.items())
    return f"{parts.path}?{urlencode(query)}" if query else parts.path


# --- the description itself -------------------------------------------------------------------------


def test_description_is_valid_openapi_3_1() -> None:
    document, _base = read_from_filename(str(contract.SPEC_PATH))
    validate(document)
    assert document["openapi"] == "3.1.0"
    control = [tag for tag in document["tags"] if tag["name"] == "control"]
    assert control, "the control tag is reserved for the /__mock/ API"


def _shape(path: str) -> str:
    # The control index is described as /__mock (linters refuse a trailing slash; the app serves both), while
    # the documentation's /api/ keeps its slash: compare without it.
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path).rstrip("/") or "/"


def test_every_route_is_described_and_every_operation_is_served(shared_app: Flask) -> None:
    """All of /api/ and /__mock/ (HEAD and the CORS preflight OPTIONS are automatic, not operations)."""
    routes = {
        (method, _shape(rule.rule))
        for rule in shared_app.url_map.iter_rules()
        if rule.endpoint != "static"  # Flask's own static route: no folder, always 404 ENDPOINT_NOT_FOUND
        and rule.rule != "/"  # a page of links for people who open the bare URL, not an operation
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    } | {(method, _shape(route.rule)) for route in api.ROUTES for method in route.methods}
    described = {(method, _shape(path)) for method, path in contract.operations()}
    assert {path.split("/")[1] for _, path in routes} == {"api", "__mock"}
    assert routes - described == set(), "routes missing from openapi.yaml"
    assert described - routes == set(), "operations in openapi.yaml that the app does not serve"


def test_the_control_api_has_its_own_tag_and_only_the_sandbox_as_server() -> None:
    document = contract.spec()
    assert document["servers"][0]["url"] == "/", "the documentation page must call the server that served it"
    for template, item in document["paths"].items():
        control = template.startswith("/__mock")
        assert control or template.startswith("/api"), template
        if control:
            assert [server["url"] for server in item["servers"]] == ["/"], template
        for method, operation in item.items():
            if method in contract.METHODS:
                assert (operation["tags"] == ["control"]) == control, (method, template)


def test_control_request_bodies_follow_the_code() -> None:
    schemas = contract.spec()["components"]["schemas"]
    # Described ahead of the server (issue 21): the rule matchers another change brings; once it has landed, the
    # description and the code name the same fields again.
    ahead = {"match_headers", "match_body"} - rule_specs._KEYS
    assert set(schemas["RuleRequest"]["properties"]) == rule_specs._KEYS | ahead
    assert tuple(schemas["HttpMethod"]["enum"]) == rule_specs.METHODS
    delay = schemas["DelayMs"]["oneOf"]
    assert delay[0]["maximum"] == delay[1]["items"]["maximum"] == rule_specs.MAX_DELAY_MS
    tables = schemas["DatasetTables"]["properties"]
    assert {name: tuple(table["items"]["required"]) for name, table in tables.items()} == transfer.TABLES
    assert schemas["DatasetDocument"]["properties"]["format_version"]["const"] == transfer.FORMAT_VERSION
    assets = contract.spec()["paths"]["/__mock/docs/{asset}"]["parameters"][0]["schema"]["enum"]
    assert set(assets) == set(openapi.ASSETS)
    assets = contract.spec()["paths"]["/__mock/console/{asset}"]["parameters"][0]["schema"]["enum"]
    assert set(assets) == set(console.ASSETS)


def test_enumerations_follow_the_code() -> None:
    schemas = contract.spec()["components"]["schemas"]
    parameters = contract.spec()["components"]["parameters"]
    assert schemas["ErrorCode"]["enum"] == list(ALL_CODES)
    assert tuple(schemas["MockFault"]["enum"]) == rule_specs.FAULTS
    assert [code for code in schemas["ScenarioSwitch"]["enum"] if code in DOCUMENTED] == list(DOCUMENTED)
    assert schemas["ScenarioSwitch"]["enum"] == [*ALL_CODES, *rule_specs.FAULTS]
    assert tuple(schemas["AppointmentStatus"]["enum"]) == STATUSES
    assert tuple(schemas["Period"]["enum"]) == params.PERIODS
    assert tuple(parameters["scope"]["schema"]["enum"]) == params.SCOPES
    per_page = parameters["per_page"]["schema"]
    assert (per_page["maximum"], per_page["default"]) == (params.MAX_PER_PAGE, params.DEFAULT_PER_PAGE)
    assert parameters["XMockTenant"]["schema"]["pattern"] == f"^{TENANT_NAME.pattern}$"


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = contract.lookup(node["$ref"][1:])
    return node


def _responses() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(method, template, status, response as written) of every operation."""
    for template, item in contract.spec()["paths"].items():
        for method, operation in item.items():
            if method in contract.METHODS:
                for status, response in operation["responses"].items():
                    yield method, template, status, response


def test_each_error_response_accepts_every_code_of_its_status_and_lists_its_own() -> None:
    """A scenario can force any code on any operation, and validating proxies (Prism) match the explicit status
    before `default`: each error response's schema takes every code of its status, and `x-error-codes` names
    the codes the operation gives unforced (tests/contract.py holds the server to those)."""
    for method, template, status, written in _responses():
        if status == "default" or int(status) < 400:
            continue
        response = _resolve(written)
        properties = _resolve(response["content"]["application/json"]["schema"])["properties"]
        assert properties["http_code"]["enum"] == [int(status)], (method, template, status)
        accepted = properties["error_code"]["enum"]
        if template.startswith("/api"):
            assert accepted == [code for code, error in ALL_CODES.items() if error.status == int(status)]
        own = response["x-error-codes"]
        assert own and set(own) <= set(accepted), (method, template, status)


def _media_examples() -> Iterator[tuple[str, str, Any]]:
    """(where, schema pointer, value) of every example of a JSON body, requests and responses alike."""
    places = [
        (f"/paths/{contract._escape(template)}/{method}", operation)
        for template, item in contract.spec()["paths"].items()
        for method, operation in item.items()
        if method in contract.METHODS
    ]
    media: list[str] = []
    for pointer, operation in places:
        if "requestBody" in operation:
            media.append(f"{pointer}/requestBody/content/application~1json")
        for status, response in operation["responses"].items():
            if "$ref" not in response:
                media.append(f"{pointer}/responses/{status}/content/application~1json")
    media += [
        f"/components/responses/{name}/content/application~1json" for name in contract.spec()["components"]["responses"]
    ]
    for pointer in media:
        try:
            content = contract.lookup(pointer)
        except KeyError:
            continue
        for name, example in (content.get("examples") or {}).items():
            yield f"{pointer}/examples/{name}", f"{pointer}/schema", example["value"]


def test_every_example_matches_its_schema() -> None:
    """Linters (Spectral's oas3-valid-media-example, Redocly's no-invalid-media-type-examples) and mock servers
    take the examples as answers: the vendor's, which lack the sandbox's fields, are under x-vendor-examples."""
    seen = 0
    for where, schema, value in _media_examples():
        errors = [error.message for error in contract._validator(schema).iter_errors(value)]
        assert not errors, (where, errors[:3])
        seen += 1
    assert seen >= 25


def _ids(value: Any, skip: str | None = None) -> Iterator[tuple[str, int]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("calendar_id", "slot_id", "appointment_id", "client_id") and isinstance(item, int):
                if key != skip:
                    yield key, item
            else:
                yield from _ids(item, skip)
    elif isinstance(value, list):
        for item in value:
            yield from _ids(item, skip)


def test_every_example_id_exists_in_the_default_dataset(shared_client: FlaskClient) -> None:
    """An integrator who sends an example (Postman, Swagger UI's "Try it out") must not get a 404."""
    ids: set[tuple[str, int]] = set()
    for where, _schema, value in _media_examples():
        # the appointment a booking creates is new by definition
        created = "createAppointment" in where or "/paths/~1api~1appointment/post/responses" in where
        ids |= set(_ids(value, "appointment_id" if created else None))
    for template, item in contract.spec()["paths"].items():
        if not template.startswith("/api"):
            continue
        for operation in [item, *(item[m] for m in item if m in contract.METHODS)]:
            for parameter in operation.get("parameters", []):
                parameter = _resolve(parameter)
                values = [parameter["example"]] if "example" in parameter else []
                values += [example["value"] for example in parameter.get("examples", {}).values()]
                kind = {"calendar_id": "calendar_id", "client_id": "client_id", "slot_id": "slot_id"}.get(
                    parameter["name"]
                )
                ids |= {(kind, value) for value in values if kind and isinstance(value, int)}
    assert {kind for kind, _ in ids} == {"calendar_id", "slot_id", "appointment_id", "client_id"}
    resource = {
        "calendar_id": "calendars",
        "slot_id": "slots",
        "appointment_id": "appointments",
        "client_id": "clients",
    }
    for kind, value in sorted(ids):
        url = (
            f"/api/{resource[kind]}/{value}?scope=detail"
            if kind in ("appointment_id", "client_id")
            else f"/api/{resource[kind]}/{value}"
        )
        response = shared_client.get(url, headers={"Access-Token": DEFAULT_TOKEN})
        assert response.status_code == 200, (kind, value, response.get_json()["error_code"])


def test_every_answer_names_its_request_id_and_every_failure_a_hint() -> None:
    """X-Request-Id on the API's answers (each is a journal entry; control calls are not journaled)."""
    request_id, hint = ({"$ref": f"#/components/headers/{name}"} for name in ("X-Request-Id", "X-Mock-Hint"))
    for _method, template, status, response in _responses():
        headers = _resolve(response).get("headers", {})
        expected = request_id if template.startswith("/api") else None
        assert headers.get("X-Request-Id") == expected, (template, status)
        if status == "default" or int(status) >= 400:
            assert headers.get("X-Mock-Hint") == hint, (template, status)


def test_flow_mappings_close_deeper_than_their_key() -> None:
    """Redocly's YAML parser refuses a flow mapping whose closing brace sits at its key's column ("deficient
    indentation"); PyYAML accepts it, so only this check (and Redocly itself, tests/test_tools.py) sees it."""
    lines = contract.SPEC_PATH.read_text().splitlines()
    indent = [len(line) - len(line.lstrip()) if line.strip() else None for line in lines]
    for number, line in enumerate(lines):
        if re.fullmatch(r" *[A-Za-z_][\w-]*: [{\[]", line):
            after = next(
                k for k in range(number + 1, len(lines)) if (indent[k] or 0) > 0 and indent[k] <= indent[number]
            )
            assert not lines[after].lstrip().startswith(("}", "]")), f"openapi.yaml line {after + 1}"


def test_every_api_response_offers_the_three_formats_and_every_control_response_json() -> None:
    for template, item in contract.spec()["paths"].items():
        for method, operation in item.items():
            if method not in contract.METHODS:
                continue
            for status, response in operation["responses"].items():
                media = set(_resolve(response).get("content", {}))
                if template.startswith("/api"):
                    assert media == {"application/json", "application/xml", "text/csv"}, (method, template, status)
                elif template == "/__mock/journal/stream" and status == "200":
                    assert media == {"text/event-stream"}
                elif not operation["operationId"].startswith(("openapi", "console")) or int(status) >= 400:
                    assert media == {"application/json"}, (method, template, status)


# --- the documented GET examples, in every format, with a token and in debug mode -------------------

#: Every GET example of the API documentation: the "Exemple :" lines, the curl, JavaScript and PHP examples.
DOCUMENTED_GETS = (
    # Endpoints d'information
    "/api/",
    "/api",
    "/api/health",
    # Formats de sortie, Authentification, Mode Debug, Endpoints Calendriers
    "/api/calendars",
    "/api/calendars/1",
    # Endpoints Créneaux (and a slot id of the sandbox's dataset: the documentation's 123 does not exist)
    "/api/slots?calendar_id=1&date_from=2025-06-15&date_to=2025-06-20",
    "/api/slots/10001",
    # Endpoints Rendez-vous (and an appointment id of the sandbox's dataset)
    "/api/appointments?calendar_id=1&status=confirmed&page=2&per_page=20",
    "/api/appointments/100001",
    # Endpoints spécifiques à un calendrier
    "/api/appointments/1?status=confirmed&date_from=2025-06-01",
    "/api/clients/1?search=martin",
    "/api/statistics/1?period=last30days",
    # Endpoints Clients (and a client id of the sandbox's dataset)
    "/api/clients?search=jean&page=1&per_page=10",
    "/api/clients/1001",
    # Endpoints Statistiques
    "/api/statistics/appointments?period=today",
    "/api/statistics/appointments?period=last7days&calendar_id=1",
    "/api/statistics/appointments?period=specific_day&date=2025-06-15",
    "/api/statistics/appointments?period=custom&start_date=2025-06-01&end_date=2025-06-30",
    "/api/statistics/calendars",
    "/api/statistics/clients",
    # Pagination: exemples d'utilisation
    "/api/appointments?per_page=20",
    "/api/appointments?page=3&per_page=100",
    "/api/appointments?page=2&per_page=50&status=confirmed&calendar_id=1",
    "/api/appointments?format=csv&per_page=1000",
    # Dashboard avec statistiques
    "/api/appointments?date_from=2025-06-07&per_page=10",
    # Export pour facturation
    "/api/appointments?format=csv&date_from=2025-06-01&date_to=2025-06-30&per_page=1000",
    "/api/clients?format=csv&created_from=2025-06-01",
    # Intégration JavaScript
    "/api/statistics/appointments?period=last30days&calendar_id=1",
    "/api/clients?search=jean&per_page=10",
    # Tests en mode debug
    "/api/calendars?debug=true",
    "/api/appointments/1?debug=true&status=confirmed",
    "/api/statistics/1?debug=true&period=last7days",
    "/api/clients/1?debug=true&search=jean",
    "/api/appointments?debug=true&format=csv",
    # Intégration PHP
    "/api/statistics/appointments?period=last7days",
    "/api/clients?search=martin&page=1&per_page=50",
)

#: How a call is authorised: (name, extra query, headers).
MODES = (
    ("token-header", {}, {"Access-Token": DEFAULT_TOKEN}),
    ("token-query", {"access_token": DEFAULT_TOKEN}, {}),
    ("debug-param", {"debug": "true"}, {}),
    ("debug-header", {}, {"X-Debug": "true"}),
)


@pytest.mark.parametrize("mode", MODES, ids=[mode[0] for mode in MODES])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("example", DOCUMENTED_GETS)
def test_documented_examples_match_the_description(
    shared_client: FlaskClient, example: str, fmt: str, mode: tuple[str, dict[str, str], dict[str, str]]
) -> None:
    name, query, headers = mode
    extra = {"format": fmt, **query}
    parts = urlsplit(example)
    if not name.startswith("debug"):
        kept = [(k, v) for k, v in parse_qsl(parts.query) if k != "debug"]
        example = f"{parts.path}?{urlencode(kept)}" if kept else parts.path
    url = with_query(example, **extra)
    response = checked(shared_client.get(url, headers=headers), "GET", url)
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("application/json", "application/json"),
        ("application/xml", "application/xml"),
        ("text/csv", "text/csv"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json"),
    ],
)
@pytest.mark.parametrize("path", ["/api/calendars", "/api/calendars/1", "/api/statistics/clients", "/api/nope"])
def test_accept_negotiation_matches_the_description(
    shared_client: FlaskClient, accept: str, media: str, path: str
) -> None:
    response = checked(shared_client.get(path, headers={"Accept": accept, "Access-Token": DEFAULT_TOKEN}), "GET", path)
    assert response.headers["Content-Type"].startswith(media)


# --- the ways a request can fail, in every format ---------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """Ids of the default dataset that the failure cases need, found through the API."""

    free_slot: int
    full_slot: int
    past_slot: int
    other_calendar_slot: int
    inactive_calendar: int
    appointment: int


def _find_targets(client: FlaskClient) -> Targets:
    headers = {"Access-Token": DEFAULT_TOKEN}

    def records(url: str) -> list[dict[str, Any]]:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["data"]

    future = records("/api/slots?calendar_id=1&date_from=2025-06-09&date_to=2025-06-20&per_page=1000")
    past = records("/api/slots?calendar_id=1&date_from=2025-06-02&date_to=2025-06-06&per_page=1000")
    other = records("/api/slots?calendar_id=2&date_from=2025-06-09&date_to=2025-06-20&per_page=1000")
    calendars = records("/api/calendars?per_page=1000")
    upcoming = records("/api/appointments/1?status=pending,confirmed&date_from=2025-06-09&per_page=1000")
    appointment = upcoming[0]
    return Targets(
        free_slot=next(s["slot_id"] for s in future if s["is_available"]),
        # A full slot other than the appointment's own: moving there must be refused, not a no-op.
        full_slot=next(
            s["slot_id"]
            for s in future
            if s["booked_appointments"] >= s["capacity"] and s["slot_id"] != appointment["slot_id"]
        ),
        past_slot=past[0]["slot_id"],
        other_calendar_slot=other[0]["slot_id"],
        inactive_calendar=next(c["calendar_id"] for c in calendars if not c["is_active"]),
        appointment=appointment["appointment_id"],
    )


@pytest.fixture(scope="module")
def targets(shared_client: FlaskClient) -> Targets:
    return _find_targets(shared_client)


def booking(t: Targets, **changes: Any) -> dict[str, Any]:
    body = {
        "calendar_id": 1,
        "slot_id": t.free_slot,
        "client_firstname": "Jean",
        "client_lastname": "Dupont",
        "client_email": "jean.dupont@example.com",
        "client_phone": "+33123456789",
        "status": "pending",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


@dataclass(frozen=True)
class Failure:
    name: str
    status: int
    code: str
    method: str = "GET"
    url: str | Callable[[Targets], str] = ""
    json: Any = None  # a body, or a function of the targets giving one
    data: bytes | None = None  # a raw body instead of json
    content_type: str | None = None
    auth: str = "token"  # token | none | bad-header | bad-query
    headers: dict[str, str] = field(default_factory=dict)
    pin_format: bool = False  # the case sets its own format


# fmt: off
FAILURES = (
    # Authentification
    Failure("no-token", 401, "AUTH_REQUIRED", url="/api/calendars", auth="none"),
    Failure("bad-token", 401, "AUTH_INVALID", url="/api/calendars/1", auth="bad-header"),
    Failure("bad-query-token", 401, "AUTH_INVALID", url="/api/appointments", auth="bad-query"),
    Failure("no-token-statistics-root", 401, "AUTH_REQUIRED", url="/api/statistics", auth="none"),
    Failure("no-token-post", 401, "AUTH_REQUIRED", method="POST", url="/api/appointment", json=booking, auth="none"),
    # Parameters common to every operation
    Failure("unknown-format", 400, "INVALID_PARAMETER", url="/api/calendars?format=yaml", pin_format=True),
    Failure("bad-tenant", 400, "INVALID_PARAMETER", url="/api/", headers={"X-Mock-Tenant": "-bad name"}),
    Failure("page-zero", 400, "INVALID_PARAMETER", url="/api/calendars?page=0"),
    Failure("per-page-too-big", 400, "INVALID_PARAMETER", url="/api/appointments?per_page=1001"),
    Failure("per-page-not-a-number", 400, "INVALID_PARAMETER", url="/api/clients?per_page=ten"),
    # Calendars
    Failure("calendar-id-not-a-number", 400, "INVALID_PARAMETER", url="/api/calendars/abc"),
    Failure("calendar-id-zero", 400, "INVALID_PARAMETER", url="/api/calendars/0"),
    Failure("unknown-calendar", 404, "CALENDAR_NOT_FOUND", url="/api/calendars/999"),
    # Slots
    Failure("slots-without-calendar", 400, "MISSING_CALENDAR_ID", url="/api/slots?date_from=2025-06-15"),
    Failure("slots-without-date", 400, "INVALID_PARAMETER", url="/api/slots?calendar_id=1"),
    Failure("slots-bad-date", 400, "INVALID_DATE_FORMAT", url="/api/slots?calendar_id=1&date_from=2025-13-01"),
    Failure("slots-long-range", 400, "DATE_RANGE_TOO_LARGE",
            url="/api/slots?calendar_id=1&date_from=2024-01-01&date_to=2025-06-01"),
    Failure("slots-reversed-range", 400, "INVALID_PARAMETER",
            url="/api/slots?calendar_id=1&date_from=2025-06-20&date_to=2025-06-15"),
    Failure("slots-unknown-calendar", 404, "CALENDAR_NOT_FOUND", url="/api/slots?calendar_id=99&date_from=2025-06-15"),
    Failure("documented-slot-id", 404, "SLOT_NOT_FOUND", url="/api/slots/123"),
    # Appointments
    Failure("unknown-status", 400, "INVALID_PARAMETER", url="/api/appointments?status=confirmed,booked"),
    Failure("french-date", 400, "INVALID_DATE_FORMAT", url="/api/appointments?date_from=01/06/2025"),
    Failure("client-id-zero", 400, "INVALID_PARAMETER", url="/api/appointments?client_id=0"),
    Failure("appointments-unknown-calendar", 404, "CALENDAR_NOT_FOUND", url="/api/appointments?calendar_id=998"),
    Failure("documented-appointment-id", 404, "CALENDAR_NOT_FOUND", url="/api/appointments/456"),
    Failure("unknown-appointment", 404, "RESOURCE_NOT_FOUND", url="/api/appointments/999999"),
    Failure("calendar-as-detail", 404, "RESOURCE_NOT_FOUND", url="/api/appointments/1?scope=detail"),
    Failure("appointment-as-calendar", 404, "CALENDAR_NOT_FOUND", url="/api/appointments/100001?scope=calendar"),
    Failure("unknown-scope", 400, "INVALID_PARAMETER", url="/api/appointments/1?scope=everything"),
    Failure("scoped-bad-date", 400, "INVALID_DATE_FORMAT", url="/api/appointments/1?date_to=tomorrow"),
    # Clients
    Failure("clients-bad-created-from", 400, "INVALID_DATE_FORMAT", url="/api/clients?created_from=2025-06"),
    Failure("clients-long-range", 400, "DATE_RANGE_TOO_LARGE",
            url="/api/clients?created_from=2020-01-01&created_to=2025-01-01"),
    Failure("unknown-client", 404, "RESOURCE_NOT_FOUND", url="/api/clients/999999"),
    Failure("clients-unknown-calendar", 404, "CALENDAR_NOT_FOUND", url="/api/clients/999"),
    # Statistics
    Failure("statistics-without-period", 400, "INVALID_PARAMETER", url="/api/statistics/appointments"),
    Failure("statistics-unknown-period", 400, "INVALID_PARAMETER", url="/api/statistics/appointments?period=lastyear"),
    Failure("specific-day-without-date", 400, "INVALID_PARAMETER",
            url="/api/statistics/appointments?period=specific_day"),
    Failure("custom-bad-date", 400, "INVALID_DATE_FORMAT",
            url="/api/statistics/appointments?period=custom&start_date=2025-06-01&end_date=30-06-2025"),
    Failure("custom-long-range", 400, "DATE_RANGE_TOO_LARGE",
            url="/api/statistics/appointments?period=custom&start_date=2024-01-01&end_date=2025-06-01"),
    Failure("statistics-unknown-calendar-filter", 404, "CALENDAR_NOT_FOUND",
            url="/api/statistics/appointments?period=today&calendar_id=99"),
    Failure("calendar-statistics-unknown", 404, "CALENDAR_NOT_FOUND", url="/api/statistics/99?period=today"),
    Failure("calendar-statistics-without-period", 400, "INVALID_PARAMETER", url="/api/statistics/1"),
    Failure("calendar-statistics-bad-id", 400, "INVALID_PARAMETER", url="/api/statistics/first?period=today"),
    Failure("statistics-root", 404, "ENDPOINT_NOT_FOUND", url="/api/statistics"),
    # Unknown endpoints and methods
    Failure("unknown-endpoint", 404, "ENDPOINT_NOT_FOUND", url="/api/nope"),
    Failure("too-deep", 404, "ENDPOINT_NOT_FOUND", url="/api/calendars/1/slots"),
    Failure("delete-not-served", 404, "ENDPOINT_NOT_FOUND", method="DELETE", url="/api/calendars"),
    Failure("get-on-post-only", 404, "ENDPOINT_NOT_FOUND", url="/api/appointment"),
    Failure("post-on-get-only", 404, "ENDPOINT_NOT_FOUND", method="POST", url="/api/appointments", json={}),
    # POST /api/appointment
    Failure("post-not-json", 400, "INVALID_JSON", method="POST", url="/api/appointment", data=b"calendar_id=1",
            content_type="application/x-www-form-urlencoded"),
    Failure("post-malformed-json", 400, "INVALID_JSON", method="POST", url="/api/appointment",
            data=b'{"calendar_id": 1,', content_type="application/json"),
    Failure("post-array", 400, "INVALID_JSON", method="POST", url="/api/appointment", json=[1, 2]),
    Failure("post-missing-field", 400, "MISSING_REQUIRED_FIELD", method="POST", url="/api/appointment",
            json=lambda t: booking(t, client_phone=...)),
    Failure("post-blank-field", 400, "MISSING_REQUIRED_FIELD", method="POST", url="/api/appointment",
            json=lambda t: booking(t, client_lastname="  ")),
    Failure("post-id-as-text", 400, "INVALID_JSON", method="POST", url="/api/appointment",
            json=lambda t: booking(t, calendar_id="1")),
    Failure("post-bad-email", 400, "INVALID_PARAMETER", method="POST", url="/api/appointment",
            json=lambda t: booking(t, client_email="jean.dupont")),
    Failure("post-bad-status", 400, "INVALID_PARAMETER", method="POST", url="/api/appointment",
            json=lambda t: booking(t, status="booked")),
    Failure("post-unknown-calendar", 404, "CALENDAR_NOT_FOUND", method="POST", url="/api/appointment",
            json=lambda t: booking(t, calendar_id=99)),
    Failure("post-inactive-calendar", 404, "CALENDAR_NOT_FOUND", method="POST", url="/api/appointment",
            json=lambda t: booking(t, calendar_id=t.inactive_calendar)),
    Failure("post-documented-slot", 404, "SLOT_NOT_FOUND", method="POST", url="/api/appointment",
            json=lambda t: booking(t, slot_id=123)),
    Failure("post-slot-of-other-calendar", 404, "SLOT_NOT_FOUND", method="POST", url="/api/appointment",
            json=lambda t: booking(t, slot_id=t.other_calendar_slot)),
    Failure("post-past-slot", 409, "SLOT_IN_PAST", method="POST", url="/api/appointment",
            json=lambda t: booking(t, slot_id=t.past_slot)),
    Failure("post-full-slot", 409, "SLOT_UNAVAILABLE", method="POST", url="/api/appointment",
            json=lambda t: booking(t, slot_id=t.full_slot)),
    Failure("post-too-large", 413, "PAYLOAD_TOO_LARGE", method="POST", url="/api/appointment",
            json=lambda t: booking(t, notes="x" * 70_000)),
    # PUT /api/appointment/{id}
    Failure("put-bad-id", 400, "INVALID_PARAMETER", method="PUT", url="/api/appointment/abc",
            json={"status": "confirmed"}),
    Failure("put-empty", 400, "MISSING_REQUIRED_FIELD", method="PUT", url=lambda t: f"/api/appointment/{t.appointment}",
            json={}),
    Failure("put-slot-as-text", 400, "INVALID_JSON", method="PUT", url=lambda t: f"/api/appointment/{t.appointment}",
            json={"slot_id": "124"}),
    Failure("put-unknown-appointment", 404, "RESOURCE_NOT_FOUND", method="PUT", url="/api/appointment/999999",
            json={"status": "confirmed"}),
    Failure("put-documented-slot", 404, "SLOT_NOT_FOUND", method="PUT",
            url=lambda t: f"/api/appointment/{t.appointment}", json={"slot_id": 123}),
    Failure("put-slot-of-other-calendar", 404, "SLOT_NOT_FOUND", method="PUT",
            url=lambda t: f"/api/appointment/{t.appointment}", json=lambda t: {"slot_id": t.other_calendar_slot}),
    Failure("put-past-slot", 409, "SLOT_IN_PAST", method="PUT", url=lambda t: f"/api/appointment/{t.appointment}",
            json=lambda t: {"slot_id": t.past_slot}),
    Failure("put-full-slot", 409, "SLOT_UNAVAILABLE", method="PUT", url=lambda t: f"/api/appointment/{t.appointment}",
            json=lambda t: {"slot_id": t.full_slot}),
    Failure("put-too-large", 413, "PAYLOAD_TOO_LARGE", method="PUT", url=lambda t: f"/api/appointment/{t.appointment}",
            json={"status": "confirmed", "notes": "x" * 70_000}),
)
# fmt: on


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", FAILURES, ids=[case.name for case in FAILURES])
def test_failures_match_the_description(shared_client: FlaskClient, targets: Targets, case: Failure, fmt: str) -> None:
    url = case.url(targets) if callable(case.url) else case.url
    query: dict[str, str] = {} if case.pin_format else {"format": fmt}
    headers = dict(case.headers)
    if case.auth == "token":
        headers["Access-Token"] = DEFAULT_TOKEN
    elif case.auth == "bad-header":
        headers["Access-Token"] = "0" * 64
    elif case.auth == "bad-query":
        query["access_token"] = "not-a-token"
    url = with_query(url, **query)
    kwargs: dict[str, Any] = {"headers": headers}
    if case.data is not None:
        kwargs.update(data=case.data, content_type=case.content_type)
    elif case.json is not None:
        body = case.json(targets) if callable(case.json) else case.json
        kwargs.update(data=json.dumps(body), content_type="application/json")
    response = checked(shared_client.open(url, method=case.method, **kwargs), case.method, url)
    assert (response.status_code, error_code(response)) == (case.status, case.code), response.get_data(as_text=True)
    expected = "json" if case.pin_format else fmt
    assert response.headers["Content-Type"].startswith(
        {"json": "application/json", "xml": "application/xml", "csv": "text/csv"}[expected]
    )


def test_failures_in_debug_mode_carry_the_debug_block(shared_client: FlaskClient) -> None:
    for url in ("/api/calendars/999?debug=true", "/api/nope?debug=true", "/api/slots?debug=true&format=xml"):
        response = checked(shared_client.get(url), "GET", url)
        assert response.status_code in (400, 404)
    body = shared_client.get("/api/calendars/999?debug=true").get_json()
    assert body["debug"]["debug_mode"] is True


def test_doubled_slash_is_answered_with_an_envelope(shared_client: FlaskClient) -> None:
    url = "/api//calendars"
    response = checked(shared_client.get(url, headers={"Access-Token": DEFAULT_TOKEN}), "GET", url)
    assert response.status_code == 404
    assert response.get_json()["error_code"] == "ENDPOINT_NOT_FOUND"


# --- writes that succeed ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["token", "debug"])
def test_booking_and_changing_match_the_description(client: FlaskClient, mode: str) -> None:
    headers = {"Access-Token": DEFAULT_TOKEN} if mode == "token" else {"X-Debug": "true"}
    slots_url = "/api/slots?calendar_id=1&date_from=2025-06-09&date_to=2025-06-20&per_page=1000"
    free = [
        s["slot_id"]
        for s in client.get(slots_url, headers=headers).get_json()["data"]
        if s["is_available"] and s["capacity"] - s["booked_appointments"] >= 1
    ]
    assert len(free) >= 2 * len(FORMATS)
    for index, fmt in enumerate(FORMATS):
        url = f"/api/appointment?format={fmt}"
        body = {
            "calendar_id": 1,
            "slot_id": free[index],
            "client_firstname": "Jean",
            "client_lastname": "Dupont",
            "client_email": f"jean.dupont+{fmt}@example.com",
            "client_phone": "+33123456789",
            "status": "pending",
            "source": "extra keys are ignored",
        }
        created = checked(client.post(url, json=body, headers=headers), "POST", url)
        assert created.status_code == 200, created.get_data(as_text=True)
        appointment_id = _booked_id(created, fmt)
        put_url = f"/api/appointment/{appointment_id}?format={fmt}"
        for change in ({"status": "confirmed"}, {"slot_id": free[len(FORMATS) + index]}):
            changed = checked(client.put(put_url, json=change, headers=headers), "PUT", put_url)
            assert changed.status_code == 200, changed.get_data(as_text=True)


def _booked_id(response: TestResponse, fmt: str) -> int:
    """The appointment id of a booking response, read as an integrator would in each format."""
    if fmt == "json":
        return response.get_json()["data"]["appointment"]["appointment_id"]
    if fmt == "xml":
        return int(etree.fromstring(response.get_data()).findtext("data/appointment/appointment_id") or 0)
    (row,) = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    return int(row["appointment.appointment_id"])


# --- scenario switches ------------------------------------------------------------------------------

FORCED = (
    ("GET", "/api/calendars"),
    ("GET", "/api/appointments/1"),
    ("GET", "/api/statistics/clients"),
    ("GET", "/api/"),
    ("POST", "/api/appointment"),
    ("GET", "/api/nope"),  # scenarios answer before routing
)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", list(ALL_CODES))
def test_forced_errors_match_the_default_response(shared_client: FlaskClient, code: str, fmt: str) -> None:
    for index, (method, path) in enumerate(FORCED):
        # Alternate the parameter and the header, and the case: the switch is case-insensitive for codes.
        if index % 2:
            url = with_query(path, format=fmt, __scenario=code.lower())
            response = checked(shared_client.open(url, method=method, json={}), method, url)
        else:
            url = with_query(path, format=fmt)
            response = checked(
                shared_client.open(url, method=method, json={}, headers={"X-Mock-Scenario": code}),
                method,
                url,
                forced=True,
            )
        assert (response.status_code, error_code(response)) == (ALL_CODES[code].status, code)


def test_forced_internal_error_on_health_carries_the_health_record(shared_client: FlaskClient) -> None:
    url = "/api/health?__scenario=INTERNAL_ERROR"
    response = checked(shared_client.get(url), "GET", url)
    body = response.get_json()
    assert (response.status_code, body["data"]["status"], body["data"]["database"]) == (
        500,
        "unhealthy",
        "disconnected",
    )


def test_unknown_scenario_is_an_invalid_parameter(shared_client: FlaskClient) -> None:
    url = "/api/calendars?__scenario=SOMETHING_ELSE"
    response = checked(shared_client.get(url, headers={"Access-Token": DEFAULT_TOKEN}), "GET", url)
    assert (response.status_code, error_code(response)) == (400, "INVALID_PARAMETER")


@pytest.mark.parametrize("fault", rule_specs.FAULTS)
def test_faults_are_outside_the_description_and_say_so(shared_client: FlaskClient, fault: str) -> None:
    response = shared_client.get("/api/calendars", headers={"Access-Token": DEFAULT_TOKEN, "X-Mock-Scenario": fault})
    assert response.headers.get("X-Mock-Fault") == fault


# --- the control API (/__mock/) ---------------------------------------------------------------------
# The ``client`` fixture checks every answer against the description (contract.CheckedClient).


def _control_operations() -> list[tuple[str, str]]:
    return sorted((method, path) for method, path in contract.operations() if path.startswith("/__mock"))


def _example_url(template: str) -> str:
    asset = "console.css" if template.startswith("/__mock/console/") else "swagger-ui.css"
    return (
        template.replace("{id}", "1").replace("{name}", "slow").replace("{asset}", asset).replace("{space}", "sandbox")
    )


def test_every_control_operation_answers_as_described(client: FlaskClient) -> None:
    debug = {"X-Debug": "true"}
    steps: list[tuple[str, str, Any, dict[str, str], int]] = [
        ("GET", "/__mock/", None, {}, 200),
        ("GET", "/__mock", None, {}, 200),
        ("GET", "/__mock/ready", None, {}, 200),
        ("GET", "/__mock/tenants", None, {"X-Mock-Tenant": "-bad"}, 400),
        ("POST", "/__mock/reset", {"tenant": "sandbox/c1", "seed": 7, "keep_rules": True}, {}, 200),
        ("POST", "/__mock/reset", None, {}, 200),
        ("POST", "/__mock/reset", [], {}, 400),
        ("POST", "/__mock/reset", {"seed": -1}, {}, 400),
        ("POST", "/__mock/reset", {"tenant": "nobody/c1"}, {}, 400),
        ("GET", "/__mock/tenants", None, {}, 200),
        ("GET", "/__mock/settings?tenant=sandbox/c1", None, {}, 200),
        ("POST", "/__mock/settings", {"tenant": "sandbox/c1", "strict_lifecycle": True}, {}, 200),
        ("POST", "/__mock/settings", {"strict_lifecycle": "yes"}, {}, 400),
        ("POST", "/__mock/reset", {"tenant": "sandbox/c3"}, {}, 200),
        ("DELETE", "/__mock/tenants/sandbox/c3", None, {}, 200),
        ("DELETE", "/__mock/tenants/sandbox/c3", None, {}, 404),
        ("DELETE", "/__mock/tenants/sandbox/default", None, {}, 400),
        ("GET", "/__mock/clock?tenant=sandbox/c1", None, {}, 200),
        ("POST", "/__mock/clock/freeze", {"at": "2025-06-07T15:30:00+02:00"}, debug, 200),
        ("POST", "/__mock/clock/freeze", {"at": "now"}, {}, 400),
        ("POST", "/__mock/clock/advance", {"by": "1d"}, debug, 200),
        ("POST", "/__mock/clock/advance", {}, {}, 400),
        ("POST", "/__mock/clock/real", None, debug, 200),
        ("POST", "/__mock/rules", {"path": "/api/slots", "delay_ms": [1, 2], "method": "get"}, {}, 200),
        ("POST", "/__mock/rules", {"error_code": "SLOT_UNAVAILABLE", "times": 1, "tenant": "c1"}, debug, 200),
        ("POST", "/__mock/rules", {"status": 503, "body": {"down": True}, "headers": {"Retry-After": "1"}}, {}, 200),
        ("POST", "/__mock/rules", {"error_code": "INTERNAL_ERROR", "colour": "red"}, {}, 400),
        ("GET", "/__mock/rules", None, debug, 200),
        ("GET", "/__mock/rules/1", None, {}, 200),
        ("GET", "/__mock/rules/999", None, {}, 404),
        ("GET", "/__mock/rules/abc", None, {}, 404),
        ("DELETE", "/__mock/rules/1", None, {}, 200),
        ("DELETE", "/__mock/rules/1", None, {}, 404),
        ("DELETE", "/__mock/rules", None, {}, 200),
        ("PATCH", "/__mock/rules", None, {}, 404),
        ("GET", "/__mock/scenarios", None, {}, 200),
        ("POST", "/__mock/scenarios/slow", {"tenant": "debug/c1"}, {}, 200),
        ("POST", "/__mock/scenarios/fully-booked", None, {**debug, "X-Mock-Tenant": "c1"}, 200),
        ("POST", "/__mock/scenarios/apocalypse", None, {}, 404),
        ("GET", "/api/calendars", None, debug, 200),
        ("GET", "/__mock/journal?limit=5", None, {}, 200),
        ("GET", "/__mock/about", None, debug, 200),
        ("GET", "/__mock/calendars", None, debug, 200),
        ("GET", "/__mock/scenarios/fully-booked", None, {}, 200),
        ("GET", "/__mock/scenarios/apocalypse", None, {}, 404),
        ("GET", "/__mock/week?calendar_id=1&start=2025-06-09", None, {}, 200),
        ("GET", "/__mock/week?calendar_id=999", None, {}, 404),
        ("GET", "/__mock/week?start=June", None, {}, 400),
        ("DELETE", "/__mock/rules?preset=slow", None, {}, 200),
        ("GET", "/__mock/journal?limit=0", None, {}, 400),
        ("GET", "/__mock/journal/count?method=GET&path=/api/*", None, {}, 200),
        ("DELETE", "/__mock/journal", None, debug, 200),
        ("GET", "/__mock/dataset?tenant=sandbox/c1", None, {}, 200),
        ("PUT", "/__mock/dataset?tenant=sandbox/c2", {"format_version": 2}, {}, 400),
        ("GET", "/__mock/openapi.json", None, {}, 200),
        ("GET", "/__mock/openapi.yaml", None, {}, 200),
        ("GET", "/__mock/postman.json", None, {}, 200),
        ("GET", "/__mock/docs", None, {}, 200),
        ("GET", "/__mock/docs/swagger-ui.css", None, {}, 200),
        ("GET", "/__mock/docs/swagger-ui.js", None, {}, 404),
        ("GET", "/__mock/console", None, {}, 200),
        ("GET", "/__mock/console/console.js", None, {}, 200),
        ("GET", "/__mock/console/console.html", None, {}, 404),
    ]
    seen = set()
    for method, url, body, headers, status in steps:
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["json"] = body
        response = client.open(url, method=method, **kwargs)
        assert response.status_code == status, (method, url, response.get_data(as_text=True))
        seen.add((method, contract.match_path(urlsplit(url).path)))
    export = client.get("/__mock/dataset?tenant=sandbox/c1").get_json()["data"]
    loaded = client.put("/__mock/dataset?tenant=sandbox/c2", json=export)
    assert loaded.status_code == 200, loaded.get_data(as_text=True)
    seen.add(("PUT", "/__mock/dataset"))
    seen.add(("GET", "/__mock/journal/stream"))  # a stream never ends: tests/test_stream.py reads it
    assert set(_control_operations()) <= seen


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "admin_token": "s3cret"}])
@pytest.mark.parametrize(("method", "template"), _control_operations())
def test_the_admin_token_guards_every_control_call_but_not_the_description(
    client: FlaskClient, method: str, template: str
) -> None:
    response = client.open(_example_url(template), method=method)
    operation = contract.spec()["paths"][template][method.lower()]
    if operation["security"]:
        assert (response.status_code, response.get_json()["error_code"]) == (401, "AUTH_REQUIRED")
        wrong = client.open(_example_url(template), method=method, headers={"X-Mock-Admin-Token": "nope"})
        assert (wrong.status_code, wrong.get_json()["error_code"]) == (401, "AUTH_INVALID")
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "control_api": False}])
@pytest.mark.parametrize(("method", "template"), _control_operations())
def test_without_the_control_api_nothing_is_served_under_mock(client: FlaskClient, method: str, template: str) -> None:
    response = client.open(_example_url(template), method=method)
    if template == "/__mock/ready":  # readiness stays, for health checks
        assert response.status_code == 200
        return
    assert (response.status_code, response.get_json()["error_code"]) == (404, "ENDPOINT_NOT_FOUND")


# --- the description and its page, served by the sandbox (mockserver/openapi.py) ----------------------


def test_the_description_is_served_as_json_and_yaml(shared_client: FlaskClient) -> None:
    as_json = shared_client.get("/__mock/openapi.json")
    as_yaml = shared_client.get("/__mock/openapi.yaml")
    assert as_json.headers["Content-Type"] == "application/json; charset=utf-8"
    assert as_yaml.headers["Content-Type"] == "application/yaml; charset=utf-8"
    assert as_yaml.get_data() == contract.SPEC_PATH.read_bytes()
    assert as_json.get_json() == yaml.safe_load(as_yaml.get_data()) == contract.spec()
    for response, url in ((as_json, "/__mock/openapi.json"), (as_yaml, "/__mock/openapi.yaml")):
        again = shared_client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and again.get_data() == b""
        checked(again, "GET", url)


def test_the_documentation_page_loads_nothing_from_elsewhere(shared_client: FlaskClient) -> None:
    page = shared_client.get("/__mock/docs").get_data(as_text=True)
    assert "://" not in page and "//" not in page.replace("://", ""), "a CDN or another origin"
    assert '"/__mock/openapi.json"' in page and "validatorUrl: null" in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(assets) == sorted(f"/__mock/docs/{name}" for name in openapi.ASSETS)
    dist = openapi._dist()
    for url in assets:
        response = checked(shared_client.get(url), "GET", url)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == openapi.ASSETS[url.rsplit("/", 1)[1]]
        assert response.get_data() == (dist / url.rsplit("/", 1)[1]).read_bytes()


@pytest.mark.parametrize("url", ["/__mock/docs/LICENSE", "/__mock/docs/..%2Fopenapi.py", "/__mock/docs/a/b.js"])
def test_only_the_pages_files_are_served(shared_client: FlaskClient, url: str) -> None:
    response = shared_client.get(url)
    assert (response.status_code, response.get_json()["error_code"]) == (404, "ENDPOINT_NOT_FOUND")


def test_the_documentation_page_allows_only_this_server_and_no_framing(shared_client: FlaskClient) -> None:
    """Issue 22: like the console, the page that calls the API gets a Content-Security-Policy and frame protection;
    its one inline script (Swagger UI's start-up) is allowed by its hash, nothing else inline."""
    response = shared_client.get("/__mock/docs")
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["connect-src"] == "'self'" and "unsafe-eval" not in policy["script-src"]
    assert response.headers["X-Frame-Options"] == "DENY"
    scripts = re.findall(r"<script>(.*?)</script>", response.get_data(as_text=True), re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert policy["script-src"] == f"'self' 'sha256-{digest}'"


def test_the_journals_open_ended_filters_are_declared_by_prefix() -> None:
    """body.<path> and header.<name> cannot be listed one by one: the journal's reads declare them in
    x-query-prefixes, which tests/contract.py honours there and only there."""
    count = {"success": True, "data": {"count": 0}, "message": "Journal count", "error_code": "SUCCESS"}
    count |= {"http_code": 200, "api_version": "1.0", "timestamp": NOW, "format": "json"}
    body = json.dumps(count).encode()
    for path in ("/__mock/journal", "/__mock/journal/count", "/__mock/journal/stream"):
        assert contract.spec()["paths"][path]["get"]["x-query-prefixes"] == ["body.", "header."]
    contract.validate_response(
        "GET", "/__mock/journal/count?body.client_email=*@x&header.x-trace=1", 200, "application/json", body
    )
    with pytest.raises(AssertionError, match=r"'body\.client_email' is not declared"):
        contract.validate_response("GET", "/api/calendars?body.client_email=x", 200, "application/json", b"{}")
