"""A small HTTP client for a running sandbox: API calls and every control operation, from Python.

Standard library only, so that it works in any test environment. A client carries an identity (token or
debug mode, and a tenant); API calls and control operations are scoped to that identity, except those
that say ``all_tenants=True``.

    sandbox = SandboxClient("http://127.0.0.1:8080", token=token, tenant="worker-1")
    sandbox.reset()
    sandbox.add_rule(method="POST", path="/api/appointment", error_code="SLOT_UNAVAILABLE", times=1)
    assert sandbox.post("/api/appointment", json=body).json()["error_code"] == "SLOT_UNAVAILABLE"
    assert sandbox.journal_count(method="POST", path="/api/appointment") == 1
"""

from __future__ import annotations

import json as jsonlib
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from mockserver.protocol import ADMIN_HEADER, CONTROL_PREFIX, DEBUG_HEADER, TENANT_HEADER, TOKEN_HEADER


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    _json: Any = field(default=None, repr=False)

    @property
    def status_code(self) -> int:  # the name requests and the Flask test client use
        return self.status

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        if self._json is None:
            self._json = jsonlib.loads(self.body)
        return self._json


class ControlError(RuntimeError):
    """A control operation the sandbox refused; the message is the sandbox's."""


class SandboxClient:
    def __init__(
        self,
        url: str,
        token: str | None = None,
        tenant: str | None = None,
        debug: bool = False,
        admin_token: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.token, self.tenant, self.debug, self.admin_token = token, tenant, debug, admin_token
        self.timeout = timeout
        # Never send loopback calls through an HTTP proxy from the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- HTTP ------------------------------------------------------------------------------------

    def identity_headers(self) -> dict[str, str]:
        headers = {}
        if self.debug:
            headers[DEBUG_HEADER] = "true"
        elif self.token:
            headers[TOKEN_HEADER] = self.token
        if self.tenant:
            headers[TENANT_HEADER] = self.tenant
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        scoped: bool = True,
    ) -> Response:
        url = self.url + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
        sent = self.identity_headers() if scoped else {}
        if self.admin_token:
            sent[ADMIN_HEADER] = self.admin_token
        if json is not None:
            data = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        request = urllib.request.Request(url, data=data, method=method.upper(), headers=sent)
        try:
            with self._opener.open(request, timeout=self.timeout) as reply:
                return Response(reply.status, dict(reply.headers.items()), reply.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers.items()), error.read())

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)

    def with_tenant(self, tenant: str | None) -> SandboxClient:
        return SandboxClient(self.url, self.token, tenant, self.debug, self.admin_token, self.timeout)

    # -- control plane ---------------------------------------------------------------------------

    def _control(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        scoped: bool = True,
        params: dict[str, Any] | None = None,
    ) -> Any:
        reply = self.request(
            method, CONTROL_PREFIX + path, json=body if body is not None else None, params=params, scoped=scoped
        )
        try:
            envelope = reply.json()
        except ValueError:
            raise ControlError(f"{method} /__mock{path}: HTTP {reply.status} {reply.text[:200]}") from None
        if not envelope.get("success"):
            raise ControlError(f"{method} /__mock{path}: {envelope.get('error_code')}: {envelope.get('message')}")
        return envelope["data"]

    def reset(
        self,
        *,
        seed: int | None = None,
        all_tenants: bool = False,
        keep_rules: bool = False,
        keep_journal: bool = False,
        keep_clock: bool = True,
    ) -> dict[str, Any]:
        body = {
            "seed": seed,
            "keep_rules": keep_rules,
            "keep_journal": keep_journal,
            "keep_clock": keep_clock,
        }
        return self._control("POST", "/reset", {k: v for k, v in body.items() if v is not None}, scoped=not all_tenants)

    def ready(self) -> bool:
        try:
            return bool(self._control("GET", "/ready", scoped=False).get("ready"))
        except (OSError, ControlError):
            return False

    def clock(self) -> dict[str, Any]:
        return self._control("GET", "/clock")

    def freeze(self, at: str | None = None, *, rebase: bool = False) -> dict[str, Any]:
        """Stop the clock (at ``at``); ``rebase`` rebuilds the tenant's data around the new date."""
        body: dict[str, Any] = {"at": at} if at else {}
        if rebase:
            body["rebase"] = True
        return self._control("POST", "/clock/freeze", body)

    def advance(self, by: str | float, *, rebase: bool = False) -> dict[str, Any]:
        return self._control("POST", "/clock/advance", {"by": by, **({"rebase": True} if rebase else {})})

    def real_time(self) -> dict[str, Any]:
        return self._control("POST", "/clock/real", {})

    def add_rule(self, **spec: Any) -> dict[str, Any]:
        return self._control("POST", "/rules", spec)

    def rules(self) -> list[dict[str, Any]]:
        return self._control("GET", "/rules")

    def rule(self, rule_id: int) -> dict[str, Any]:
        return self._control("GET", f"/rules/{rule_id}")

    def remove_rule(self, rule_id: int) -> None:
        self._control("DELETE", f"/rules/{rule_id}")

    def clear_rules(self) -> int:
        return int(self._control("DELETE", "/rules")["removed"])

    def scenarios(self) -> dict[str, str]:
        return self._control("GET", "/scenarios", scoped=False)

    def load_scenario(self, name: str) -> dict[str, Any]:
        return self._control("POST", f"/scenarios/{name}", {})

    def journal(
        self,
        method: str | None = None,
        path: str | None = None,
        limit: int = 100,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` calls that match, oldest first. ``body={"client_email": "jean@example.com"}``
        keeps calls whose JSON body has that value there (``{"client": {"email": ...}}`` for nested fields);
        ``headers={"X-Source": "app-*"}`` those with that header. Strings may be globs (``*``, ``?``)."""
        params = journal_filters(method, path, body, headers)
        return self._control("GET", "/journal", params={**params, "limit": limit})

    def journal_count(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> int:
        """How many calls match (the filters of ``journal``)."""
        params = journal_filters(method, path, body, headers)
        return int(self._control("GET", "/journal/count", params=params)["count"])

    def clear_journal(self) -> int:
        return int(self._control("DELETE", "/journal")["removed"])

    def tenants(self) -> list[dict[str, Any]]:
        return self._control("GET", "/tenants", scoped=False)

    def delete_tenant(self) -> None:
        """Forget this client's tenant (its data, rules, clock and journal); naming it again makes it afresh."""
        if not self.tenant:
            raise ControlError("delete_tenant needs a client with a tenant name")
        space = "debug" if self.debug else self.account_space()
        self._control("DELETE", f"/tenants/{space}/{urllib.parse.quote(self.tenant)}")

    def account_space(self) -> str:
        """The space this client's credentials land in (the token's account), as the server says."""
        return str(self._control("GET", "/settings")["tenant"]).partition("/")[0]

    def settings(self) -> dict[str, Any]:
        return self._control("GET", "/settings")

    def change_settings(self, **settings: Any) -> dict[str, Any]:
        return self._control("POST", "/settings", settings)

    def export_dataset(self) -> dict[str, Any]:
        return self._control("GET", "/dataset")

    def import_dataset(self, document: dict[str, Any]) -> dict[str, Any]:
        return self._control("PUT", "/dataset", document)


def journal_filters(
    method: str | None, path: str | None, body: dict[str, Any] | None, headers: dict[str, str] | None
) -> dict[str, Any]:
    """The journal's query parameters: ``body.<path>=<value>`` for each field of ``body`` (nested objects give
    dotted paths: ``body.client.email``) and ``header.<name>=<value>``. A string is sent as written (so that it
    may be a glob); any other value as JSON (``42``, ``true``, ``null``, ``[1, 2]``)."""
    params: dict[str, Any] = {"method": method, "path": path}
    for dotted, value in _leaves(body or {}, ""):
        params[f"body.{dotted}"] = value if isinstance(value, str) else jsonlib.dumps(value, ensure_ascii=False)
    for name, value in (headers or {}).items():
        params[f"header.{name}"] = value
    return params


def _leaves(fields: dict[str, Any], prefix: str) -> list[tuple[str, Any]]:
    found = []
    for key, value in fields.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            found.extend(_leaves(value, dotted + "."))
        else:
            found.append((dotted, value))
    return found
