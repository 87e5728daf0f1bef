"""Scenario rules: what an integrator's test asks the sandbox to do to matching API requests.

A rule matches on method, path pattern (shell-style, ``/api/appointments/*``), query parameters and tenant,
then answers with a documented error code, or any status and body, or a network fault, optionally after
a delay; or it only adds the delay and lets the request through. ``times`` bounds how often it fires;
``probability`` draws from a generator seeded with (seed, rule id, evaluation number), so a flaky run
replays identically. Validation turns a bad rule into INVALID_PARAMETER naming the field.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from mockserver.errors import ALL_CODES, InvalidParameter

FAULTS = ("connection_reset", "empty_response", "malformed_body", "truncated_body")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
MAX_DELAY_MS = 60_000
#: The most delay all the rules matching one request may add together (docs/limits.md).
MAX_TOTAL_DELAY_MS = 60_000
MAX_TIMES = 2**63 - 1  # SQLite's largest integer
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
_KEYS = {
    "name",
    "method",
    "path",
    "query",
    "tenant",
    "error_code",
    "message",
    "status",
    "body",
    "content_type",
    "headers",
    "times",
    "probability",
    "seed",
    "delay_ms",
    "fault",
}


def _bad(field: str, problem: str) -> InvalidParameter:
    return InvalidParameter(f"rule.{field}: {problem}", details={"field": field})


def validate(raw: Any) -> dict[str, Any]:
    """A clean rule spec from a JSON object, or INVALID_PARAMETER naming the first bad field."""
    if not isinstance(raw, Mapping):
        raise InvalidParameter("A rule must be a JSON object")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise _bad(unknown[0], f"unknown field (known: {', '.join(sorted(_KEYS))})")
    rule: dict[str, Any] = {"path": "/api/*"}
    if raw.get("name") is not None:
        rule["name"] = _text("name", raw["name"], 100)
    methods = raw.get("method")
    if methods is not None:
        listed = [methods] if isinstance(methods, str) else methods
        if not isinstance(listed, list) or not listed or any(str(m).upper() not in METHODS for m in listed):
            raise _bad("method", f"use one of {', '.join(METHODS)} or a list of them")
        rule["method"] = [str(m).upper() for m in listed]
    if raw.get("path") is not None:
        if not isinstance(raw["path"], str) or not raw["path"].startswith("/"):
            raise _bad("path", "a pattern starting with '/', such as /api/appointments/*")
        rule["path"] = raw["path"]
    if raw.get("query") is not None:
        query = raw["query"]
        if not isinstance(query, Mapping) or not all(isinstance(v, str | int) for v in query.values()):
            raise _bad("query", "an object of parameter -> value ('*' matches any value)")
        rule["query"] = {str(k): str(v) for k, v in query.items()}
    if raw.get("tenant") is not None:
        rule["tenant"] = str(raw["tenant"])
    _response(raw, rule)
    _timing(raw, rule)
    return rule


def _text(field: str, value: Any, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise _bad(field, f"a string of at most {limit} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad(field, "Unicode text (no unpaired surrogates)") from None
    return value


def _response(raw: Mapping[str, Any], rule: dict[str, Any]) -> None:
    chosen = [key for key in ("error_code", "status", "fault") if raw.get(key) is not None]
    if len(chosen) > 1:
        raise _bad(chosen[1], f"choose one of error_code, status or fault (got {', '.join(chosen)})")
    if raw.get("error_code") is not None:
        code = str(raw["error_code"]).upper()
        if code not in ALL_CODES:
            raise _bad("error_code", f"unknown code; documented codes: {', '.join(ALL_CODES)}")
        rule["error_code"] = code
        if raw.get("message") is not None:
            rule["message"] = _text("message", raw["message"], 1000)
    elif raw.get("status") is not None:
        status = raw["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise _bad("status", "an HTTP status from 100 to 599")
        rule["status"] = status
        body = raw.get("body", "")
        if not isinstance(body, str | Mapping | list):
            raise _bad("body", "a string or a JSON value")
        try:
            (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)).encode("utf-8")
        except (UnicodeEncodeError, ValueError):
            raise _bad("body", "Unicode text (no unpaired surrogates)") from None
        rule["body"] = body
        content_type = raw.get("content_type") or (
            "application/json; charset=utf-8" if not isinstance(body, str) else "text/plain; charset=utf-8"
        )
        rule["content_type"] = _header_value("content_type", content_type)
        headers = raw.get("headers") or {}
        if not isinstance(headers, Mapping):
            raise _bad("headers", "an object of header -> value")
        for name in headers:
            if not isinstance(name, str) or not _TOKEN.fullmatch(name):
                raise _bad("headers", f"{str(name)[:40]!r} is not a header name (letters, digits, '-')")
        rule["headers"] = {name: _header_value(f"headers.{name}", value) for name, value in headers.items()}
    elif raw.get("fault") is not None:
        if raw["fault"] not in FAULTS:
            raise _bad("fault", f"use one of {', '.join(FAULTS)}")
        rule["fault"] = raw["fault"]
    elif raw.get("delay_ms") is None:
        raise InvalidParameter("A rule needs error_code, status, fault or delay_ms: what should it do?")


def _header_value(field: str, value: Any) -> str:
    """A value HTTP can carry: latin-1 text without line breaks (a CR or LF would split the response)."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _bad(field, "a string")
    text = str(value)
    if any(ch in text for ch in "\r\n\x00") or len(text) > 4096:
        raise _bad(field, "one line of at most 4096 characters (no CR, LF or NUL)")
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        raise _bad(field, "ISO-8859-1 (latin-1) text only: HTTP header values cannot carry other characters") from None
    return text


