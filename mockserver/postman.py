"""The Postman collection of the sandbox (``mockserver/postman.json``, served as ``GET /__mock/postman.json``).

A converter run over the OpenAPI description gives every request every optional parameter (a forced
``__scenario``, a random tenant, debug mode) and the example ids of the vendor's documentation, which do not exist
here: a collection run then fails everywhere. This one is written for people: one folder per resource, requests
that work on the default dataset of any day (the booking flow picks a free slot of the coming week and carries its
ids from request to request), a test on each (status, ``error_code``, one field), and the error paths in a folder
of their own, forced with ``X-Mock-Scenario`` or caused for real.

``python -m mockserver.postman`` rewrites ``postman.json`` from :func:`build`; tests/test_postman.py fails when the
file and the code differ, and runs the collection with newman.
"""

from __future__ import annotations

import json
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from mockserver.protocol import SCENARIO_HEADER, TOKEN_HEADER

FILE = "postman.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
DEFAULT_BASE_URL = "http://127.0.0.1:8080"

#: Computes the token when ``accessToken`` is empty (the sandbox's default account unless told otherwise): the
#: lowercase hex HMAC-SHA256 of the account id keyed with its secret ("Authentification").
TOKEN_SCRIPT = [
    "// Access-Token: the collection's accessToken, or the HMAC-SHA256 of accountId keyed with secretKey.",
    "if (!pm.variables.get('accessToken')) {",
    "    const token = CryptoJS.HmacSHA256(pm.variables.get('accountId'), pm.variables.get('secretKey'));",
    "    pm.variables.set('accessToken', token.toString(CryptoJS.enc.Hex));",
    "}",
]

VARIABLES = (
    ("baseUrl", DEFAULT_BASE_URL, "The sandbox's address (tap4book-mock serve --port ...), without a final slash."),
    (
        "accessToken",
        "",
        "A token; empty: computed from accountId and secretKey by the collection's pre-request script.",
    ),
    ("accountId", "sandbox", "entity_account_id of the account (fixtures/accounts.json)."),
    ("secretKey", "sandbox-secret-key-change-me", "entity_secret_key of that account."),
    ("today", "", "Set by 'API status': the sandbox clock's date."),
    ("nextWeek", "", "Set by 'API status': a week after today."),
    ("slotId", "", "Set by 'Slots of calendar 1 this week': a free slot."),
    ("otherSlotId", "", "Set by 'Slots of calendar 1 this week': another free slot of the same calendar."),
    ("appointmentId", "", "Set by 'Book the free slot'."),
)


def _request(
    name: str,
    method: str,
    path: str,
    *,
    status: int = 200,
    error_code: str = "SUCCESS",
    check: str,
    query: tuple[tuple[str, str], ...] = (),
    headers: tuple[tuple[str, str], ...] = (),
    body: dict[str, Any] | None = None,
    also: tuple[str, ...] = (),
    anonymous: bool = False,
    description: str = "",
) -> dict[str, Any]:
    """One request with its test: the status, the envelope's error_code, and ``check`` (a JavaScript condition
    on ``json``, the parsed body); ``also`` adds lines after the assertions (to store ids for later requests)."""
    tests = [
        f"pm.test('{status} {error_code}', function () {{",
        f"    pm.response.to.have.status({status});",
        f"    pm.expect(pm.response.json().error_code).to.eql('{error_code}');",
        "});",
        f"pm.test('{check.replace(chr(39), chr(34))}', function () {{",
        "    const json = pm.response.json();",
        f"    pm.expect({check}).to.be.true;",
        "});",
        *also,
    ]
    url: dict[str, Any] = {
        "raw": "{{baseUrl}}" + path + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else ""),
        "host": ["{{baseUrl}}"],
        "path": path.strip("/").split("/"),
    }
    if query:
        url["query"] = [{"key": key, "value": value} for key, value in query]
    request: dict[str, Any] = {
        "method": method,
        "header": [{"key": key, "value": value} for key, value in headers],
        "url": url,
    }
    if description:
        request["description"] = description
    if body is not None:
        request["header"].append({"key": "Content-Type", "value": "application/json"})
        # An id taken from a variable goes in unquoted: the API wants JSON integers ("10370" is INVALID_JSON).
        raw = re.sub(r'"(\{\{\w+\}\})"', r"\1", json.dumps(body, indent=2))
        request["body"] = {"mode": "raw", "raw": raw, "options": {"raw": {"language": "json"}}}
    if anonymous:
        request["auth"] = {"type": "noauth"}
    return {
        "name": name,
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": tests}}],
        "request": request,
    }


