"""Check responses against the OpenAPI description (mockserver/openapi.yaml): the contract of /api/ and /__mock/.

``validate_response`` finds the operation by method and path template, checks that the status and the media
type are documented for it, validates a JSON body against the schema (JSON Schema 2020-12, ``$ref`` resolved
inside the description), and checks that an XML body is a ``<response>`` document and a CSV body a table
with a header row. Any mismatch is an AssertionError saying what was expected and where.

A path or method the description does not list must be answered ``404 ENDPOINT_NOT_FOUND`` (the
description's ``EndpointNotFound`` response); an error forced by a scenario (``__scenario`` in the query, or
``forced=True`` for the ``X-Mock-Scenario`` header or a rule's ``error_code``) is checked against the
operation's ``default`` response.

``CheckedClient`` is the Flask test client that runs this check on every answer it gets (tests/conftest.py's
``client`` fixture), except the answers that break the contract on purpose: network faults
(``X-Mock-Fault``) and rules answering a status and body of their own (``X-Mock-Rule``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

import mockserver
from mockserver import openapi
from mockserver.control.switches import FAULT_HEADER, RULE_HEADER, SCENARIO_HEADER

SPEC_PATH = Path(mockserver.__file__).parent / "openapi.yaml"
SPEC_URI = "https://tap4book.invalid/openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ENDPOINT_NOT_FOUND = "/components/responses/EndpointNotFound"
FORCED_ERROR = "/components/responses/ForcedError"
ERROR_COLUMNS = ("success", "message", "error_code", "http_code", "api_version", "timestamp", "format")


def spec() -> dict[str, Any]:
    """The OpenAPI description, as the sandbox serves it (parsed once)."""
    return openapi.document()


def operations() -> set[tuple[str, str]]:
    """Every (METHOD, path template) the description lists."""
    return {
        (method.upper(), template) for template, item in spec()["paths"].items() for method in item if method in METHODS
    }


# --- looking things up in the description -----------------------------------------------------------


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def lookup(pointer: str) -> Any:
    """The node of the description at a JSON pointer (``/components/schemas/Calendar``)."""
    node: Any = spec()
    for token in pointer.lstrip("/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def _follow(pointer: str) -> tuple[str, dict[str, Any]]:
    """The object at ``pointer``, following OpenAPI ``$ref``s (to this file); returns its final pointer."""
    node = lookup(pointer)
    for _ in range(10):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if ref is None:
            return pointer, node
        if not ref.startswith("#/"):
            raise AssertionError(f"openapi.yaml: only local $refs are supported, got {ref!r} at {pointer}")
        pointer = ref[1:]
        node = lookup(pointer)
    raise AssertionError(f"openapi.yaml: $ref loop at {pointer}")


@cache
def _templates() -> list[tuple[str, re.Pattern[str]]]:
    """Path templates as regular expressions, literal paths first (OpenAPI matches them first)."""
    compiled = []
    for template in spec()["paths"]:
        pattern = re.sub(r"\\\{[^}/]+\\\}", "[^/]+", re.escape(template))
        compiled.append((template, re.compile(f"^{pattern}$")))
    compiled.sort(key=lambda pair: (pair[0].count("{"), pair[0]))
    return compiled


def match_path(path: str) -> str | None:
    """The path template that ``path`` matches (``/api`` also matches ``/api/``), or None."""
    candidates = [path]
    if path.endswith("/") and len(path) > 1:
        candidates.append(path.rstrip("/"))
    else:
        candidates.append(path + "/")
    for candidate in candidates:
        for template, regex in _templates():
            if regex.match(candidate):
                return template
    return None


@cache
def _registry() -> Registry:
    return Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec()))


@cache
def _validator(pointer: str) -> Draft202012Validator:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": f"{SPEC_URI}#{pointer}"}
    return Draft202012Validator(schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER)


# --- the check --------------------------------------------------------------------------------------


#: Query parameters every operation takes (the envelope's switches), declared or not.
GLOBAL_QUERY = frozenset({"format", "debug", "access_token", "__scenario"})


def declared_query(template: str, method: str) -> set[str]:
    """The query parameters an operation declares, its path's included ($ref resolved)."""
    return {parameter["name"] for parameter in _query_parameters(template, method)}


