"""Who may drive the control API (control/guard.py), and what every request must be (the message stage)."""

from __future__ import annotations

import pytest
from conftest import NOW, assert_error
from flask.testing import FlaskClient
from server import running

from mockserver import cli

REBOUND = {"Host": "evil.example:8080", "Origin": "http://evil.example:8080"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/__mock/reset"), ("GET", "/__mock/journal"), ("GET", "/__mock/rules"), ("DELETE", "/__mock/journal")],
)
def test_a_rebound_page_cannot_drive_the_control_api(client, method, path):
    """Issue 22 item 6: after DNS rebinding the browser sends the attacker's name as Host, and Origin to match."""
    response = client.open(path, method=method, headers=REBOUND)
    body = assert_error(response, "INVALID_PARAMETER", 400)
    assert "evil.example" in body["message"]
    # A same-origin GET sends no Origin, but still Sec-Fetch-Site: a browser all the same.
    fetched = client.open(path, method=method, headers={"Host": "evil.example", "Sec-Fetch-Site": "same-origin"})
    assert fetched.status_code == 400


@pytest.mark.parametrize(
    "host", ["localhost:8080", "127.0.0.1:8080", "[::1]:8080", "app.localhost", "192.168.1.20:8080"]
)
def test_a_page_that_names_the_server_by_address_or_localhost_may(client, host):
    response = client.get("/__mock/journal", headers={"Host": host, "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200


def test_a_client_that_is_no_browser_may_use_any_name(client):
    """curl, a test suite, a container calling http://tap4book:8080: no page can be behind them."""
    assert client.get("/__mock/journal", headers={"Host": "tap4book:8080"}).status_code == 200


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "allowed_hosts": "tap4book,mock.test"}])
def test_allowed_hosts_names_the_server_for_pages(client):
    headers = {"Host": "mock.test:8080", "Sec-Fetch-Site": "same-origin"}
    assert client.get("/__mock/journal", headers=headers).status_code == 200


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "admin_token": "s3cret"}])
def test_readiness_needs_no_admin_token(client):
    """Issue 22 item 5: --admin-token made /__mock/ready answer 401, and the image's health check fail forever."""
    assert client.get("/__mock/ready").status_code == 200
    assert client.get("/__mock/about").status_code == 401


@pytest.mark.slow
def test_the_health_command_passes_under_an_admin_token():
    """`tap4book-mock health` (the image's HEALTHCHECK) probes /__mock/ready: it must pass with --admin-token."""
    with running("--admin-token", "s3cret") as (_, url):
        assert cli.main(["health", "--url", url]) == 0


def test_a_lowercase_method_is_no_method_of_the_api(app):
    """Issue 22 item 23: `get` was served as GET (HTTP methods are case-sensitive)."""
    response = FlaskClient(app).open("/api/health", method="get")  # no operation of the description: unchecked
    body = assert_error(response, "ENDPOINT_NOT_FOUND", 404)
    assert "case-sensitive" in body["message"]


@pytest.mark.parametrize("host", ["", "a,b"])
def test_an_http11_request_needs_exactly_one_host(client, host):
    response = client.get("/api/health", headers={"Host": host})
    assert_error(response, "INVALID_PARAMETER", 400)
    assert response.headers["X-Mock-Hint"].startswith("RFC 9112")


def test_an_http10_request_needs_no_host(client):
    response = client.get("/api/health", headers={"Host": ""}, environ_overrides={"SERVER_PROTOCOL": "HTTP/1.0"})
    assert response.status_code == 200
