"""The serving stack (granian, mockserver/server.py): what the issues ask of it, on a real server.

Keep-alive, slow clients that cannot starve others, delay rules that do not stall other requests, the
network faults as a raw socket sees them, a chunked body over the limit, the environment not leaking
into requests, and a clean stop.
"""

from __future__ import annotations

import http.client
import json
import signal
import socket
import threading
import time
import urllib.parse

import pytest
from conftest import DEFAULT_TOKEN
from server import COMMAND, running

pytestmark = pytest.mark.slow
_OPEN: list[http.client.HTTPConnection] = []


@pytest.fixture(autouse=True)
def _close_connections():
    yield
    while _OPEN:
        _OPEN.pop().close()


def _conn(url: str, timeout: float = 5) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection(*_addr(url), timeout=timeout)
    _OPEN.append(conn)
    return conn


def _addr(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _get(conn: http.client.HTTPConnection, path: str, **headers: str) -> tuple[int, bytes, float]:
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Access-Token": DEFAULT_TOKEN, **headers})
    reply = conn.getresponse()
    return reply.status, reply.read(), (time.perf_counter() - t0) * 1000


def _raw(url: str, request: bytes, wait: float = 3.0) -> tuple[bytes, str]:
    sock = socket.create_connection(_addr(url), timeout=5)
    sock.sendall(request)
    sock.settimeout(wait)
    data, end = b"", "open"
    try:
        while chunk := sock.recv(65536):
            data += chunk
        end = "eof"
    except ConnectionResetError:
        end = "reset"
    except TimeoutError:
        end = "open"
    finally:
        sock.close()
    return data, end


def test_one_connection_serves_many_requests():
    with running() as (_, url):
        conn = _conn(url, 5)
        conn.connect()
        local = conn.sock.getsockname()
        for _ in range(20):
            assert _get(conn, "/api/calendars")[0] == 200
        assert conn.sock.getsockname() == local  # the same TCP connection all along
        conn.close()


def test_idle_and_slow_clients_do_not_starve_others():
    with running() as (_, url):
        idle = [socket.create_connection(_addr(url)) for _ in range(50)]
        slow = [socket.create_connection(_addr(url)) for _ in range(50)]
        for sock in slow:
            sock.sendall(b"GET /api/calendars HTTP/1.1\r\nHo")  # and nothing more for now
        conn = _conn(url, 5)
        times = sorted(_get(conn, "/api/calendars")[2] for _ in range(200))
        assert times[int(len(times) * 0.99) - 1] < 20, times[-5:]
        for sock in idle + slow:
            sock.close()


def test_delayed_requests_sleep_side_by_side_without_holding_others():
    with running() as (_, url):
        admin = _conn(url, 5)
        body = json.dumps({"path": "/api/health", "delay_ms": 600})
        admin.request("POST", "/__mock/rules", body=body, headers={"Content-Type": "application/json"})
        assert admin.getresponse().read() and True
        done: list[float] = []

        def slowed() -> None:
            conn = _conn(url, 10)
            done.append(_get(conn, "/api/health")[2])

        threads = [threading.Thread(target=slowed) for _ in range(16)]
        for thread in threads:
            thread.start()
        time.sleep(0.1)
        conn = _conn(url, 5)
        times = sorted(_get(conn, "/api/calendars")[2] for _ in range(100))
        for thread in threads:
            thread.join()
        assert times[-2] < 50, times[-5:]  # not queued behind the sleepers
        assert len(done) == 16 and max(done) < 1500  # they slept concurrently, not one after the other


def test_connection_reset_is_a_tcp_reset_beside_other_connections_of_the_same_client():
    with running() as (_, url):
        request = (
            f"GET /api/health HTTP/1.1\r\nHost: x\r\nAccess-Token: {DEFAULT_TOKEN}\r\n"
            "X-Mock-Scenario: connection_reset\r\n\r\n"
        ).encode()
        assert _raw(url, request) == (b"", "reset")
        # Keep-alive connections from the same address (a console, a connection pool): the request's own
        # connection is the one that just received data.
        others = [_conn(url, 5) for _ in range(3)]
        for other in others:
            assert _get(other, "/api/")[0] == 200
        time.sleep(0.1)
        assert [_raw(url, request) for _ in range(10)] == [(b"", "reset")] * 10
        assert all(_get(other, "/api/")[0] == 200 for other in others)  # and they were left alone


def test_truncated_body_promises_more_than_it_sends():
    with running() as (_, url):
        conn = _conn(url, 5)
        headers = {"Access-Token": DEFAULT_TOKEN, "X-Mock-Scenario": "truncated_body"}
        conn.request("GET", "/api/calendars", headers=headers)
        reply = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead):
            reply.read()