def _timing(raw: Mapping[str, Any], rule: dict[str, Any]) -> None:
    if raw.get("times") is not None:
        times = raw["times"]
        if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= MAX_TIMES:
            raise _bad("times", f"a whole number from 1 to {MAX_TIMES}")
        rule["times"] = times
    if raw.get("probability") is not None:
        p = raw["probability"]
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
            raise _bad("probability", "a number from 0 to 1")
        rule["probability"] = float(p)
    if raw.get("seed") is not None:
        if isinstance(raw["seed"], bool) or not isinstance(raw["seed"], int) or not 0 <= raw["seed"] <= MAX_TIMES:
            raise _bad("seed", f"an integer from 0 to {MAX_TIMES}")
        rule["seed"] = raw["seed"]
    if raw.get("delay_ms") is not None:
        delay = raw["delay_ms"]
        bounds = delay if isinstance(delay, list) else [delay, delay]
        if (
            len(bounds) != 2
            or any(isinstance(b, bool) or not isinstance(b, int | float) for b in bounds)
            or not 0 <= bounds[0] <= bounds[1] <= MAX_DELAY_MS
        ):
            raise _bad("delay_ms", f"milliseconds, or [min, max], from 0 to {MAX_DELAY_MS}")
        rule["delay_ms"] = delay


def matches(rule: Mapping[str, Any], method: str, path: str, query: Mapping[str, str], tenant: str | None) -> bool:
    if rule.get("tenant") is not None and rule["tenant"] != tenant:
        return False
    if "method" in rule and method not in rule["method"]:
        return False
    if not fnmatch.fnmatchcase(path, rule["path"]) and not fnmatch.fnmatchcase(path.rstrip("/"), rule["path"]):
        return False
    for name, expected in (rule.get("query") or {}).items():
        # A repeated parameter (calendar_id=1&calendar_id=2) matches when any of its values does.
        values = query.getlist(name) if hasattr(query, "getlist") else [query[name]] if name in query else []
        if not values or (expected != "*" and expected not in values):
            return False
    return True


def draw(seed: int, rule_id: int, evaluation: int, salt: str = "p") -> float:
    """A number in [0, 1) that depends only on its arguments: the same seed replays the same run."""
    digest = hashlib.blake2b(f"{seed}|{rule_id}|{evaluation}|{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def delay_seconds(rule: Mapping[str, Any], seed: int, evaluation: int) -> float:
    delay = rule.get("delay_ms")
    if delay is None:
        return 0.0
    if isinstance(delay, list):
        low, high = delay
        return (low + (high - low) * draw(seed, rule["id"], evaluation, "delay")) / 1000
    return float(delay) / 1000


def is_passthrough(rule: Mapping[str, Any]) -> bool:
    """A delay-only rule slows the request down and lets the next rules (and the API) answer it."""
    return not any(key in rule for key in ("error_code", "status", "fault"))
