"""The context of one call: format, debug mode, identity, tenant and clock.

``begin`` runs before every request (404s included, so that an unknown endpoint is answered in the
requested format); views read the result with ``current_call()``. Who may reach which tenant is decided
by ``mockserver.tenancy``; this module only gathers what the request says.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from flask import current_app, g, request

from mockserver import render, tenancy
from mockserver.auth import TOKEN_HEADER, TOKEN_PARAM, Account
from mockserver.clock import iso, local_date
from mockserver.config import parse_bool
from mockserver.errors import ApiError, AuthRequired
from mockserver.sandbox import Sandbox
from mockserver.store.control import Snapshot

CONTROL_PREFIX = "/__mock"
DEBUG_HEADER = "X-Debug"
EXPLAIN_HEADER = "X-Mock-Explain"
_PLAIN_ACCEPTS = frozenset({"*/*", "application/json"})

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
    explain: bool = False
    account: Account | None = None
    identity: tenancy.Identity = field(default_factory=tenancy.Identity)
    #: The authenticated tenant (None when the credentials are missing or refused).
    tenant: str | None = None
    #: Why the call may not read API data (None when it may).
    auth_error: ApiError | None = None
    queries: int = 0
    error_code: str | None = None
    hint: str | None = None
    rule_id: int | None = None
    fault: str | None = None
    _conn: sqlite3.Connection | None = None
    _snapshot: Snapshot | None = None

    @property
    def data_tenant(self) -> str:
        """The tenant whose data and clock the answer uses; a public call without a token uses the default account's."""
        return self.tenant or tenancy.api_tenant(self.identity, self.sandbox.accounts.default.account_id)

    @property
    def snapshot(self) -> Snapshot:
        """The control state (clocks, rules) as this request first saw it: read once per request."""
        if self._snapshot is None:
            self._snapshot = self.sandbox.control.snapshot()
        return self._snapshot

    def now(self) -> float:
        return self.snapshot.clock(self.data_tenant).now()

    def today(self) -> date:
        return local_date(self.now())

    def db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self.sandbox.db(self.data_tenant, self.snapshot)
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

    def window_hint(self) -> str | None:
        """A hint when the call read data while its clock's date is outside the tenant's generated days."""
        if self._conn is None:
            return None
        window = self.sandbox.data_window(self.data_tenant, self.snapshot)
        today = self.today()
        if window is None or window[0] <= today <= window[1]:
            return None
        return (
            f"The sandbox clock's date {today} is outside this tenant's data ({window[0]} to {window[1]}): "
            'POST /__mock/clock/freeze with "rebase": true, or POST /__mock/reset, rebuilds it around the clock.'
        )

    def strict_lifecycle(self) -> bool:
        return self.sandbox.strict_lifecycle(self.data_tenant)

    @property
    def shows_hints(self) -> bool:
        return self.debug or self.explain


def sandbox() -> Sandbox:
    return current_app.extensions["tap4book"]


def current_call() -> Call:
    return g.call


def begin() -> Call:
    """Build the call context (format, debug mode, identity, tenant); a bad format or tenant name raises."""
    call = g.call = Call(sandbox())
    headers, args = request.headers, request.args
    accept = headers.get("Accept")
    format_param = args.get("format")
    if request.path.startswith(CONTROL_PREFIX):
        call.fmt = "json"  # the control API is JSON in, JSON out, whatever the client asks
    elif format_param is None and (not accept or accept in _PLAIN_ACCEPTS):
        call.fmt = "json"  # most calls: skip parsing the Accept header
    else:
        call.fmt = render.negotiate(format_param, request.accept_mimetypes)
    wants_debug = flag(args.get("debug")) or flag(headers.get(DEBUG_HEADER))
    config = call.sandbox.config
    call.debug = wants_debug and config.debug_mode
    call.debug_refused = wants_debug and not call.debug
    call.explain = flag(headers.get(EXPLAIN_HEADER))
    name = headers.get(tenancy.TENANT_HEADER)
    if name is not None:
        tenancy.check_name(name)
    if call.debug:
        call.identity = tenancy.Identity(space=tenancy.DEBUG_SPACE, header_name=name)
        call.tenant = tenancy.tenant_id(tenancy.DEBUG_SPACE, name)
        return call
    token = headers.get(TOKEN_HEADER)
    if token is None:
        token = args.get(TOKEN_PARAM)
    if token is None and call.debug_refused:
        refused = AuthRequired(
            "Debug mode is disabled on this server (--no-debug-mode): send an Access-Token",
            hint="This server was started with --no-debug-mode, so debug=true / X-Debug is ignored.",
        )
        call.identity = tenancy.Identity(refused=refused, header_name=name)
        call.auth_error = refused
        return call
    try:
        call.account = call.sandbox.accounts.authenticate(token, config.environment)
    except ApiError as exc:
        # No token at all is anonymous (public endpoints, server-wide control calls); a token that fails is refused.
        call.auth_error = exc
        call.identity = tenancy.Identity(refused=exc if token is not None else None, header_name=name)
        return call
    call.identity = tenancy.Identity(space=call.account.account_id, header_name=name)
    call.tenant = tenancy.tenant_id(call.account.account_id, name)
    return call


def flag(value: str | None) -> bool:
    """A lenient boolean switch (debug=true, X-Debug: 1): anything unreadable is off."""
    if value is None:
        return False
    try:
        return parse_bool(value)
    except ValueError:
        return False