def _forced(name: str, method: str, path: str, code: str, status: int) -> dict[str, Any]:
    """An error forced by the sandbox's X-Mock-Scenario header (before authentication, data untouched)."""
    body = {"calendar_id": 1, "slot_id": "{{slotId}}"} if method == "POST" else None
    return _request(
        name,
        method,
        path,
        headers=((SCENARIO_HEADER, code),),
        body=body,
        status=status,
        error_code=code,
        check=f"json.http_code === {status}",
    )


def _folder(name: str, description: str, *items: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "description": description, "item": list(items)}


def _folders() -> list[dict[str, Any]]:
    week = (("date_from", "{{today}}"), ("date_to", "{{nextWeek}}"))
    return [
        _folder(
            "info",
            "Endpoints d'information: no token needed.",
            _request("API information", "GET", "/api/", check="json.data.name === 'TAP4BOOK API'", anonymous=True),
            _request(
                "API status",
                "GET",
                "/api/health",
                check="json.data.status === 'healthy'",
                anonymous=True,
                description="Stores the sandbox clock's date as {{today}} and {{nextWeek}}, for the requests after.",
                also=(
                    "const day = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 10);",
                    "const now = pm.response.json().data.timestamp;",
                    "pm.collectionVariables.set('today', day(now));",
                    "pm.collectionVariables.set('nextWeek', day(now + 7 * 86400));",
                ),
            ),
        ),
        _folder(
            "calendars",
            "Endpoints Calendriers.",
            _request("Every calendar", "GET", "/api/calendars", check="json.data.length === json.pagination.total"),
            _request("Calendar 1", "GET", "/api/calendars/1", check="json.data.calendar_id === 1"),
        ),
        _folder(
            "slots",
            "Endpoints Créneaux.",
            _request(
                "Slots of calendar 1 this week",
                "GET",
                "/api/slots",
                query=(("calendar_id", "1"), *week, ("per_page", "1000")),
                check="json.data.every(slot => slot.calendar_id === 1)",
                description="Stores two free slots as {{slotId}} and {{otherSlotId}}, for the booking folder.",
                also=(
                    "const free = pm.response.json().data.filter(slot => slot.is_available);",
                    "pm.test('two free slots this week', function () { pm.expect(free.length).to.be.above(1); });",
                    "pm.collectionVariables.set('slotId', free[0].slot_id);",
                    "pm.collectionVariables.set('otherSlotId', free[1].slot_id);",
                ),
            ),
            _request("One slot", "GET", "/api/slots/{{slotId}}", check="json.data.is_available === true"),
        ),
        _folder(
            "booking",
            "Gestion des rendez-vous: book the free slot, confirm, move, cancel (the place is free again).",
            _request(
                "Book the free slot",
                "POST",
                "/api/appointment",
                body={
                    "calendar_id": 1,
                    "slot_id": "{{slotId}}",
                    "client_firstname": "Jean",
                    "client_lastname": "Dupont",
                    "client_email": "jean.dupont@example.com",
                    "client_phone": "+33123456789",
                },
                check="json.data.appointment.status === 'pending'",
                also=(
                    "pm.collectionVariables.set('appointmentId', pm.response.json().data.appointment.appointment_id);",
                ),
            ),
            _request(
                "Confirm it",
                "PUT",
                "/api/appointment/{{appointmentId}}",
                body={"status": "confirmed"},
                check="json.data.appointment.status === 'confirmed'",
            ),
            _request(
                "Move it to another slot",
                "PUT",
                "/api/appointment/{{appointmentId}}",
                body={"slot_id": "{{otherSlotId}}"},
                check="json.data.appointment.slot_id == pm.collectionVariables.get('otherSlotId')",
            ),
            _request(
                "Cancel it",
                "PUT",
                "/api/appointment/{{appointmentId}}",
                body={"status": "cancelled"},
                check="json.data.appointment.status === 'cancelled'",
            ),
        ),
        _folder(
            "appointments",
            "Endpoints Rendez-vous.",
            _request(
                "Confirmed appointments",
                "GET",
                "/api/appointments",
                query=(("status", "confirmed"), ("per_page", "20")),
                check="json.data.every(appointment => appointment.status === 'confirmed')",
            ),
            _request(
                "The appointment just booked",
                "GET",
                "/api/appointments/{{appointmentId}}",
                check="json.data.status === 'cancelled'",
            ),
            _request(
                "Appointments of calendar 1",
                "GET",
                "/api/appointments/1",
                query=(("scope", "calendar"),),
                check="json.meta.calendar_id === 1",
            ),
        ),
        _folder(
            "clients",
            "Endpoints Clients.",
            _request(
                "Search clients",
                "GET",
                "/api/clients",
                query=(("search", "dupont"),),
                check="json.data.some(client => client.client_email === 'jean.dupont@example.com')",
            ),
            _request("Client 1001", "GET", "/api/clients/1001", check="json.data.client_id === 1001"),
            _request(
                "Clients of calendar 1",
                "GET",
                "/api/clients/1",
                query=(("scope", "calendar"),),
                check="json.meta.calendar_id === 1",
            ),
        ),
        _folder(
            "statistics",
            "Endpoints Statistiques.",
            _request(
                "Appointments, last 7 days",
                "GET",
                "/api/statistics/appointments",
                query=(("period", "last7days"),),
                check="json.data.daily_breakdown.length === 7",
            ),
            _request("Calendars", "GET", "/api/statistics/calendars", check="json.data.total_calendars >= 1"),
            _request("Clients", "GET", "/api/statistics/clients", check="json.data.total_clients >= 1"),
            _request(
                "Calendar 1, last 30 days",
                "GET",
                "/api/statistics/1",
                query=(("period", "last30days"),),
                check="json.data.calendar_id === 1",
            ),
        ),
        _folder(
            "errors",
            "The error paths: caused for real, or forced with the sandbox's X-Mock-Scenario header (any documented "
            "error on any request, before authentication, without touching the data).",
            _request(
                "No token",
                "GET",
                "/api/calendars",
                status=401,
                error_code="AUTH_REQUIRED",
                check="json.success === false",
                anonymous=True,
            ),
            _request(
                "Unknown calendar",
                "GET",
                "/api/calendars/999",
                status=404,
                error_code="CALENDAR_NOT_FOUND",
                check="json.http_code === 404",
            ),
            _request(
                "Slots without calendar_id",
                "GET",
                "/api/slots",
                query=(("date_from", "{{today}}"),),
                status=400,
                error_code="MISSING_CALENDAR_ID",
                check="json.http_code === 400",
            ),
            _request(
                "A date in the wrong format",
                "GET",
                "/api/slots",
                query=(("calendar_id", "1"), ("date_from", "15/06/2025")),
                status=400,
                error_code="INVALID_DATE_FORMAT",
                check="json.message.includes('YYYY-MM-DD')",
            ),
            _forced("Booking a full slot (forced)", "POST", "/api/appointment", "SLOT_UNAVAILABLE", 409),
            _forced("A server failure (forced)", "GET", "/api/calendars", "INTERNAL_ERROR", 500),
            _forced("A rejected token (forced)", "GET", "/api/appointments", "AUTH_INVALID", 401),
            _forced("A date range over a year (forced)", "GET", "/api/calendars", "DATE_RANGE_TOO_LARGE", 400),
        ),
    ]


