"""The context of one call: the request, its format, debug mode, identity, tenant and clock.

``identify`` reads who is calling from plain request values (``Incoming``); it never raises: a problem it
finds (a malformed tenant name, an unknown format) is kept in ``refusal`` and raised by the pipeline after the
admin guard, so that a server with ``--admin-token`` says "admin token missing" first. Who may reach which
tenant is decided by ``mockserver.tenancy``; this module only gathers what the request says.
"""

from __future__ import annotations

import contextvars
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from mockserver import protocol, render, tenancy
from mockserver.auth import Account
from mockserver.call.incoming import Incoming
from mockserver.clock import iso, local_date, local_to_epoch
from mockserver.config import parse_bool
from mockserver.errors import ApiError, AuthRequired
from mockserver.sandbox import Sandbox
from mockserver.store.control import Snapshot

_PLAIN_ACCEPTS = frozenset({"*/*", "application/json"})

F = TypeVar("F", bound=Callable[..., Any])

#: The call being served by this thread (set by the pipeline for the length of a request).
_CURRENT: contextvars.ContextVar[Call | None] = contextvars.ContextVar("tap4book_call", default=None)


@dataclass(eq=False, slots=True)
class Call:
    sandbox: Sandbox
    incoming: Incoming
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
    #: What ``identify`` found wrong with the request itself, raised once the guards have spoken.
    refusal: ApiError | None = None
    queries: int = 0
    error_code: str | None = None
    hint: str | None = None
    rule_id: int | None = None
    fault: str | None = None
    #: The API route the request matched (api/routes.py) and its arguments from the path.
    route: Any = None
    route_args: dict[str, Any] = field(default_factory=dict)
    #: The answer cache's key for this read, when the cache was asked (api/cache.py), and whether it answered.
    cache_key: Any = None
    cached_hit: bool = False
    #: What the pipeline answers, once a stage has; the journal entry's id once it is recorded.
    answer: Any = None
    request_id: int | None = None
    _conn: sqlite3.Connection | None = None
    _snapshot: Snapshot | None = None

    @property
    def method(self) -> str:
        return self.incoming.method

    @property
    def path(self) -> str:
        return self.incoming.path

    @property
    def args(self) -> Any:
        return self.incoming.args

    @property
    def data_tenant(self) -> str:
        """The tenant whose data and clock the answer uses.

        A call without valid credentials (a public endpoint: information, health) reads the tenant its
        ``X-Mock-Tenant`` names if that tenant exists, else the default account's default tenant: it never creates
        one, so that anonymous traffic cannot take an account's tenant slots (docs/interpretation.md#tenants).
        """
        if self.tenant is not None:
            return self.tenant
        named = tenancy.api_tenant(self.identity, self.sandbox.accounts.default.account_id)
        return named if named in self.snapshot.tenants else self.sandbox.default_tenant

    @property
    def snapshot(self) -> Snapshot:
        """The control state (clocks, rules) as this request first saw it: read once per request."""
        if self._snapshot is None:
            self._snapshot = self.sandbox.control.snapshot()
        return self._snapshot

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def now(self) -> float:
        return self.snapshot.clock(self.data_tenant).now()

    def today(self) -> date:
        return local_date(self.now())

    def db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self.sandbox.db(self.data_tenant, self.snapshot, evicted=self._evicted)
            if self.debug:
                self._conn.set_trace_callback(self._count)
        return self._conn

    @property
    def has_db(self) -> bool:
        return self._conn is not None

    def _evicted(self, tenant: str) -> None:
        self.hint = self.hint or (
            f"Tenant {tenant} had not been used for --tenant-idle-seconds and was removed to make room for"
            f" {self.data_tenant} (its space was at its tenant limit)."
        )

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

    def empty_range_hint(self, start: date | None, end: date | None, names: tuple[str, str]) -> None:
        """An empty list whose dates lie outside the tenant's data says so (the hint reaches the client as
        X-Mock-Hint and the journal): the documentation's own example dates return nothing on today's data."""
        window = self.sandbox.data_window(self.data_tenant, self.snapshot)
        if window is None or self.hint:
            return
        first, last = start or window[0], end or start or window[1]
        if first <= window[1] and last >= window[0]:
            return
        asked = f"{names[0]}={start}" + (f" to {names[1]}={end}" if end and end != start else "")
        noon = iso(local_to_epoch(first, (12, 0)))
        self.hint = (
            f"Nothing here: {asked} is outside this tenant's data, {window[0]} to {window[1]} (30 days around the"
            f" sandbox clock's date, {self.today()}). Ask for dates in that window, or start the server with"
            f' --now {noon} (or POST /__mock/clock/freeze with "rebase": true) to build the'
            " data around your dates."
        )

    def strict_lifecycle(self) -> bool:
        return self.sandbox.strict_lifecycle(self.data_tenant)

    @property
    def shows_hints(self) -> bool:
        return self.debug or self.explain


