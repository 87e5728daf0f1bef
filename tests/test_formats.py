"""Content negotiation, the XML and CSV layouts, and the one error shape in every format."""

from __future__ import annotations

import pytest
from conftest import DEFAULT_TOKEN, assert_error, csv_rows
from lxml import etree

from mockserver.render import FORMATS, negotiate, safe_cell
from mockserver.render import csv_rows as flatten


def accept(*pairs):
    return [(media, q) for media, q in pairs]


@pytest.mark.parametrize(
    ("param", "header", "expected"),
    [
        (None, [], "json"),
        (None, accept(("application/xml", 1)), "xml"),
        (None, accept(("text/csv", 1)), "csv"),
        (
            None,
            accept(("text/html", 1), ("application/xhtml+xml", 1), ("application/xml", 0.9), ("*/*", 0.8)),
            "json",
        ),
        (None, accept(("application/json", 0.5), ("application/xml", 0.9)), "xml"),
        (None, accept(("image/png", 1)), "json"),
        ("csv", accept(("application/xml", 1)), "csv"),
        ("XML", [], "xml"),
    ],
)
def test_negotiation(param, header, expected):
    assert negotiate(param, header) == expected


@pytest.mark.parametrize("fmt", ["yaml", "", "html"])
def test_unknown_format_is_invalid_parameter_in_json(client, fmt):
    response = client.get(f"/api/calendars?debug=true&format={fmt}")
    assert_error(response, "INVALID_PARAMETER", 400, "json")


def test_accept_header_selects_the_format(client):
    response = client.get("/api/calendars?debug=true", headers={"Accept": "text/csv"})
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        client.get("/api/calendars?debug=true", headers={"Accept": "application/xml"}).headers["Content-Type"]
        == "application/xml; charset=utf-8"
    )


def test_xml_layout_of_a_list(client):
    response = client.get("/api/appointments?debug=true&format=xml&per_page=3")
    root = etree.fromstring(response.get_data())
    assert root.tag == "response"
    assert [child.tag for child in root] == [
        "success",
        "data",
        "pagination",
        "meta",
        "message",
        "error_code",
        "http_code",
        "api_version",
        "timestamp",
        "format",
        "debug",
    ]
    items = root.find("data")
    assert [item.tag for item in items] == ["appointment"] * 3
    assert items[0].findtext("status") in ("pending", "confirmed", "cancelled", "completed")
    assert root.findtext("pagination/per_page") == "3"
    assert root.findtext("success") == "true"
    assert root.findtext("format") == "xml"


def test_xml_arrays_nulls_and_statistics(client):
    stats = etree.fromstring(
        client.get("/api/statistics/appointments?debug=true&format=xml&period=last7days").get_data()
    )
    assert [d.tag for d in stats.find("data/daily_breakdown")] == ["day"] * 7
    info = etree.fromstring(client.get("/api/?format=xml").get_data())
    assert [f.text for f in info.find("data/supported_formats")] == ["json", "xml", "csv"]
    clients = etree.fromstring(client.get("/api/clients?debug=true&format=xml&per_page=50").get_data())
    never = [c for c in clients.find("data") if c.findtext("appointments_count") == "0"]
    assert never and never[0].find("last_appointment").get("nil") == "true"


def test_csv_list_has_a_header_row_and_one_row_per_record(client):
    response = client.get("/api/appointments?debug=true&format=csv&per_page=20&page=2")
    rows = csv_rows(response)
    assert len(rows) == 20
    assert list(rows[0])[:3] == ["appointment_id", "status", "created_at"]
    assert response.headers["X-Pagination-Page"] == "2"
    assert response.headers["X-Pagination-Has-More"] == "true"
    assert response.get_data().count(b"\r\n") == 21


def test_csv_of_statistics_repeats_the_summary_on_each_day(client):
    rows = csv_rows(client.get("/api/statistics/appointments?debug=true&format=csv&period=last7days"))
    assert len(rows) == 7
    assert rows[0]["period"] == "last7days"
    assert rows[0]["summary.total_appointments"] == rows[6]["summary.total_appointments"]
    assert next(r["daily_breakdown.date"] for r in rows) == "2025-06-01"


def test_csv_of_an_empty_list_still_has_its_header(client):
    response = client.get("/api/clients?debug=true&format=csv&search=zzzzzz")
    assert response.get_data(as_text=True).splitlines()[0].startswith("client_id,client_firstname")


def test_flattening_rules():
    assert flatten({"a": 1, "b": {"c": 2}, "tags": ["x", "y"]}) == [{"a": 1, "b.c": 2, "tags": "x|y"}]
    assert flatten({"n": 1, "rows": [{"d": 1}, {"d": 2}]}) == [{"n": 1, "rows.d": 1}, {"n": 1, "rows.d": 2}]
    assert flatten([{"a": 1}]) == [{"a": 1}]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("+33612345678", "+33612345678"),
        ("-12.5", "-12.5"),
        ("Dupont", "Dupont"),
        (True, "true"),
        (None, ""),
    ],
)
def test_spreadsheet_formulas_are_defused(value, shown):
    assert safe_cell(value) == shown


