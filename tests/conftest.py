"""Shared fixtures: a fresh app per test on a frozen clock, its client, and an authenticated helper."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from contract import CheckedClient
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from werkzeug.test import TestResponse

from mockserver import create_app
from mockserver.auth import make_token
from mockserver.render import content_type

#: The documentation's example instant, in Paris summer time.
NOW = "2025-06-07T15:30:00+02:00"
TODAY = "2025-06-07"
DEFAULT_TOKEN = make_token("sandbox", "sandbox-secret-key-change-me")


@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the developer's shell: a T4B_* variable there must not change what they see."""
    for name in list(os.environ):
        if name.startswith("T4B_"):
            monkeypatch.delenv(name)


@pytest.fixture
def settings() -> dict[str, Any]:
    """Override in a module (or parametrize) to start the app differently."""
    return {"now": NOW, "log_format": "off", "cache_dir": "off"}


@pytest.fixture
def app(settings: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(settings)
    application.testing = False  # errors must go through our handlers, as in production
    yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Checks every /api/ and /__mock/ answer against the OpenAPI description (tests/contract.py)."""
    app.test_client_class = CheckedClient
    return app.test_client()


class Api:
    """Calls the API as an authenticated integrator would; ``debug=True`` calls without a token."""

    def __init__(
        self,
        client: FlaskClient,
        token: str | None = DEFAULT_TOKEN,
        debug: bool = False,
        tenant: str | None = None,
    ) -> None:
        self.client, self.token, self.debug, self.tenant = client, token, debug, tenant

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {}
        if self.token and not self.debug:
            headers["Access-Token"] = self.token
        if self.debug:
            headers["X-Debug"] = "true"
        if self.tenant:
            headers["X-Mock-Tenant"] = self.tenant
        headers.update(extra or {})
        return headers

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> TestResponse:
        return self.client.get(path, query_string=params, headers=self.headers(headers))

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None, **kw: Any) -> TestResponse:
        return self.client.post(path, json=body, headers=self.headers(headers), **kw)

    def put(self, path: str, body: Any = None, headers: dict[str, str] | None = None, **kw: Any) -> TestResponse:
        return self.client.put(path, json=body, headers=self.headers(headers), **kw)

    def data(self, path: str, **params: Any) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["data"]

    def all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every record of a list endpoint, following the pagination."""
        records, page = [], 1
        while True:
            body = self.get(path, page=page, per_page=1000, **params).get_json()
            records.extend(body["data"])
            if not body["pagination"]["has_more"]:
                return records
            page += 1


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


@pytest.fixture
def debug_api(client: FlaskClient) -> Api:
    return Api(client, token=None, debug=True)


def csv_rows(response: TestResponse) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def assert_error(response: TestResponse, code: str, status: int, fmt: str = "json") -> dict[str, Any]:
    """The one error shape, in any format: status, error_code, message and the envelope's bookkeeping."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == content_type(fmt)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert len(rows) == 1
        body: dict[str, Any] = rows[0]
        assert body["success"] == "false"
        assert body["http_code"] == str(status)
    elif fmt == "xml":
        root = etree.fromstring(response.get_data())
        assert root.tag == "response"
        body = {child.tag: child.text for child in root}
        assert body["success"] == "false"
        assert body["http_code"] == str(status)
    else:
        body = response.get_json()
        assert body["success"] is False
        assert body["http_code"] == status
        assert "data" not in body or body["error_code"] == "INTERNAL_ERROR"
    assert body["error_code"] == code
    assert body["message"]
    assert body["api_version"] == "1.0"
    assert body["timestamp"]
    assert body["format"] == fmt
    return body