def current_call() -> Call:
    call = _CURRENT.get()
    if call is None:
        raise RuntimeError("no call is being served in this context")
    return call


def current_or_none() -> Call | None:
    return _CURRENT.get()


def enter(call: Call) -> contextvars.Token[Call | None]:
    return _CURRENT.set(call)


def leave(token: contextvars.Token[Call | None]) -> None:
    _CURRENT.reset(token)


def identify(call: Call) -> None:
    """Format, debug mode, identity and tenant from the request; problems go to ``call.refusal``."""
    incoming = call.incoming
    header, args = incoming.header, incoming.args
    try:
        call.fmt = _format(incoming)
    except ApiError as exc:
        call.refusal = exc  # the refusal itself is answered in JSON, the format asked for being the problem
    wants_debug = flag(args.get(protocol.DEBUG_PARAM)) or flag(header(protocol.DEBUG_HEADER))
    config = call.sandbox.config
    call.debug = wants_debug and config.debug_mode
    call.debug_refused = wants_debug and not call.debug
    call.explain = flag(header(protocol.EXPLAIN_HEADER))
    name = header(protocol.TENANT_HEADER)
    if name is not None and not tenancy.valid_name(name):
        call.refusal = call.refusal or tenancy.bad_name(name)
        name = None
    if call.debug:
        call.identity = tenancy.Identity(space=tenancy.DEBUG_SPACE, header_name=name)
        call.tenant = tenancy.tenant_id(tenancy.DEBUG_SPACE, name)
        return
    token = header(protocol.TOKEN_HEADER)
    if token is None:
        token = args.get(protocol.TOKEN_PARAM)
    if token is None and call.debug_refused:
        refused = AuthRequired(
            "Debug mode is disabled on this server (--no-debug-mode): send an Access-Token",
            hint="This server was started with --no-debug-mode, so debug=true / X-Debug is ignored.",
        )
        call.identity = tenancy.Identity(refused=refused, header_name=name)
        call.auth_error = refused
        return
    try:
        call.account = call.sandbox.accounts.authenticate(token, config.environment)
    except ApiError as exc:
        # No token at all is anonymous (public endpoints, server-wide control calls); a token that fails is refused.
        call.auth_error = exc
        call.identity = tenancy.Identity(refused=exc if token is not None else None, header_name=name)
        return
    call.identity = tenancy.Identity(space=call.account.account_id, header_name=name)
    call.tenant = tenancy.tenant_id(call.account.account_id, name)


def _format(incoming: Incoming) -> str:
    if incoming.path.startswith(protocol.CONTROL_PREFIX):
        return "json"  # the control API is JSON in, JSON out, whatever the client asks
    format_param = incoming.args.get(protocol.FORMAT_PARAM)
    accept = incoming.header("Accept")
    if format_param is None and (not accept or accept in _PLAIN_ACCEPTS):
        return "json"  # most calls: skip parsing the Accept header
    return render.negotiate(format_param, parse_accept_header(accept, MIMEAccept))


def flag(value: str | None) -> bool:
    """A lenient boolean switch (debug=true, X-Debug: 1): anything unreadable is off."""
    if value is None:
        return False
    try:
        return parse_bool(value)
    except ValueError:
        return False
