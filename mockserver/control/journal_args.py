"""The journal's query parameters (GET /__mock/journal, /journal/count, /journal/stream): every filter but the
tenant scope, which the control views decide. A bad value is INVALID_PARAMETER naming the parameter.

``method``, ``path`` (a glob), ``status`` (``2xx``..``5xx``), ``error_code``, ``id`` (an entry id, as in
``X-Request-Id``), ``unauthenticated`` (``true``: only the calls that carried no valid credentials), and any
number of ``body.<path>=<value>`` (a JSON path in dot notation, ``client_email`` or ``items.0.name``: an exact
JSON value, or a glob of ``*`` and ``?`` for strings) and ``header.<name>=<value>`` (a glob; the name in any
case). docs/control-api.md#journal has examples; store/journal/filters.py turns them into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from mockserver import args
from mockserver.errors import InvalidParameter

STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")
MAX_MATCHERS = 10  # body.* and header.* filters of one request, together
MAX_VALUE = 1024
MAX_DEPTH = 16
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")


class Args(Protocol):
    pairs: list[tuple[str, str]]


def _bad(parameter: str, problem: str) -> InvalidParameter:
    return InvalidParameter(f"{parameter}: {problem}", details={"parameter": parameter})


def parse(query: Args | Mapping[str, str]) -> dict[str, Any]:
    """The journal filters of a query string (call/incoming.py's Query, or a plain mapping)."""
    pairs = list(query.pairs) if hasattr(query, "pairs") else list(query.items())
    single = dict(reversed(pairs))  # the first value of each name, as werkzeug's get() reads it
    status = single.get("status")
    if status is not None and status not in STATUS_CLASSES:
        raise _bad("status", f"must be {', '.join(STATUS_CLASSES[:-1])} or {STATUS_CLASSES[-1]}")
    body: list[tuple[tuple[str, ...], str]] = []
    headers: list[tuple[str, str]] = []
    for name, value in pairs:
        if name.startswith("body."):
            body.append((_json_path(name), _value(name, value)))
        elif name.startswith("header."):
            headers.append((_header_name(name), _value(name, value)))
    if len(body) + len(headers) > MAX_MATCHERS:
        raise _bad("body", f"at most {MAX_MATCHERS} body.* and header.* filters together")
    return {
        "method": single.get("method") or None,
        "path": single.get("path") or None,
        "status_class": status,
        "error_code": single.get("error_code") or None,
        "id": _entry_id(single.get("id")),
        "unauthenticated": _boolean("unauthenticated", single.get("unauthenticated")),
        "body": tuple(body),
        "headers": tuple(headers),
    }


def _entry_id(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= args.MAX_DIGITS):
        raise _bad("id", "must be the id of a journal entry (digits, as in X-Request-Id)")
    return int(raw)


def _boolean(name: str, raw: str | None) -> bool | None:
    return None if raw is None or raw == "" else args.boolean(name, raw)


def _json_path(name: str) -> tuple[str, ...]:
    segments = tuple(name.removeprefix("body.").split("."))
    if any(not segment for segment in segments):
        raise _bad(name, "give a JSON path in dot notation after body., such as body.client_email or body.items.0.name")
    if any('"' in segment for segment in segments):
        raise _bad(name, 'a JSON path cannot hold a double quote (")')
    if len(segments) > MAX_DEPTH:
        raise _bad(name, f"a JSON path of at most {MAX_DEPTH} names")
    return segments


def _header_name(name: str) -> str:
    header = name.removeprefix("header.")
    if not _HEADER_NAME.fullmatch(header):
        raise _bad(name, "give a header name after header., such as header.content-type")
    return header


def _value(name: str, value: str) -> str:
    if len(value) > MAX_VALUE:
        raise _bad(name, f"a value of at most {MAX_VALUE} characters")
    return value
