"""The context of one API call: format, debug mode, account, tenant and clock, and its success response.

``begin`` runs before every request (404s included, so that an unknown endpoint is answered in the
requested format); views read the result with ``current_call()`` and answer with ``ok``.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from flask import Response, current_app, g, request

from mockserver import envelope, render
from mockserver.auth import TOKEN_HEADER, TOKEN_PARAM, Account
from mockserver.clock import iso, local_date
from mockserver.config import parse_bool
from mockserver.control.state import GLOBAL, Snapshot
from mockserver.errors import ApiError, AuthRequired, InvalidParameter
from mockserver.sandbox import DEBUG_SPACE, Sandbox, tenant_id
from mockserver.store.tenants import TENANT_NAME

TENANT_HEADER = "X-Mock-Tenant"
CONTROL_PREFIX = "/__mock"
_PLAIN_ACCEPTS = frozenset({"*/*", "application/json"})
DEBUG_HEADER = "X-Debug"

F = TypeVar("F", bound=Callable[..., Any])


def public(view: F) -> F:
    """Mark a view that answers without a token (API information and health, for probes and discovery)."""
    view.public = True  # type: ignore[attr-defined]
    return view


@dataclass
class Call:
    sandbox: Sandbox
    started: float = field(default_factory=time.perf_counter)
    fmt: str = "json"
    debug: bool = False
    debug_refused: bool = False
    account: Account | None = None
    auth_error: ApiError | None = None
    tenant: str | None = None
    queries: int = 0
    error_code: str | None = None
    rule_id: int | None = None
    fault: str | None = None
    _conn: sqlite3.Connection | None = None
    _snapshot: Snapshot | None = None

    @property
    def scope(self) -> str:
        """The tenant whose clock and rules apply; an anonymous call uses the default account's."""
        return self.tenant or tenant_id(self.sandbox.accounts.default.account_id)

    @property
    def snapshot(self) -> Snapshot:
        """The control state (clocks, rules) as this request first saw it: read once per request."""
        if self._snapshot is None:
            self._snapshot = self.sandbox.control.snapshot()
        return self._snapshot

    def now(self) -> float:
        clocks = self.snapshot.clocks
        return (clocks.get(self.scope) or clocks[GLOBAL]).now()

    def today(self) -> date:
        return local_date(self.now())

    def db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self.sandbox.db(self.scope)
            if self.debug:
                self._conn.set_trace_callback(self._count)
        return self._conn

    def _count(self, _statement: str) -> None:
        self.queries += 1

    def close(self) -> None:
        if self._conn is not None and self.debug:
            self._conn.set_trace_callback(None)

    def timestamp(self) -> str:
        return iso(self.now())


def sandbox() -> Sandbox:
    return current_app.extensions["tap4book"]


def current_call() -> Call:
    return g.call


def begin() -> Call:
    """Build the call context (format, debug mode, account, tenant); a bad format or tenant name raises."""
    call = g.call = Call(sandbox())
    accept = request.headers.get("Accept")
    format_param = request.args.get("format")
    if request.path.startswith(CONTROL_PREFIX):
        call.fmt = "json"  # the control API is JSON in, JSON out, whatever the client asks
    elif format_param is None and (not accept or accept in _PLAIN_ACCEPTS):
        call.fmt = "json"  # most calls: skip parsing the Accept header
    else:
        call.fmt = render.negotiate(format_param, request.accept_mimetypes)
    wants_debug = _flag(request.args.get("debug")) or _flag(request.headers.get(DEBUG_HEADER))
    call.debug = wants_debug and call.sandbox.config.debug_mode
    call.debug_refused = wants_debug and not call.debug
    name = request.headers.get(TENANT_HEADER)
    if name is not None and not TENANT_NAME.match(name):
        raise InvalidParameter(
            f"{TENANT_HEADER} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if call.debug:
        call.tenant = tenant_id(DEBUG_SPACE, name)
        return call
    token = request.headers.get(TOKEN_HEADER) or request.args.get(TOKEN_PARAM)
    try:
        call.account = call.sandbox.accounts.authenticate(token, call.sandbox.config.environment)
        call.tenant = tenant_id(call.account.account_id, name)
    except ApiError as exc:
        call.auth_error = exc
    return call


def enforce_auth() -> None:
    """A matched, non-public API route needs a valid token unless the call is in debug mode."""
    call = current_call()
    endpoint = request.endpoint or ""
    view = current_app.view_functions.get(endpoint)
    if call.debug or not endpoint.startswith("api.") or getattr(view, "public", False):
        return
    if isinstance(call.auth_error, AuthRequired) and call.debug_refused:
        raise AuthRequired("Debug mode is disabled on this server (--no-debug-mode): send an Access-Token")
    if call.auth_error is not None:
        raise call.auth_error


def _flag(value: str | None) -> bool:
    if value is None:
        return False
    try:
        return parse_bool(value)
    except ValueError:
        return False


def debug_block(call: Call) -> dict[str, Any]:
    return {
        "memory_usage": _rss_bytes(),
        "execution_time": round(time.perf_counter() - call.started, 4),
        "query_count": call.queries,
        "request_method": request.method,
        "endpoint": request.path,
        "debug_mode": True,
    }


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:  # no /proc (macOS): the peak, which is what getrusage offers
        import resource  # Unix only; the pytest plugin's in-process server may run elsewhere

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def ok(
    data: Any,
    message: str,
    *,
    item: str = "item",
    columns: tuple[str, ...] = (),
    page: tuple[int, int, int] | None = None,
    meta: dict[str, Any] | None = None,
) -> Response:
    """The success envelope in the call's format; ``page`` is (total, page, per_page) for lists."""
    call = current_call()
    body = envelope.success(
        data,
        message,
        timestamp=call.timestamp(),
        fmt=call.fmt,
        pagination=envelope.pagination(*page) if page else None,
        meta=meta,
    )
    if call.debug:
        body["debug"] = debug_block(call)
    call.error_code = "SUCCESS"
    return render.respond(body, call.fmt, 200, item=item, columns=columns)


def fail(err: ApiError, data: Any = None) -> Response:
    """The error envelope in the call's format (JSON when the format itself was the problem)."""
    call: Call | None = g.get("call")
    fmt = call.fmt if call else "json"
    timestamp = call.timestamp() if call else iso(time.time())
    body = envelope.error(err, timestamp=timestamp, fmt=fmt, data=data)
    if call is not None:
        if call.debug:
            body["debug"] = debug_block(call)
        call.error_code = err.code
    return render.respond(body, fmt, err.status)
