"""Regressions: server bugs found by the Schemathesis fuzz run (.ci/fuzz) and by describing the control API.

A: a clock moved out of range broke the tenant for good (500s). B: a huge ``page`` overflowed the SQL
offset. C: a dataset document of the wrong shape was a 500. D: a rule id over 2**63 - 1 was a 500.
E: the control API answered XML or CSV although it is JSON only. Each test now holds the fix.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import assert_error
from flask.testing import FlaskClient

DEBUG = {"X-Debug": "true"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/__mock/clock/advance", {"by": 1e17}),
        ("/__mock/clock/advance", {"by": "-99999999999d"}),
        ("/__mock/clock/freeze", {"at": 1e300}),
        ("/__mock/clock/freeze", {"at": "9999-12-31T23:59:59-23:59"}),
    ],
)
def test_a_clock_move_out_of_range_is_refused(client: FlaskClient, path: str, body: dict[str, Any]) -> None:
    assert_error(client.post(path, json=body, headers=DEBUG), "INVALID_PARAMETER", 400)
    assert client.get("/api/calendars", headers=DEBUG).status_code == 200


@pytest.mark.parametrize("path", ["/api/calendars", "/api/clients", "/api/appointments/1"])
def test_a_huge_page_is_an_empty_page_not_a_server_error(client: FlaskClient, path: str) -> None:
    # docs/interpretation.md: "A page past the end is an empty list with has_more: false, not an error."
    response = client.get(f"{path}?page=999999999999999999&per_page=1000", headers=DEBUG)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["data"] == [] and response.get_json()["pagination"]["has_more"] is False


def _dataset(client: FlaskClient, table: str, column: str, value: Any) -> dict[str, Any]:
    document = client.get("/__mock/dataset", headers=DEBUG).get_json()["data"]
    document["tables"][table][0][column] = value
    return document


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("calendars", "timezone", ""),
        ("calendars", "timezone", "Mars/Olympus_Mons"),
        ("slots", "calendar_id", [1]),
        ("slots", "start_ts", "soon"),
        ("appointments", "slot_id", {"id": 1}),
        ("clients", "phone", {"number": "+33123456789"}),
        ("clients", "email", None),
    ],
)
def test_a_dataset_of_the_wrong_shape_is_refused_not_a_server_error(
    client: FlaskClient, table: str, column: str, value: Any
) -> None:
    document = _dataset(client, table, column, value)
    assert_error(client.put("/__mock/dataset", json=document, headers=DEBUG), "INVALID_PARAMETER", 400)


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_huge_rule_id_is_not_found(client: FlaskClient, method: str) -> None:
    assert_error(client.open("/__mock/rules/99999999999999999999", method=method), "RESOURCE_NOT_FOUND", 404)


@pytest.mark.parametrize(
    ("url", "headers"),
    [("/__mock/rules?format=xml", {}), ("/__mock/clock", {"Accept": "text/csv"})],
)
def test_control_answers_are_json_whatever_format_is_asked(client: FlaskClient, url: str, headers: dict) -> None:
    response = client.get(url, headers=headers)
    assert response.headers["Content-Type"].startswith("application/json")