def test_a_chunked_body_over_the_limit_is_refused_not_cut():
    with running() as (_, url):
        payload = json.dumps({"calendar_id": 1, "slot_id": 1, "client_firstname": "J" * 100_000}).encode()
        conn = _conn(url, 5)
        conn.request(
            "POST",
            "/api/appointment",
            body=iter([payload[i : i + 8192] for i in range(0, len(payload), 8192)]),
            headers={"Access-Token": DEFAULT_TOKEN, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        reply = conn.getresponse()
        assert reply.status == 413
        assert json.loads(reply.read())["error_code"] == "PAYLOAD_TOO_LARGE"


def test_the_server_environment_does_not_leak_into_requests(monkeypatch):
    monkeypatch.setenv("HTTP_X_LEAKED", "from-the-environment")
    with running() as (_, url):
        conn = _conn(url, 5)
        assert _get(conn, "/api/calendars")[0] == 200
        conn.request("GET", "/__mock/journal?limit=1")
        entries = json.loads(conn.getresponse().read())["data"]
        assert entries and "X-Leaked" not in json.dumps(entries)


def test_sigterm_lets_a_request_in_flight_finish_and_exits_0():
    import subprocess

    from conftest import NOW

    process = subprocess.Popen(
        [*COMMAND, "--port", "0", "--now", NOW, "--log-format", "off"], stdout=subprocess.PIPE, text=True
    )
    try:
        url = json.loads(process.stdout.readline())["url"]
        admin = _conn(url, 5)
        body = json.dumps({"path": "/api/health", "delay_ms": 1000})
        admin.request("POST", "/__mock/rules", body=body, headers={"Content-Type": "application/json"})
        admin.getresponse().read()
        result: list[int] = []
        thread = threading.Thread(target=lambda: result.append(_get(_conn(url, 10), "/api/health")[0]))
        thread.start()
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        thread.join()
        assert result == [200]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()


@pytest.mark.parametrize(
    ("request_bytes", "status", "envelope"),
    [
        (b"GET /api/calendars?x=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 401, True),
        (b"GET /api/calendars HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 401, True),
        ("GET /api/calendärs HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 404, True),
        (
            b"POST /api/appointment HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            401,
            True,
        ),
        (
            b"GET /api/calendars HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(101)) + b"\r\n",
            431,
            False,
        ),
        (b"GET /api/calendars HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400, False),
        (b"POST /api/appointment HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, False),
    ],
    ids=["long-line", "long-header", "utf8-path", "cl-and-te", "101-headers", "nul", "negative-length"],
)
def test_odd_requests_get_the_envelope_or_the_servers_empty_refusal(request_bytes, status, envelope, _server):
    data, _end = _raw(_server, request_bytes, wait=2)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), head[:80]
    if envelope:
        assert json.loads(body)["http_code"] == status
    else:
        assert body == b"" and b"text/html" not in head.lower()


@pytest.fixture(scope="module")
def _server():
    with running() as (_, url):
        yield url


def _incomplete_body(url: str, announced: int = 100) -> socket.socket:
    """A connection that sends a POST head and the first byte of its body, and then nothing."""
    sock = socket.create_connection(_addr(url), timeout=10)
    sock.sendall(
        (
            f"POST /api/appointment HTTP/1.1\r\nHost: x\r\nAccess-Token: {DEFAULT_TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {announced}\r\n\r\n{{"
        ).encode()
    )
    return sock


def test_a_body_that_stalls_is_answered_after_the_body_timeout():
    with running("--body-timeout", "2") as (_, url):
        stalled = _incomplete_body(url)
        started = time.monotonic()
        head, _, body = stalled.recv(65536).partition(b"\r\n\r\n")
        waited = time.monotonic() - started
        assert head.startswith(b"HTTP/1.1 400 "), head
        answer = json.loads(body)
        assert answer["error_code"] == "INVALID_JSON"
        assert answer["message"] == "The request body did not arrive within 2 seconds"
        assert 1.5 < waited < 5
        # The read outlives its answer until the client leaves; the server serves meanwhile, and afterwards.
        conn = _conn(url, 5)
        assert _get(conn, "/api/calendars")[0] == 200
        stalled.close()
        conn.request("GET", "/__mock/journal?path=/api/appointment&limit=1")
        entry = json.loads(conn.getresponse().read())["data"][0]
        assert (entry["status"], entry["error_code"]) == (400, "INVALID_JSON")
        assert "--body-timeout" in entry["hint"]
        assert _get(conn, "/api/calendars")[0] == 200


def test_seventy_stalled_bodies_do_not_freeze_the_server():
    """64 request threads (--threads); 70 connections each stall in the middle of a body: the bodies hold at
    most half the threads, another client is served, a body sent whole is answered (read, or refused while
    the readers are all stalled), and once the stallers leave, bodies are read again."""
    with running("--body-timeout", "30") as (_, url):
        stalled = [_incomplete_body(url) for _ in range(70)]
        time.sleep(1.0)  # every reader is stalled by now
        conn = _conn(url, 5)
        times = sorted(_get(conn, "/api/calendars")[2] for _ in range(50))
        assert times[-1] < 1000, times[-5:]
        conn.request("POST", "/api/appointment", body=b"{}", headers={"Access-Token": DEFAULT_TOKEN})
        refused = json.loads(conn.getresponse().read())
        assert refused["error_code"] == "INVALID_JSON" and "stalled already" in refused["message"]
        for sock in stalled:
            sock.close()
        time.sleep(0.5)
        conn.request("POST", "/api/appointment", body=b"{}", headers={"Access-Token": DEFAULT_TOKEN})
        assert json.loads(conn.getresponse().read())["error_code"] == "MISSING_REQUIRED_FIELD"  # read again