FAILURES = [
    ("/api/calendars", {}, "AUTH_REQUIRED", 401),
    ("/api/calendars", {"Access-Token": "bad"}, "AUTH_INVALID", 401),
    ("/api/unknown", {"Access-Token": DEFAULT_TOKEN}, "ENDPOINT_NOT_FOUND", 404),
    ("/api/appointments/99999999", {"Access-Token": DEFAULT_TOKEN}, "RESOURCE_NOT_FOUND", 404),
    ("/api/slots?date_from=2025-06-01", {"Access-Token": DEFAULT_TOKEN}, "MISSING_CALENDAR_ID", 400),
    ("/api/appointments?date_from=nope", {"Access-Token": DEFAULT_TOKEN}, "INVALID_DATE_FORMAT", 400),
    ("/api/appointments?page=0", {"Access-Token": DEFAULT_TOKEN}, "INVALID_PARAMETER", 400),
    (
        "/api/calendars",
        {"Access-Token": DEFAULT_TOKEN, "X-Mock-Scenario": "INTERNAL_ERROR"},
        "INTERNAL_ERROR",
        500,
    ),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("path", "headers", "code", "status"), FAILURES)
def test_every_failure_has_the_error_envelope_in_every_format(client, fmt, path, headers, code, status):
    joiner = "&" if "?" in path else "?"
    assert_error(client.get(f"{path}{joiner}format={fmt}", headers=headers), code, status, fmt)


def test_wrong_method_names_the_allowed_ones(client):
    response = client.delete("/api/calendars", headers={"Access-Token": DEFAULT_TOKEN})
    body = assert_error(response, "ENDPOINT_NOT_FOUND", 404)
    assert response.headers["Allow"] == "GET" and "GET" in body["message"]


def test_unknown_path_outside_the_api(client):
    assert_error(client.get("/nothing-here"), "ENDPOINT_NOT_FOUND", 404)


def test_unexpected_failure_is_internal_error_without_traceback(app, client, monkeypatch):
    from mockserver.store.queries import calendars

    def explode(*_args, **_kw):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(calendars, "list_calendars", explode)
    response = client.get("/api/calendars?debug=true")
    body = assert_error(response, "INTERNAL_ERROR", 500)
    assert "secret detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert body["debug"]["endpoint"] == "/api/calendars"


def test_json_answers_are_the_standard_encoders_bytes(api):
    """render.to_json uses orjson for speed: its bytes must be those of the standard encoder, whatever the
    text (accents, emoji, quotes, control characters) and the numbers the API writes (rates, big ids). (Only
    the exponent of a float under 1e-4 is spelled differently, ``1e-5`` for ``1e-05``: the API has none.)"""
    import json

    from mockserver.render import to_json

    standard = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    samples = [
        api.get("/api/appointments", per_page=50).get_json(),
        api.get("/api/statistics/appointments", period="last30days").get_json(),
        {
            "text": "L'Hôte «ça» 🎉 \u0000\u001f\"\\/\u2028",
            "rate": 0.93,
            "big": 2**63 - 1,
            "neg": -0.0456,
            "none": None,
        },
    ]
    for sample in samples:
        assert to_json(sample) == standard.encode(sample).encode()
    assert to_json({"huge": 2**70}) == b'{"huge":1180591620717411303424}'  # past orjson: the fallback


def test_a_list_assembled_by_sqlite_is_the_standard_encoders_bytes(app, api):
    """The appointment list's JSON is written by SQLite (paging.one_page's json_fields), not by orjson
    from Python rows: for every text a client's name may hold, its bytes must be those the standard encoder
    writes of the same rows (and the XML of the same page must hold the same values)."""
    import json

    from mockserver.store.sqlite import transaction

    hostile = "L'Hôte «ça» 🎉 \u0001\u001f\"\\/\u2028\t\n\x7f\b\f\r"
    sandbox = app.extensions["tap4book"]
    first = api.data("/api/appointments", per_page=1)[0]
    conn = sandbox.db(sandbox.default_tenant)
    with transaction(conn):
        conn.execute("UPDATE clients SET firstname = ? WHERE client_id = ?", (hostile, first["client_id"]))
    standard = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for page in (1, 2):
        answer = api.get("/api/appointments", per_page=50, page=page)
        document = json.loads(answer.get_data())
        assert answer.get_data() == standard.encode(document).encode()
        assert len(document["data"]) == 50
    listed = api.data("/api/appointments", per_page=1)[0]
    assert listed["client_firstname"] == hostile
    detail = api.data(f"/api/appointments/{listed['appointment_id']}", scope="detail")  # rows read by Python
    assert list(listed.items()) == list(detail.items())
    xml = etree.fromstring(api.get("/api/appointments", per_page=50, format="xml").get_data())
    json_ids = [row["appointment_id"] for row in api.data("/api/appointments", per_page=50)]
    assert [int(text) for text in xml.xpath("//appointment/appointment_id/text()")] == json_ids
