"""A front-end on another origin can call the sandbox; each API request gives one access-log line."""

from __future__ import annotations

import json

import pytest
from conftest import NOW

from mockserver import create_app


def test_preflight_allows_the_sandbox_headers(client):
    response = client.options(
        "/api/appointment",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Access-Token, X-Debug, X-Mock-Tenant, X-Mock-Scenario, Content-Type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    for header in ("access-token", "x-debug", "x-mock-tenant", "x-mock-scenario", "content-type"):
        assert header in allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_cors_headers_on_answers_and_errors(client):
    ok = client.get("/api/calendars?debug=true", headers={"Origin": "http://localhost:3000"})
    assert ok.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "X-Pagination-Total" in ok.headers["Access-Control-Expose-Headers"]
    refused = client.get("/api/calendars", headers={"Origin": "http://localhost:3000"})
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "cors_origins": "http://app.example"}])
def test_cors_origins_are_configurable(client):
    assert (
        client.get("/api/?format=json", headers={"Origin": "http://app.example"}).headers["Access-Control-Allow-Origin"]
        == "http://app.example"
    )
    assert "Access-Control-Allow-Origin" not in client.get("/api/", headers={"Origin": "http://evil.example"}).headers


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "json"}])
def test_json_access_log_lines(client, capfd):
    client.get("/api/calendars?debug=true")
    client.get("/api/calendars")
    client.get("/__mock/rules")  # control calls are not API traffic
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    assert [(x["method"], x["path"], x["status"], x["error_code"], x["tenant"]) for x in lines] == [
        ("GET", "/api/calendars", 200, "SUCCESS", "debug/default"),
        ("GET", "/api/calendars", 401, "AUTH_REQUIRED", None),
    ]
    assert all(x["duration_ms"] >= 0 for x in lines)


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "text"}])
def test_text_access_log_line(client, capfd):
    client.get("/api/health")
    assert "GET /api/health 200 SUCCESS" in capfd.readouterr().err


def test_logs_are_off_in_tests(client, capfd):
    client.get("/api/health")
    assert capfd.readouterr().err == ""


def test_each_app_keeps_its_own_log_format(capfd):
    """A second app with logs off (the pytest plugin's, say) does not silence the first."""
    loud = create_app({"now": NOW, "log_format": "text", "cache_dir": "off"}).test_client()
    quiet = create_app({"now": NOW, "log_format": "off", "cache_dir": "off"}).test_client()
    loud.get("/api/health")
    quiet.get("/api/health")
    assert capfd.readouterr().err.count("GET /api/health 200") == 1
