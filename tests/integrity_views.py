"""Every view of a tenant against its model (tests/integrity_model.py), and one list page in three formats.

``check_tenant`` reads what an integrator can see of the same facts (the appointment list and details, each
calendar's slots, calendars, clients, the three statistics endpoints) and compares each with the model;
``check_page`` compares one page of a list with the model's, checks the pagination arithmetic, and that
XML and CSV say what JSON says (docs/formats.md).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from integrity_client import Reply, Tenant
from integrity_model import TenantModel
from lxml import etree


def same(what: str, got: Any, want: Any) -> None:
    """Equality, with a message that names the first record and the fields that differ."""
    if got == want:
        return
    if isinstance(got, list) and isinstance(want, list):
        for index, (mine, theirs) in enumerate(zip(got, want, strict=False)):
            if mine != theirs:
                raise AssertionError(f"{what}[{index}]: {_fields(mine, theirs)}")
        raise AssertionError(f"{what}: {len(got)} records, the model has {len(want)}")
    if isinstance(got, dict) and isinstance(want, dict):
        raise AssertionError(f"{what}: {_fields(got, want)}")
    raise AssertionError(f"{what}: got {got!r}, the model says {want!r}")


def _fields(got: Any, want: Any) -> str:
    if not (isinstance(got, dict) and isinstance(want, dict)):
        return f"got {got!r}, the model says {want!r}"
    keys = sorted(set(got) | set(want), key=str)
    wrong = {
        key: (got.get(key, "<absent>"), want.get(key, "<absent>")) for key in keys if got.get(key) != want.get(key)
    }
    ident = {key: value for key, value in want.items() if key.endswith("_id")}
    return f"{ident or got}: (server, model) {wrong}"


def _refused(reply: Reply, code: str, status: int, what: str) -> None:
    assert reply.status == status, f"{what}: HTTP {reply.status}, expected {status} {code}: {reply.body[:300]!r}"
    assert reply.json()["error_code"] == code, f"{what}: {reply.json()}"


def slot_days(model: TenantModel, calendar_id: int | None = None) -> tuple[str, str] | None:
    """The first and last day of the model's slots (of one calendar), or None without slots."""
    days = [
        model.slot_times(sid)[0]
        for sid, slot in model.slots.items()
        if calendar_id is None or slot["calendar_id"] == calendar_id
    ]
    return (min(days), max(days)) if days else None


def check_tenant(tenant: Tenant, model: TenantModel) -> None:
    """Every view of the tenant against the model; the details of what the last steps touched."""
    same("appointments", tenant.every("/api/appointments"), model.appointment_list())
    same("calendars", tenant.every("/api/calendars"), model.calendar_list())
    same("clients", tenant.every("/api/clients"), model.client_list())
    for calendar_id in sorted(model.calendars):
        span = slot_days(model, calendar_id)
        if span is None:
            continue
        slots = tenant.every("/api/slots", {"calendar_id": calendar_id, "date_from": span[0], "date_to": span[1]})
        for slot in slots:
            assert slot["booked_appointments"] <= slot["capacity"], f"slot over capacity: {slot}"
            assert not slot["is_available"] or slot["booked_appointments"] < slot["capacity"], slot
        same(f"slots of calendar {calendar_id}", slots, model.slot_list(calendar_id, *span))
    check_details(tenant, model)
    check_statistics(tenant, model)


#: The detail views: (kind of id, URL, the error of an id that does not exist, the model's table, its record).
DETAILS: tuple[tuple[str, str, str, str, Callable[[TenantModel, int], dict[str, Any]]], ...] = (
    ("a", "/api/appointments/{}", "RESOURCE_NOT_FOUND", "appointments", TenantModel.appointment_record),
    ("s", "/api/slots/{}", "SLOT_NOT_FOUND", "slots", lambda model, sid: model.slot_record(sid, detail=True)),
    ("c", "/api/clients/{}", "RESOURCE_NOT_FOUND", "clients", lambda model, cid: model.client_record(cid, True)),
)


def check_details(tenant: Tenant, model: TenantModel) -> None:
    """The detail of every id the last steps touched (404 once it is gone), and the calendars' own views."""
    touched = model.touched
    for kind, url, missing, table, record in DETAILS:
        for ident in sorted(touched[kind]):
            reply = tenant.call("GET", url.format(ident))
            if ident in model.tables[table]:
                same(url.format(ident), reply.json().get("data"), record(model, ident))
            else:
                _refused(reply, missing, 404, url.format(ident))
    for cid in sorted(touched["cal"] & set(model.calendars)):
        same(f"calendar {cid}", tenant.data(f"/api/calendars/{cid}"), model.calendar_record(cid, detail=True))
        same(f"appointments of calendar {cid}", tenant.every(f"/api/appointments/{cid}"), model.appointment_list(cid))
        same(f"clients of calendar {cid}", tenant.every(f"/api/clients/{cid}"), model.client_list(cid))
        data = tenant.data(f"/api/statistics/{cid}", {"period": "last7days"})
        start, end = data.pop("start_date"), data.pop("end_date")
        assert (data.pop("period"), data.pop("calendar_id")) == ("last7days", cid)
        assert _days(start, end) == (model.today - timedelta(days=6), model.today), (start, end, model.today)
        same(f"statistics of calendar {cid}", data, model.appointment_statistics(*_days(start, end), cid))