def _query_parameters(template: str, method: str) -> list[dict[str, Any]]:
    item = spec()["paths"][template]
    found = []
    for parameter in [*item.get("parameters", []), *item[method.lower()].get("parameters", [])]:
        if "$ref" in parameter:
            parameter = lookup(parameter["$ref"].lstrip("#"))
        if parameter.get("in") == "query":
            found.append(parameter)
    return found


def validate_response(
    method: str,
    path: str,
    status: int,
    content_type: str,
    body: bytes,
    query: dict[str, Any] | None = None,
    *,
    forced: bool = False,
) -> None:
    """Raise AssertionError unless this response is one the description allows for this request.

    ``path`` may carry a query string (it is then read as ``query`` when that is not given); ``query`` only
    matters for ``__scenario``. ``forced=True`` says an error was forced by the ``X-Mock-Scenario`` header.
    """
    parts = urlsplit(path)
    path = parts.path
    if query is None:
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
    forced = forced or "__scenario" in query
    request = f"{method.upper()} {path}{'?' + parts.query if parts.query else ''} -> {status}"

    template = match_path(path)
    operation = None
    if template is not None:
        operation = spec()["paths"][template].get(method.lower())
    if operation is None and forced and status >= 400:
        # A scenario answers before routing, so even an unknown endpoint gets the forced error.
        response_pointer, response = _follow(FORCED_ERROR)
        where = "ForcedError"
    elif operation is None:
        # Not an operation of the description: the server must say so with ENDPOINT_NOT_FOUND.
        assert status == 404, (
            f"{request}: no operation {method.upper()} {template or path} in openapi.yaml, so the answer must be "
            f"404 ENDPOINT_NOT_FOUND, got {status}"
        )
        response_pointer, response = _follow(ENDPOINT_NOT_FOUND)
        where = "EndpointNotFound"
    else:
        op_pointer = f"/paths/{_escape(template)}/{method.lower()}"
        if status < 400:
            # Families of open-ended names (the journal's body.<path> and header.<name>) are declared by prefix.
            prefixes = tuple(operation.get("x-query-prefixes", ()))
            undeclared = sorted(
                name
                for name in set(query) - declared_query(template, method) - GLOBAL_QUERY
                if not name.startswith(prefixes)
            )
            assert not undeclared, (
                f"{request}: query parameter {undeclared[0]!r} is not declared for {method.upper()} {template}:"
                " a filter the server reads must be in the description"
            )
        responses = operation["responses"]
        key = str(status)
        if forced and status >= 400 and "default" in responses:
            key = "default"
        assert key in responses, (
            f"{request}: status {status} is not documented for {method.upper()} {template} "
            f"(documented: {', '.join(sorted(responses))})"
        )
        response_pointer, response = _follow(f"{op_pointer}/responses/{key}")
        where = f"{method.upper()} {template} {key}"

    media = content_type.split(";")[0].strip().lower()
    content = response.get("content") or {}
    if not content:  # 304 Not Modified
        assert not body, f"{request}: {where} has no body, got {body[:200]!r}"
        return
    assert media in content, (
        f"{request}: media type {media!r} is not documented for {where} (documented: {', '.join(content)})"
    )
    if media == "application/json":
        _check_json(request, body, f"{response_pointer}/content/{_escape(media)}/schema", status)
        _check_own_codes(request, body, response.get("x-error-codes"))
    elif media == "application/xml":
        _check_xml(request, body, status)
    elif media == "text/csv":
        _check_csv(request, body, status)


def _check_json(request: str, body: bytes, schema_pointer: str, status: int) -> None:
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AssertionError(f"{request}: the body is not JSON ({exc}): {body[:200]!r}") from None
    errors = sorted(_validator(schema_pointer).iter_errors(document), key=lambda e: (len(e.path), str(e.path)))
    if errors:
        shown = "\n".join(_describe(error) for error in errors[:8])
        raise AssertionError(
            f"{request}: the JSON body does not match #{schema_pointer} ({len(errors)} errors):\n{shown}\n"
            f"body: {body[:600].decode('utf-8', 'replace')}"
        )
    if isinstance(document, dict) and (
        "openapi" in document
        or str(document.get("info", {}).get("schema")).startswith("https://schema.getpostman.com/")
    ):
        return  # the description itself (GET /__mock/openapi.json) or the Postman collection, not an envelope
    assert isinstance(document, dict) and document.get("format") == "json", (
        f"{request}: a JSON body must say format json, got {document.get('format')!r}"
    )
    assert document.get("http_code") == status, (
        f"{request}: http_code {document.get('http_code')!r} differs from the HTTP status {status}"
    )


