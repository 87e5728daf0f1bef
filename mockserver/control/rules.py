"""Scenario rules: what an integrator's test asks the sandbox to do to matching API requests.

A rule matches on method, path pattern (shell-style, ``/api/appointments/*``), query parameters, tenant,
request headers (``match_headers``) and values of the JSON body (``match_body``, mockserver/jsonpath.py), then
answers with a documented error code, or any status and body, or a network fault, optionally after
a delay; or it only adds the delay and lets the request through. ``times`` bounds how often it fires;
``probability`` draws from a generator seeded with (seed, rule id, evaluation number), so a flaky run
replays identically. Validation turns a bad rule into INVALID_PARAMETER naming the field.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.exceptions import HTTPException

from mockserver import jsonbody, jsonpath
from mockserver.errors import ALL_CODES, ApiError, InvalidParameter

FAULTS = ("connection_reset", "empty_response", "malformed_body", "truncated_body")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
MAX_DELAY_MS = 60_000
#: The most delay all the rules matching one request may add together (docs/limits.md).
MAX_TOTAL_DELAY_MS = 60_000
MAX_TIMES = 2**63 - 1  # SQLite's largest integer
#: What a rule may answer: a 1xx is not an answer (granian sends an empty 500 for most, 101 switches protocols).
STATUSES = range(200, 600)
MAX_PATTERN = 2000
#: Headers that frame the answer: the HTTP server sets them, and a rule's own would cut the connection short.
_FRAMING = frozenset(
    ("connection", "content-length", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade")
)
#: What a header value can carry as written: granian drops a value with a control character and sends any
#: character past ASCII as its UTF-8 bytes (RFC 9110 obs-text is latin-1), so printable ASCII and tab only.
_HEADER_TEXT = re.compile(r"[\t\x20-\x7e]*")
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
    "match_headers",
    "match_body",
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
        rule["path"] = _text("path", raw["path"], MAX_PATTERN)
    if raw.get("query") is not None:
        rule["query"] = _pairs("query", raw["query"], "parameter -> value ('*' matches any value)")
    if raw.get("tenant") is not None:
        rule["tenant"] = _text("tenant", raw["tenant"], 200)
    _request_matchers(raw, rule)
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


def _pairs(field: str, value: Any, shape: str) -> dict[str, str]:
    """An object of name -> text (an integer is read as its digits), every name and value Unicode text."""
    if not isinstance(value, Mapping) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in value.values()
    ):
        raise _bad(field, f"an object of {shape}")
    return {_text(field, str(k), MAX_PATTERN): _text(f"{field}.{k}", str(v), MAX_PATTERN) for k, v in value.items()}


def _request_matchers(raw: Mapping[str, Any], rule: dict[str, Any]) -> None:
    if raw.get("match_headers") is not None:
        pairs = _pairs("match_headers", raw["match_headers"], "header name -> value or glob (* and ?)")
        for name in pairs:
            if not _TOKEN.fullmatch(name):
                raise _bad("match_headers", f"{name[:40]!r} is not a header name (letters, digits, '-')")
        rule["match_headers"] = {name.lower(): value for name, value in pairs.items()}
    if raw.get("match_body") is not None:
        wanted = raw["match_body"]
        if not isinstance(wanted, Mapping) or not wanted:
            raise _bad("match_body", "an object of JSON path (dot notation: items.0.name) -> JSON value or glob")
        for path, value in wanted.items():
            if jsonpath.split(path) is None:
                raise _bad(
                    "match_body",
                    f"{str(path)[:40]!r} is not a JSON path: names and array indexes joined by dots, such as"
                    f" client_email or items.0.name (at most {jsonpath.MAX_SEGMENTS} parts)",
                )
            _text(f"match_body.{path}", json.dumps(value, ensure_ascii=False), 65536)
        rule["match_body"] = dict(wanted)


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
        if isinstance(status, bool) or not isinstance(status, int) or status not in STATUSES:
            raise _bad("status", "an HTTP status from 200 to 599 (a 1xx is not an answer)")
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
            if name.lower() in _FRAMING:
                raise _bad(f"headers.{name}", "set by the HTTP server (it frames the answer): leave it out")
            if name.lower() == "content-type":
                raise _bad(f"headers.{name}", "use the rule's content_type field")
        rule["headers"] = {name: _header_value(f"headers.{name}", value) for name, value in headers.items()}
    elif raw.get("fault") is not None:
        if raw["fault"] not in FAULTS:
            raise _bad("fault", f"use one of {', '.join(FAULTS)}")
        rule["fault"] = raw["fault"]
    elif raw.get("delay_ms") is None:
        raise InvalidParameter("A rule needs error_code, status, fault or delay_ms: what should it do?")


def _header_value(field: str, value: Any) -> str:
    """A value the HTTP server sends as written (_HEADER_TEXT): a CR or LF would split the response, another
    control character is dropped, a character past ASCII changes bytes."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _bad(field, "a string")
    text = str(value)
    if len(text) > 4096:
        raise _bad(field, "at most 4096 characters")
    if not _HEADER_TEXT.fullmatch(text):
        bad = next(ch for ch in text if not _HEADER_TEXT.fullmatch(ch))
        raise _bad(
            field,
            f"printable ASCII and tab only, got {bad!r}: the HTTP server drops a value with a control character"
            " and sends any other character as UTF-8 bytes",
        )
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


def matches(
    rule: Mapping[str, Any],
    method: str,
    path: str,
    query: Mapping[str, str],
    tenant: str | None,
    headers: Mapping[str, str] | None = None,
    body: Callable[[], Any] | None = None,
) -> bool:
    """Whether a request is one the rule is about, cheapest test first.

    ``headers`` is a case-insensitive mapping of the request's headers; ``body()`` returns its parsed JSON body
    (None when it is not JSON) and is called only for a rule with ``match_body`` that matched on everything
    else, so a request costs no parsing unless such a rule gets that far (``lazy_json`` makes one that parses
    once). A caller that passes no headers (or no body) never matches a rule that needs them.
    """
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
    wanted_headers, wanted_body = rule.get("match_headers"), rule.get("match_body")
    if not wanted_headers and not wanted_body:
        return True
    if wanted_headers:
        for name, expected in wanted_headers.items():
            actual = headers.get(name) if headers is not None else None
            if actual is None or not jsonpath.glob(expected, actual):
                return False
    if wanted_body:
        if body is None:
            return False
        document = body()
        for path_text, expected in wanted_body.items():
            segments = jsonpath.split(path_text) or ()
            if not segments or not jsonpath.matches(expected, jsonpath.lookup(document, segments)):
                return False
    return True


def lazy_json(read: Callable[[], bytes]) -> Callable[[], Any]:
    """``body`` for ``matches``: parses what ``read()`` returns on the first call, then remembers it; None when
    the body is empty, not JSON, or cannot be read."""
    parsed: list[Any] = []

    def body() -> Any:
        if not parsed:
            try:
                raw = read()
                parsed.append(jsonbody.parse(raw) if raw.strip() else None)
            except (ApiError, HTTPException, OSError):
                parsed.append(None)
        return parsed[0]

    return body


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
