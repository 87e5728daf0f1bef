"""One rule for numbers and dates in a URL, on both planes (mockserver/args.py, docs/interpretation.md)."""

from __future__ import annotations

import pytest
from conftest import assert_error


@pytest.mark.parametrize("raw", ["+1", " 1", "1 ", "１", "1.0", "0x1", "1e3"])
def test_an_id_or_integer_is_ascii_digits_only(api, client, raw):
    assert_error(api.get(f"/api/calendars/{raw}"), "INVALID_PARAMETER", 400)
    assert_error(api.get("/api/appointments", page=raw), "INVALID_PARAMETER", 400)
    assert_error(client.get("/__mock/journal", query_string={"limit": raw}), "INVALID_PARAMETER", 400)


def test_leading_zeros_are_digits(api, client):
    assert api.data("/api/calendars/01")["calendar_id"] == 1
    assert api.get("/api/appointments", page="01").get_json()["pagination"]["page"] == 1
    assert client.get("/__mock/journal?limit=05").status_code == 200


def test_a_negative_number_is_told_it_is_too_small(api):
    body = assert_error(api.get("/api/appointments", per_page="-5"), "INVALID_PARAMETER", 400)
    assert "between 1 and 1000" in body["message"]


@pytest.mark.parametrize("raw", ["20250610", "2025-W24-2", "2025-6-10", "2025-02-30"])
def test_a_date_is_yyyy_mm_dd_on_both_planes(api, client, raw):
    assert_error(api.get("/api/slots", calendar_id=1, date_from=raw), "INVALID_DATE_FORMAT", 400)
    assert_error(client.get("/__mock/week", query_string={"start": raw}), "INVALID_DATE_FORMAT", 400)