def _check_own_codes(request: str, body: bytes, own: list[str] | None) -> None:
    """An unforced error must be one its response names in ``x-error-codes`` (the schema takes any code of the
    status, since a scenario can force any of them)."""
    if own is None:
        return
    code = json.loads(body).get("error_code")
    assert code in own, f"{request}: error_code {code!r} is not one this response gives unforced ({', '.join(own)})"


def _describe(error: ValidationError) -> str:
    """One line per error; a failed oneOf/anyOf lists each alternative's closest error."""
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    if not error.context:
        return f"  - at {where}: {error.message[:300]}"
    by_branch: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    lines = [f"  - at {where}: no alternative of {error.validator} matches:"]
    for branch, subs in sorted(by_branch.items()):
        best = best_match(subs)
        sub_where = "/".join(str(part) for part in best.absolute_path) or "(root)"
        lines.append(f"      [{branch}] at {sub_where}: {best.message[:300]}")
    return "\n".join(lines)


def _check_xml(request: str, body: bytes, status: int) -> None:
    from lxml import etree

    try:
        root = etree.fromstring(body)
    except etree.XMLSyntaxError as exc:
        raise AssertionError(f"{request}: the body is not XML ({exc}): {body[:200]!r}") from None
    assert root.tag == "response", f"{request}: the XML root is <{root.tag}>, not <response>"
    fields = {child.tag: child.text for child in root}
    for name in ERROR_COLUMNS:
        assert name in fields, f"{request}: the XML <response> has no <{name}>"
    assert fields["format"] == "xml", f"{request}: an XML body must say format xml, got {fields['format']!r}"
    assert fields["http_code"] == str(status), (
        f"{request}: <http_code> {fields['http_code']!r} differs from the HTTP status {status}"
    )
    expected = "true" if status == 200 else "false"
    assert fields["success"] == expected, f"{request}: <success> is {fields['success']!r}, expected {expected}"


def _check_csv(request: str, body: bytes, status: int) -> None:
    try:
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise AssertionError(f"{request}: the body is not CSV ({exc}): {body[:200]!r}") from None
    assert rows and rows[0] and all(rows[0]), f"{request}: the CSV has no header row: {body[:200]!r}"
    header = rows[0]
    assert len(set(header)) == len(header), f"{request}: the CSV header repeats a column: {header}"
    for number, row in enumerate(rows[1:], start=2):
        assert len(row) == len(header), (
            f"{request}: CSV line {number} has {len(row)} cells for {len(header)} columns: {row}"
        )
    if status != 200:
        assert tuple(header) == ERROR_COLUMNS, f"{request}: an error CSV has columns {header}, expected {ERROR_COLUMNS}"
        assert len(rows) == 2, f"{request}: an error CSV has one row, got {len(rows) - 1}"
        record = dict(zip(header, rows[1], strict=True))
        assert record["success"] == "false" and record["http_code"] == str(status) and record["format"] == "csv", (
            f"{request}: the error row does not match the status: {record}"
        )


# --- every answer of the test client ----------------------------------------------------------------


def _contract_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in ("/api", "/__mock"))


def check_answer(app: Flask, response: TestResponse) -> None:
    """Validate an answer of the Flask test client, unless it breaks the contract on purpose."""
    request = response.request
    # HEAD (Flask's, for every GET) and OPTIONS (flask-cors' preflight) are not operations of the description.
    if not _contract_path(request.path) or request.method in ("HEAD", "OPTIONS") or FAULT_HEADER in response.headers:
        return
    if response.mimetype == "text/event-stream":
        return  # a stream does not end: tests/test_stream.py reads its events
    forced = SCENARIO_HEADER in request.headers
    rule_id = response.headers.get(RULE_HEADER)
    if rule_id is not None:
        rule = app.extensions["tap4book"].control.rule(int(rule_id)) or {}
        if "status" in rule or not rule:
            return  # a status and body of the test's own choosing
        forced = forced or "error_code" in rule
    validate_response(
        request.method,
        request.path,
        response.status_code,
        response.headers.get("Content-Type", ""),
        response.get_data(),
        dict(request.args.items()),
        forced=forced,
    )


class CheckedClient(FlaskClient):
    """The Flask test client, checking every answer from /api/ and /__mock/ against the description."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        check_answer(self.application, response)
        return response
