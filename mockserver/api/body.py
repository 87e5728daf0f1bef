"""JSON request bodies of POST /api/appointment and PUT /api/appointment/{id} ("Gestion des rendez-vous").

Checks run in the order an integrator fixes them: a readable JSON object (INVALID_JSON), then the required
fields (MISSING_REQUIRED_FIELD, naming the field), then each field's type (INVALID_JSON) and value
(INVALID_PARAMETER).
"""

from __future__ import annotations

import re
from typing import Any

from mockserver import jsonbody
from mockserver.args import SQLITE_MAX
from mockserver.call import current_call
from mockserver.errors import InvalidJson, InvalidParameter, MissingRequiredField
from mockserver.statuses import STATUSES
from mockserver.store.writes import NewAppointment

REQUIRED = ("calendar_id", "slot_id", "client_firstname", "client_lastname", "client_email", "client_phone")
INTEGER_FIELDS = ("calendar_id", "slot_id")
TEXT_LIMIT = 200
MAX_ID = SQLITE_MAX  # no larger id can exist
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-]{6,25}$")


def json_object() -> dict[str, Any]:
    """The body as a JSON object. Any Content-Type is read: the documentation asks for a JSON body, not a
    header, and curl's ``-d`` sends form-encoded by default (docs/interpretation.md#booking)."""
    value = jsonbody.parse(current_call().incoming.body())
    if not isinstance(value, dict):
        raise InvalidJson(
            f"The request body must be a JSON object, got {jsonbody.describe(value)}",
            hint='Send one object such as {"calendar_id": 1, "slot_id": 10001, ...}.',
        )
    return value


def _integer(body: dict[str, Any], name: str) -> int:
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidJson(
            f"{name} must be a JSON integer, got {jsonbody.describe(value)}",
            details={"field": name},
            hint=f'{name} is an integer without quotes, e.g. "{name}": 1.',
        )
    if not 1 <= value <= MAX_ID:
        raise InvalidParameter(f"{name} must be an integer from 1 to {MAX_ID}, got {value}", details={"field": name})
    return value


def _text(body: dict[str, Any], name: str) -> str:
    """A text field as sent (docs/interpretation.md#booking: stored as sent, surrounding spaces included)."""
    value = body[name]
    if not isinstance(value, str):
        raise InvalidJson(
            f"{name} must be a JSON string, got {jsonbody.describe(value)}",
            details={"field": name},
            hint=f"{name} is a string in double quotes.",
        )
    if len(value) > TEXT_LIMIT:
        raise InvalidParameter(f"{name} is longer than {TEXT_LIMIT} characters", details={"field": name})
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidParameter(
            f"{name} holds an unpaired surrogate (such as \\ud800): it is not Unicode text", details={"field": name}
        ) from None
    return value


def _status(body: dict[str, Any]) -> str | None:
    if body.get("status") is None:
        return None
    value = _text(body, "status").strip().lower()
    if value not in STATUSES:
        raise InvalidParameter(
            f"Invalid status {body['status']!r}: use {', '.join(STATUSES)}",
            details={"field": "status", "allowed": list(STATUSES)},
        )
    return value


def new_appointment() -> NewAppointment:
    body = json_object()
    for name in REQUIRED:
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise MissingRequiredField(f"{name} is required", details={"field": name})
    fields = {name: _integer(body, name) if name in INTEGER_FIELDS else _text(body, name) for name in REQUIRED}
    if not _EMAIL.match(fields["client_email"].strip()):
        raise InvalidParameter(
            f"client_email is not an e-mail address: {fields['client_email']!r}",
            details={"field": "client_email"},
        )
    if not _PHONE.match(fields["client_phone"].strip()) or sum(ch.isdigit() for ch in fields["client_phone"]) < 6:
        raise InvalidParameter(
            f"client_phone is not a phone number: {fields['client_phone']!r}",
            details={"field": "client_phone"},
        )
    return NewAppointment(**fields, status=_status(body) or "pending")


def appointment_change() -> tuple[str | None, int | None]:
    """(status, slot_id) of a PUT body; at least one of them is required."""
    body = json_object()
    if body.get("status") is None and body.get("slot_id") is None:
        raise MissingRequiredField("slot_id or status is required", details={"field": "status"})
    slot_id = _integer(body, "slot_id") if body.get("slot_id") is not None else None
    return _status(body), slot_id
