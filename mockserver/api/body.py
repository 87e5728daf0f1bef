"""JSON request bodies of POST /api/appointment and PUT /api/appointment/{id} ("Gestion des rendez-vous").

Checks run in the order an integrator fixes them: a readable JSON object (INVALID_JSON), then the required
fields (MISSING_REQUIRED_FIELD, naming the field), then each field's type (INVALID_JSON) and value
(INVALID_PARAMETER).
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request

from mockserver.errors import InvalidJson, InvalidParameter, MissingRequiredField
from mockserver.store.queries import STATUSES
from mockserver.store.writes import NewAppointment

REQUIRED = ("calendar_id", "slot_id", "client_firstname", "client_lastname", "client_email", "client_phone")
INTEGER_FIELDS = ("calendar_id", "slot_id")
TEXT_LIMIT = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-]{6,25}$")


def json_object() -> dict[str, Any]:
    if not request.is_json:
        raise InvalidJson(
            f"Content-Type must be application/json, got {request.content_type or 'none'!r}",
            details={"header": "Content-Type"},
        )
    raw = request.get_data(cache=True)
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidJson(f"Invalid JSON in request body: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidJson(
            f"The request body must be a JSON object, got {type(value).__name__ if value is not None else 'null'}"
        )
    return value


def _integer(body: dict[str, Any], name: str) -> int:
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidJson(f"{name} must be a JSON integer, got {json.dumps(value)}", details={"field": name})
    if value < 1:
        raise InvalidParameter(f"{name} must be a positive integer, got {value}", details={"field": name})
    return value


def _text(body: dict[str, Any], name: str) -> str:
    value = body[name]
    if not isinstance(value, str):
        raise InvalidJson(f"{name} must be a JSON string, got {json.dumps(value)}", details={"field": name})
    if len(value) > TEXT_LIMIT:
        raise InvalidParameter(f"{name} is longer than {TEXT_LIMIT} characters", details={"field": name})
    return value.strip()


def _status(body: dict[str, Any]) -> str | None:
    if body.get("status") is None:
        return None
    value = _text(body, "status").lower()
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
    if not _EMAIL.match(fields["client_email"]):
        raise InvalidParameter(
            f"client_email is not an e-mail address: {fields['client_email']!r}",
            details={"field": "client_email"},
        )
    if not _PHONE.match(fields["client_phone"]) or sum(ch.isdigit() for ch in fields["client_phone"]) < 6:
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
