from __future__ import annotations

from conftest import NOW, assert_error


def test_api_info_lists_the_documented_endpoints_without_a_token(client):
    body = client.get("/api/").get_json()
    assert body["success"] is True
    assert body["message"] == "API information retrieved successfully"
    assert body["data"]["name"] == "TAP4BOOK API"
    assert body["data"]["supported_formats"] == ["json", "xml", "csv"]
    assert body["data"]["endpoints"]["appointments"] == "/api/appointments"
    assert body["data"]["debug_mode"] is False
    assert list(body) == [
        "success",
        "data",
        "message",
        "error_code",
        "http_code",
        "api_version",
        "timestamp",
        "format",
    ]


def test_api_info_says_debug_mode_when_asked_in_debug(client):
    body = client.get("/api/?debug=true").get_json()
    assert body["data"]["debug_mode"] is True
    assert body["debug"]["endpoint"] == "/api/"


def test_health_reports_the_database_and_the_sandbox_clock(client):
    body = client.get("/api/health").get_json()
    assert body["data"]["status"] == "healthy"
    assert body["data"]["database"] == "connected"
    assert body["data"]["timestamp"] == 1749303000  # NOW as epoch seconds
    assert body["timestamp"] == NOW


def test_statistics_root_is_not_an_endpoint_but_says_where_to_go(api):
    body = assert_error(api.get("/api/statistics"), "ENDPOINT_NOT_FOUND", 404)
    assert "/api/statistics/appointments" in body["message"]