def build() -> dict[str, Any]:
    """The collection (Postman Collection v2.1), as the file ships it."""
    return {
        "info": {
            "name": "TAP4BOOK API (tap4book-mockserver sandbox)",
            "description": (
                "The TAP4BOOK booking API, as the tap4book-mockserver sandbox serves it. Set baseUrl to your "
                "sandbox's address; leave accessToken empty to have it computed from accountId and secretKey "
                "(the sandbox's default account), or paste a token. Run the folders in order: 'API status' and "
                "'Slots of calendar 1 this week' store the dates and ids the booking requests use. See "
                "docs/openapi.md of tap4book-mockserver."
            ),
            "schema": SCHEMA,
        },
        "auth": {
            "type": "apikey",
            "apikey": [
                {"key": "key", "value": TOKEN_HEADER, "type": "string"},
                {"key": "value", "value": "{{accessToken}}", "type": "string"},
                {"key": "in", "value": "header", "type": "string"},
            ],
        },
        "event": [{"listen": "prerequest", "script": {"type": "text/javascript", "exec": TOKEN_SCRIPT}}],
        "variable": [
            {"key": key, "value": value, "type": "string", "description": text} for key, value, text in VARIABLES
        ],
        "item": _folders(),
    }


def render(collection: dict[str, Any]) -> bytes:
    """The file's bytes: indented, UTF-8, one final newline (a stable diff when the collection changes)."""
    return (json.dumps(collection, indent=2, ensure_ascii=False) + "\n").encode()


def shipped() -> bytes:
    """The collection as shipped in the package."""
    return resources.files("mockserver").joinpath(FILE).read_bytes()


def main() -> None:
    """Rewrite mockserver/postman.json from build()."""
    target = Path(__file__).with_name(FILE)
    target.write_bytes(render(build()))
    sys.stdout.write(f"wrote {target}\n")


if __name__ == "__main__":
    main()
