"""Reading a JSON request body, for the API and the control API alike: any failure is INVALID_JSON with a
message saying where, never an exception from the parser (huge numbers, deep nesting, bad UTF-8)."""

from __future__ import annotations

import json
from typing import Any

from mockserver.errors import InvalidJson


def parse(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJson(
            f"The request body is not UTF-8 (byte {exc.start})",
            hint="Send the JSON body encoded in UTF-8.",
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidJson(
            f"Invalid JSON in request body: {exc.msg} at line {exc.lineno} column {exc.colno}",
            details={"line": exc.lineno, "column": exc.colno, "position": exc.pos},
            hint=f"The JSON parser stopped at line {exc.lineno}, column {exc.colno} ({exc.msg}): "
            f"near {text[max(0, exc.pos - 20) : exc.pos + 20]!r}.",
        ) from None
    except RecursionError:
        raise InvalidJson("Invalid JSON in request body: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise InvalidJson(f"Invalid JSON in request body: {exc}") from None


def describe(value: Any) -> str:
    """A JSON value for a message: its type and a short preview."""
    kind = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
    preview = json.dumps(value, ensure_ascii=False, default=str)
    return kind if len(preview) > 40 else f"{kind} ({preview})"
