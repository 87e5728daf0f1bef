"""The answer cache, served in front of Flask for the requests nothing else needs to see differently.

A GET that the API already answered, for the same tenant, query, format, clock second and data version, is in
its tenant connection's answer cache (api/cache.py). Most of a test suite's and a dashboard's reads are such
repeats, and most of their cost was Flask's request machinery around a cache hit. This WSGI wrapper answers a
hit itself, and still does everything a request must get: authentication, the tenant, the clock, the journal
entry and the access-log line. Anything out of the ordinary goes to Flask, unchanged: debug mode, a scenario
switch, a rule that matches, a browser's ``Origin``, a format other than the default, any token or tenant
problem, a clock outside the data, and every cache miss. tests/test_fastpath.py holds that a fast answer is
byte for byte the Flask answer, journal entry included.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask

from mockserver import tenancy
from mockserver.accesslog import AccessLog
from mockserver.auth import TOKEN_PARAM
from mockserver.clock import iso, local_date
from mockserver.control import rules as rule_specs
from mockserver.dataset import window_of
from mockserver.sandbox import Sandbox
from mockserver.store.tenants import TenantConnection

StartResponse = Callable[..., Any]
#: The request headers that make Flask's path necessary (as they appear in the WSGI environ).
_DIVERTING = ("HTTP_X_DEBUG", "HTTP_X_MOCK_SCENARIO", "HTTP_ORIGIN")
_PLAIN_ACCEPTS = (None, "*/*", "application/json")


class FastPath:
    def __init__(self, app: Flask) -> None:
        self.flask = app
        self.wsgi = app.wsgi_app
        self.sandbox: Sandbox = app.extensions["tap4book"]
        self.log: AccessLog = app.extensions["tap4book.log"]
        self.hits = 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        try:
            answer = self._answer(environ, started)
        except Exception:  # anything unexpected is Flask's to answer, and to log
            answer = None
        if answer is None:
            return self.wsgi(environ, start_response)
        status, headers, body = answer
        self.hits += 1
        start_response(status, headers)
        return [body]

    def _answer(self, environ: dict[str, Any], started: float) -> tuple[str, list[tuple[str, str]], bytes] | None:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("HTTP_ACCEPT") not in _PLAIN_ACCEPTS:
            return None
        raw_path = environ.get("PATH_INFO") or ""
        if not raw_path.startswith("/api/") or any(name in environ for name in _DIVERTING):
            return None
        path = "/" + raw_path.encode("latin-1").decode(errors="replace").lstrip("/")
        query_string = environ.get("QUERY_STRING", "")
        query = parse_qsl(query_string, keep_blank_values=True)
        names = {name for name, _ in query}
        if names & {"debug", "format", "__scenario"}:
            return None
        sandbox = self.sandbox
        token = environ.get("HTTP_ACCESS_TOKEN")
        if token is None:
            token = next((value for name, value in query if name == TOKEN_PARAM), None)
        account = sandbox.accounts.match(token) if token else None
        if account is None or sandbox.config.environment not in account.environments:
            return None
        name = environ.get("HTTP_X_MOCK_TENANT")
        if name is not None and not tenancy.valid_name(name):
            return None
        tenant = tenancy.tenant_id(account.account_id, name)
        snapshot = sandbox.control.snapshot()
        record = snapshot.tenants.get(tenant)
        if record is None:
            return None
        args = dict(query)
        if sandbox.config.control_api and any(
            rule_specs.matches(rule, "GET", path, args, tenant) for rule in snapshot.rules
        ):
            return None
        now = snapshot.clock(tenant).now()
        window = window_of(record.dataset)
        if window is None or not window[0] <= local_date(now) <= window[1]:
            return None
        conn = sandbox.db(tenant, snapshot)
        if not isinstance(conn, TenantConnection):
            return None
        key = (f"{path}?{query_string.encode('latin-1').decode()}", "json", iso(now), conn.version())
        hit = conn.answer(key)
        if hit is None:
            return None
        body, headers = hit
        duration_ms = (time.perf_counter() - started) * 1000
        sandbox.journal.record(
            tenant=tenant,
            method="GET",
            path=path,
            query=query,
            headers=_headers(environ),
            body=b"",
            status=200,
            error_code="SUCCESS",
            rule_id=None,
            duration_ms=duration_ms,
            hint=None,
            fault=None,
            answer_type=dict(headers).get("Content-Type"),
            answer=body,
        )
        if self.log.enabled:
            self.log.write(
                {
                    "method": "GET",
                    "path": path,
                    "status": 200,
                    "error_code": "SUCCESS",
                    "duration_ms": round(duration_ms, 2),
                    "tenant": tenant,
                    "rule_id": None,
                    "fault": None,
                }
            )
        return "200 OK", headers, body


def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The request headers as werkzeug lists them (``EnvironHeaders``): the journal records the same."""
    found = []
    for key, value in environ.items():
        if key.startswith("HTTP_") and key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            found.append((key[5:].replace("_", "-").title(), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            found.append((key.replace("_", "-").title(), value))
    return found
