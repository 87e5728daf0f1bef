"""How tests/test_integrity.py reaches a sandbox: in process (the Flask test client) or over real sockets.

Both transports send the same requests and give the same ``Reply``. Answers asked for with ``checked=True``
are validated against the OpenAPI description (tests/contract.py), as the ``client`` fixture does; the bulk
reads of the per-step consistency check skip it, because validating a 1,000-row list takes ~0.2 s (the same
endpoints are validated page by page by the machine's read rule).
"""

from __future__ import annotations

import http.client
import json as jsonlib
import urllib.parse
from dataclasses import dataclass
from typing import Any, Protocol

from conftest import DEFAULT_TOKEN
from contract import CheckedClient, validate_response
from flask import Flask
from flask.testing import FlaskClient


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Transport(Protocol):
    def send(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any, headers: dict[str, str], checked: bool
    ) -> Reply: ...


def _query(params: dict[str, Any] | None) -> dict[str, str]:
    return {name: str(value) for name, value in (params or {}).items() if value is not None}


class FlaskTransport:
    """The app in this process: a checked and a plain test client over the same app."""

    def __init__(self, app: Flask) -> None:
        self.checked = CheckedClient(app)
        self.plain = FlaskClient(app)

    def send(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any, headers: dict[str, str], checked: bool
    ) -> Reply:
        client = self.checked if checked else self.plain
        kw: dict[str, Any] = {"json": body} if body is not None else {}
        response = client.open(path, method=method, query_string=_query(params), headers=headers, **kw)
        return Reply(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.get_data())


class HttpTransport:
    """A real server, over several keep-alive connections taken in turn, request after request.

    With ``--workers N`` the kernel spreads connections over the workers (SO_REUSEPORT), so consecutive
    requests, a write and the read that checks it, are served by different processes about half the time;
    ``workers_seen`` proves afterwards that every worker took part.
    """

    def __init__(self, url: str, connections: int = 16) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.connections = [http.client.HTTPConnection(self.host, self.port, timeout=30) for _ in range(connections)]
        self.turn = 0

    def send(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any, headers: dict[str, str], checked: bool
    ) -> Reply:
        conn = self.connections[self.turn % len(self.connections)]
        self.turn += 1
        query = _query(params)
        target = path + ("?" + urllib.parse.urlencode(query) if query else "")
        sent = dict(headers)
        data = None
        if body is not None:
            data = jsonlib.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        conn.request(method, target, body=data, headers=sent)
        response = conn.getresponse()
        reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        if checked:
            validate_response(
                method, path, reply.status, reply.header("Content-Type") or "", reply.body, query, forced=False
            )
        return reply

    def close(self) -> None:
        for conn in self.connections:
            conn.close()


class Tenant:
    """One tenant of the default account: API calls and the control calls scoped to it."""

    def __init__(self, transport: Transport, name: str) -> None:
        self.transport, self.name = transport, name
        self.headers = {"Access-Token": DEFAULT_TOKEN, "X-Mock-Tenant": name}

    @property
    def scope(self) -> str:
        return f"sandbox/{self.name}"

    def call(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None, checked: bool = True
    ) -> Reply:
        return self.transport.send(method, path, params, body, self.headers, checked)

    def data(self, path: str, params: dict[str, Any] | None = None, checked: bool = True) -> Any:
        reply = self.call("GET", path, params, checked=checked)
        assert reply.status == 200, f"GET {path} {params}: {reply.status} {reply.body[:500]!r}"
        return reply.json()["data"]

    def every(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every record of a list, page after page of 1,000, with the pagination block checked on each."""
        records: list[dict[str, Any]] = []
        page = 1
        while True:
            reply = self.call("GET", path, {**(params or {}), "page": page, "per_page": 1000}, checked=False)
            assert reply.status == 200, f"GET {path} {params}: {reply.status} {reply.body[:500]!r}"
            body = reply.json()
            records.extend(body["data"])
            pagination = body["pagination"]
            assert pagination["total_pages"] == -(-pagination["total"] // 1000), pagination
            if not pagination["has_more"]:
                assert len(records) == pagination["total"], (path, params, pagination, len(records))
                return records
            page += 1

    def control(self, method: str, path: str, body: Any = None, checked: bool = True) -> Any:
        reply = self.call(method, path, body=body, checked=checked)
        assert reply.status == 200, f"{method} {path} {body}: {reply.status} {reply.body[:500]!r}"
        return reply.json()["data"]
