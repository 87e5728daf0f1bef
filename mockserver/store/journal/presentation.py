"""A stored journal row as the journal shows it (GET /__mock/journal, the stream's events)."""

from __future__ import annotations

import json
from typing import Any

import orjson

from mockserver.store.journal.rows import Stored


def entry(row: Stored) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at,
        "tenant": row.tenant,
        "method": row.method,
        "path": row.path,
        "query": orjson.loads(row.query),
        "headers": orjson.loads(row.headers),
        "body": _parsed(row.body),
        "status": row.status,
        "error_code": row.error_code,
        "rule_id": row.rule_id,
        "duration_ms": row.duration_ms,
        "hint": row.hint,
        "fault": row.fault,
        "response": (
            {"content_type": row.answer_type, "body": _parsed(row.answer)} if row.answer_type is not None else None
        ),
    }


def _parsed(text: str | None) -> Any:
    """A recorded body: its JSON value when it is whole, standard JSON, else the text as recorded.

    Standard: NaN, Infinity, 1e999 or a lone surrogate escape stay text, as sent (read as JSON values, they
    were shown as null or could not be rendered at all). orjson, because a stream reads hundreds of entries
    a poll and the standard parser was most of a poll's time; but orjson reads an integer past 64 bits as a
    float, so a value with a float in it is read again by the standard parser, which is exact."""
    if not text:
        return text
    try:
        value = orjson.loads(text)
        return json.loads(text) if _has_float(value) else value
    except (ValueError, RecursionError):
        return text


def _has_float(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