def check_statistics(tenant: Tenant, model: TenantModel) -> None:
    same("calendar statistics", tenant.data("/api/statistics/calendars"), model.calendar_statistics())
    same("client statistics", tenant.data("/api/statistics/clients"), model.client_statistics())
    span = slot_days(model) or (model.today.isoformat(),) * 2
    periods = [
        ({"period": "custom", "start_date": span[0], "end_date": span[1]}, span),
        ({"period": "today"}, (model.today.isoformat(),) * 2),
    ]
    for params, (start, end) in periods:
        data = tenant.data("/api/statistics/appointments", params, checked=False)
        assert (data.pop("period"), data.pop("start_date"), data.pop("end_date")) == (params["period"], start, end)
        same(f"appointment statistics {params}", data, model.appointment_statistics(*_days(start, end)))


def _days(start: str, end: str) -> tuple[date, date]:
    return date.fromisoformat(start), date.fromisoformat(end)


# -- one page, three formats ---------------------------------------------------------------------


def check_page(
    tenant: Tenant, path: str, params: dict[str, Any], expected: list[dict[str, Any]], page: int, per_page: int
) -> None:
    """One page of a list against the model's whole list: records, pagination, and XML and CSV alike."""
    query = {**params, "page": page, "per_page": per_page}
    reply = tenant.call("GET", path, query)
    assert reply.status == 200, f"GET {path} {query}: {reply.status} {reply.body[:300]!r}"
    body = reply.json()
    total = len(expected)
    pages = -(-total // per_page)
    same(
        f"pagination of {path} {query}",
        body["pagination"],
        {"total": total, "page": page, "per_page": per_page, "total_pages": pages, "has_more": page < pages},
    )
    same(f"{path} {query}", body["data"], expected[(page - 1) * per_page : page * per_page])
    xml = tenant.call("GET", path, {**query, "format": "xml"})
    records, pagination = _from_xml(xml)
    same(f"XML of {path} {query}", records, [_as_text(r, nil=None) for r in body["data"]])
    same(f"XML pagination of {path} {query}", pagination, _as_text(body["pagination"], nil=None))
    table = tenant.call("GET", path, {**query, "format": "csv"})
    assert table.status == 200 and (table.header("Content-Type") or "").startswith("text/csv"), table
    rows = list(csv.DictReader(io.StringIO(table.body.decode("utf-8"), newline="")))
    same(f"CSV of {path} {query}", rows, [_as_cells(r) for r in body["data"]])
    same(
        f"CSV pagination headers of {path} {query}",
        {key: table.header(f"X-Pagination-{key.title().replace('_', '-')}") for key in body["pagination"]},
        _as_text(body["pagination"], nil=""),
    )


def _from_xml(reply: Reply) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    assert reply.status == 200 and (reply.header("Content-Type") or "").startswith("application/xml"), reply
    root = etree.fromstring(reply.body)
    assert root.tag == "response" and root.findtext("success") == "true", reply.body[:300]
    data, pagination = root.find("data"), root.find("pagination")
    assert data is not None and pagination is not None, reply.body[:300]
    return [{field.tag: _xml_value(field) for field in item} for item in data], {
        field.tag: _xml_value(field) for field in pagination
    }


def _xml_value(element: Any) -> str | None:
    return None if element.get("nil") == "true" else element.text or ""


def _scalar(value: Any, nil: str | None) -> str | None:
    if value is None:
        return nil
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_text(record: dict[str, Any], nil: str | None) -> dict[str, str | None]:
    """A JSON record as XML writes it: numbers and booleans as their JSON text, null as ``nil``."""
    return {key: _scalar(value, nil) for key, value in record.items()}


_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def _as_cells(record: dict[str, Any]) -> dict[str, str]:
    """A JSON record as CSV writes it; text a spreadsheet would run gets an apostrophe (docs/formats.md)."""
    cells = {}
    for key, value in record.items():
        text = _scalar(value, "") or ""
        if (
            isinstance(value, str)
            and text[:1] in ("=", "+", "-", "@", "\t", "\r")
            and not _PLAIN_NUMBER.fullmatch(text)
        ):
            text = "'" + text
        cells[key] = text
    return cells
