"""The pytest plugin, run the way an integrator runs it: in a separate pytest, alone and under xdist."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from mockserver.client import SandboxClient

pytest_plugins = ["pytester"]
EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "test_booking_example.py"

pytestmark = pytest.mark.slow


def test_documented_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=EXAMPLE.read_text())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_workers_are_isolated_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=EXAMPLE.read_text())
    # The same module twice: both workers book the same first free slot in their own tenant.
    pytester.makepyfile(test_again=EXAMPLE.read_text())
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)


def test_settings_from_ini_options_and_the_in_process_client(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntap4book_seed = 7\ntap4book_now = 2025-12-24T10:00:00+01:00\n")
    pytester.makepyfile(
        test_settings="""
        def test_clock_and_seed(tap4book, tap4book_client):
            assert tap4book.clock()["now"] == "2025-12-24T10:00:00+01:00"
            body = tap4book_client.get("/api/clients?debug=true&per_page=5").get_json()
            assert body["timestamp"] == "2025-12-24T10:00:00+01:00"
            assert tap4book.get("/api/").status_code == 200
            assert tap4book.headers["X-Mock-Tenant"].startswith("pytest-")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_an_external_server_can_be_used(pytester: pytest.Pytester) -> None:
    from server import running

    with running() as (_, url):
        pytester.makepyfile(
            test_external=f"""
            def test_external(tap4book):
                assert tap4book.url == "{url}"
                assert tap4book.get("/api/calendars").json()["pagination"]["total"] == 5
            """
        )
        result = pytester.runpytest_subprocess("--tap4book-url", url, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_example_passes_against_a_shared_server_on_the_real_clock(pytester: pytest.Pytester) -> None:
    """The example's `now` setting applies to its tenant on a server it did not start, and its tenant is
    deleted at the end of the session."""
    from server import running

    with running("--now", "real") as (_, url):
        pytester.makepyfile(test_example=EXAMPLE.read_text())
        result = pytester.runpytest_subprocess("--tap4book-url", url, "-p", "no:cacheprovider")
        tenants = [row["tenant"] for row in SandboxClient(url).tenants()]
    result.assert_outcomes(passed=4)
    assert not [name for name in tenants if "pytest-" in name]


HEAVY = ("flask", "werkzeug", "granian", "faker", "lxml", "mockserver.app", "mockserver.sandbox", "sqlite3")


def test_the_plugin_imports_nothing_heavy_until_a_fixture_is_used(pytester: pytest.Pytester) -> None:
    code = f"import sys, mockserver.pytest_plugin; print([m for m in {HEAVY!r} if m in sys.modules])"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
    # and in a real run, where pytest loads it from its entry point: a test that uses no fixture sees none (Faker's
    # own pytest plugin, installed with Faker, imports Faker: it is left out here)
    pytester.makepyfile(
        test_light=f"""
        import sys

        def test_no_fixture():
            assert [m for m in {HEAVY!r} if m in sys.modules] == []
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:faker")
    result.assert_outcomes(passed=1)


FAULTS = """
import http.client, json, socket, urllib.parse

import pytest


def connection(tap4book):
    parts = urllib.parse.urlsplit(tap4book.url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)


def get(tap4book, path="/api/calendars"):
    conn = connection(tap4book)
    conn.request("GET", path, headers=tap4book.headers)
    return conn.getresponse()


def test_connection_reset_is_a_tcp_reset(tap4book):
    tap4book.add_rule(path="/api/calendars", fault="connection_reset")
    parts = urllib.parse.urlsplit(tap4book.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        head = "".join(f"{name}: {value}\\r\\n" for name, value in tap4book.headers.items())
        sock.sendall(f"GET /api/calendars HTTP/1.1\\r\\nHost: x\\r\\n{head}\\r\\n".encode())
        with pytest.raises(ConnectionResetError):
            sock.recv(65536)


def test_empty_response_is_an_empty_body(tap4book):
    tap4book.add_rule(path="/api/calendars", fault="empty_response")
    reply = get(tap4book)
    assert (reply.status, reply.read(), reply.getheader("X-Mock-Fault")) == (200, b"", "empty_response")


def test_malformed_body_is_half_a_body_that_does_not_parse(tap4book):
    whole = get(tap4book).read()
    tap4book.add_rule(path="/api/calendars", fault="malformed_body")
    reply = get(tap4book)
    body = reply.read()
    assert reply.status == 200 and 0 < len(body) < len(whole) and whole.startswith(body)
    with pytest.raises(ValueError):
        json.loads(body)


def test_truncated_body_promises_more_than_it_sends(tap4book):
    tap4book.add_rule(path="/api/calendars", fault="truncated_body")
    reply = get(tap4book)
    with pytest.raises(http.client.IncompleteRead):
        reply.read()
"""


def test_the_network_faults_behave_as_on_the_real_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_faults=FAULTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


REPORTED = """
def test_fails_after_two_calls(tap4book):
    assert tap4book.get("/api/calendars").status_code == 200
    tap4book.get("/api/slots", params={"calendar_id": 1, "date_from": "15/06/2025"})
    assert False, "my code did not book"


def test_fails_after_many_calls(tap4book):
    for page in range(1, 26):
        tap4book.get("/api/calendars", params={"page": page})
    assert False


def test_passes(tap4book):
    tap4book.get("/api/calendars")


def test_fails_without_the_sandbox():
    assert False
"""


def test_a_failing_test_reports_its_calls(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_reported=REPORTED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=3)
    out = result.stdout.str()
    sections = out.split("tap4book journal (tenant pytest-")[1:]
    assert len(sections) == 2  # the two failing tests that used the fixture; not the passing one, nor the other
    first = sections[0].split("\n")[1:3]
    assert first == [
        "GET /api/calendars -> 200",
        "GET /api/slots?calendar_id=1&date_from=15/06/2025 -> 400 INVALID_DATE_FORMAT: date_from looks like "
        "DD/MM/YYYY; the API takes YYYY-MM-DD: date_from=2025-06-15.",
    ]
    many = sections[1].split("\n")[1:22]
    assert many[0] == "(5 earlier calls not shown)"
    assert many[1] == "GET /api/calendars?page=6 -> 200" and many[20] == "GET /api/calendars?page=25 -> 200"


def test_journal_filters_by_body_and_headers_are_sent_as_the_journal_takes_them() -> None:
    seen: list[str] = []

    class Journal(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = json.dumps({"success": True, "data": {"count": 0}}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Journal) as fake:
        threading.Thread(target=fake.serve_forever, daemon=True).start()
        client = SandboxClient(f"http://127.0.0.1:{fake.server_address[1]}")
        client.journal_count(
            method="POST",
            body={"client_email": "jean@example.com", "slot_id": 10001, "client": {"city": "Par*"}, "x": None},
            headers={"X-Source": "app-?"},
        )
        fake.shutdown()
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(seen[0]).query)
    assert query == {
        "method": ["POST"],
        "body.client_email": ["jean@example.com"],  # strings as written: they may be globs
        "body.slot_id": ["10001"],  # other values as JSON
        "body.client.city": ["Par*"],  # nested objects as dotted paths
        "body.x": ["null"],
        "header.X-Source": ["app-?"],
    }


JOURNAL_FILTERS = """
import pytest


def book(tap4book, email, source):
    return tap4book.post(
        "/api/appointment",
        json={"calendar_id": 1, "slot_id": 10001, "client_firstname": "Jean", "client_lastname": "Dupont",
              "client_email": email, "client_phone": "+33123456789"},
        headers={"X-Source": source},
    )


def test_did_my_code_book_with_this_email(tap4book):
    book(tap4book, "jean@example.com", "app-web")
    book(tap4book, "marie@example.com", "app-ios")
    if tap4book.journal_count(body={"client_email": "nobody@example.com"}) != 0:
        pytest.skip("this sandbox has no body.<path>= journal filter yet (it ignores the parameter)")
    assert [e["body"]["client_email"] for e in tap4book.journal(body={"client_email": "jean@example.com"})] == [
        "jean@example.com"
    ]
    assert tap4book.journal_count(body={"client_email": "*@example.com"}) == 2
    assert tap4book.journal_count(body={"slot_id": 10001}, headers={"X-Source": "app-i*"}) == 1
"""


def test_the_journal_of_a_tenant_filters_by_body_and_headers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_filters=JOURNAL_FILTERS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 1 or "no body.<path>= journal filter yet" in result.stdout.str(), outcomes


class _NotASandbox(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "9")
        self.end_headers()
        self.wfile.write(b"not found")

    def log_message(self, *args: object) -> None:
        pass


THREE_TESTS = """
def test_one(tap4book):
    pass

def test_two(tap4book):
    pass

def test_three(tap4book):
    pass
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["alone", "xdist"])
def test_a_url_without_a_sandbox_is_one_line_and_stops_the_session(pytester: pytest.Pytester, workers) -> None:
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotASandbox) as other:
        threading.Thread(target=other.serve_forever, daemon=True).start()
        with socket_that_refuses() as closed:
            for url, said in [
                (f"http://127.0.0.1:{closed}", f"no sandbox answers at http://127.0.0.1:{closed}: Connection refused"),
                (
                    f"http://127.0.0.1:{other.server_address[1]}",
                    "is not a ready TAP4BOOK sandbox: GET /__mock/ready answered HTTP 404 (text/html)",
                ),
            ]:
                pytester.makepyfile(test_three=THREE_TESTS)
                result = pytester.runpytest_subprocess("--tap4book-url", url, "-p", "no:cacheprovider", *workers)
                out = result.stdout.str()
                assert result.ret != 0
                assert "Traceback" not in out and "urllib" not in out, out
                errors = result.parseoutcomes().get("errors", 0)
                assert 1 <= errors <= (2 if workers else 1), out  # once per test process, not once per test
                lines = [line for line in out.splitlines() if said in line and "--tap4book-url / T4B_URL" in line]
                assert len(lines) >= 1, out
        other.shutdown()


def socket_that_refuses():
    """A port nothing listens on (bound, never listening: connecting to it is refused)."""
    import contextlib
    import socket

    @contextlib.contextmanager
    def bound():
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            yield sock.getsockname()[1]

    return bound()


def test_a_setting_the_server_refuses_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntap4book_seed = abc\n")
    pytester.makepyfile(test_three=THREE_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    out = result.stdout.str()
    assert result.parseoutcomes().get("errors") == 1 and "Traceback" not in out, out
    assert "tap4book: bad sandbox setting: seed: expected a whole number, got 'abc'" in out


def test_the_server_stops_when_the_test_process_dies(pytester: pytest.Pytester, tmp_path: Path) -> None:
    record = tmp_path / "url"
    pytester.makepyfile(
        test_dies=f"""
        import os, signal

        def test_dies(tap4book):
            open({str(record)!r}, "w").write(tap4book.url)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider")
    url = record.read_text()
    deadline = time.monotonic() + 10
    while SandboxClient(url, timeout=1).ready() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not SandboxClient(url, timeout=1).ready()
