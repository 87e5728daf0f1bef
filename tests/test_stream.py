"""GET /__mock/journal/stream and ``tap4book-mock tail``: every request, once, in journal order, resumable."""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import DEFAULT_TOKEN, Api
from flask.testing import FlaskClient
from server import running

from mockserver.client import SandboxClient
from mockserver.control import stream
from mockserver.store.journal import Stored
from mockserver.store.sqlite import Connection


def _events(response: Any, count: int, timeout: float = 5.0, close: bool = True) -> list[tuple[str, dict[str, Any]]]:
    """The next ``count`` events of a streamed answer of the Flask test client (fewer if they did not come)."""
    found: list[tuple[str, dict[str, Any]]] = []
    deadline = time.monotonic() + timeout
    buffer = ""
    chunks: Iterator[bytes] = iter(response.response)
    while len(found) < count and time.monotonic() < deadline:
        buffer += next(chunks).decode()
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(
                line.split(": ", 1) for line in block.splitlines() if not line.startswith(":") and ": " in line
            )
            if "data" in fields:
                found.append((fields.get("event", "message"), json.loads(fields["data"])))
    if close:
        response.close()
    return found


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "POLL_SECONDS", 0.02)
    monkeypatch.setattr(stream, "SETTLE_MS", 50)


def test_entries_arrive_in_order_filtered_and_masked(app, api):
    raw = FlaskClient(app)  # unchecked: a stream never ends, the contract client would read it whole
    api.get("/api/calendars")
    api.get("/api/clients", access_token=DEFAULT_TOKEN)
    api.get("/api/nope")
    time.sleep(0.1)
    response = raw.get("/__mock/journal/stream?since=60&status=2xx", buffered=False)
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = _events(response, 2)
    assert [(kind, entry["path"]) for kind, entry in events] == [("entry", "/api/calendars"), ("entry", "/api/clients")]
    assert DEFAULT_TOKEN not in json.dumps(events)
    assert events[0][1]["id"] < events[1][1]["id"]


def test_last_event_id_resumes_without_gaps_or_repeats(app, api):
    raw = FlaskClient(app)
    for page in range(1, 6):
        api.get("/api/calendars", page=page)
    time.sleep(0.1)
    first = _events(raw.get("/__mock/journal/stream?since=60", buffered=False), 2)
    resumed = _events(
        raw.get("/__mock/journal/stream", headers={"Last-Event-ID": str(first[-1][1]["id"])}, buffered=False), 3
    )
    pages = [entry["query"]["page"] for _, entry in first + resumed]
    assert pages == ["1", "2", "3", "4", "5"]


def test_a_reader_far_behind_is_told_what_it_missed(app, api, monkeypatch):
    monkeypatch.setattr(stream, "BUFFER", 3)
    raw = FlaskClient(app)
    for page in range(1, 9):
        api.get("/api/calendars", page=page)
    time.sleep(0.1)
    events = _events(raw.get("/__mock/journal/stream?since=60", buffered=False), 4)
    assert events[0][0] == "dropped" and events[0][1]["dropped"] == 5
    assert [entry["query"]["page"] for _, entry in events[1:]] == ["6", "7", "8"]


@pytest.mark.parametrize(("requests", "dropped"), [(5, 0), (12, 7)])
def test_a_poll_reads_in_short_steps_and_loses_nothing(app, api, monkeypatch, requests, dropped):
    # Several steps per poll, forwards (within the buffer) and backwards (behind it): same entries, in order.
    monkeypatch.setattr(stream, "STEP", 2)
    monkeypatch.setattr(stream, "BUFFER", 5)
    raw = FlaskClient(app)
    for page in range(1, requests + 1):
        api.get("/api/calendars", page=page)
    time.sleep(0.1)
    events = _events(raw.get("/__mock/journal/stream?since=60", buffered=False), min(requests, 5) + bool(dropped))
    if dropped:
        assert events.pop(0) == ("dropped", {"dropped": dropped, "resume_after": events[0][1]["id"] - 1})
    assert [entry["query"]["page"] for _, entry in events] == [
        str(n) for n in range(requests - len(events) + 1, requests + 1)
    ]


def test_streams_share_events_but_never_mix_up_two_entries_of_one_id():
    # Two workers can number an entry with the same microsecond: each keeps its own event.
    row = Stored(1733000000000001, 1733000000.0, "sandbox/default", "GET", "/api/calendars", "{}", "{}", None, 200,
                 "SUCCESS", None, 0.5, None, None, "application/json", '{"success":true}')  # fmt: skip
    other = row._replace(path="/api/clients")
    (_, first), (_, second) = stream._events_of([row, other])
    assert '"path":"/api/calendars"' in first
    assert '"path":"/api/clients"' in second
    assert stream._events_of([row])[0][1] is first  # made once, then shared


def test_two_streams_with_different_filters_each_get_their_own_entries(app, api):
    raw = FlaskClient(app)
    api.get("/api/calendars")
    api.get("/api/nope")
    api.get("/api/clients")
    time.sleep(0.1)
    every = raw.get("/__mock/journal/stream?since=60", buffered=False)
    failed = raw.get("/__mock/journal/stream?since=60&status=4xx", buffered=False)
    assert [e["path"] for _, e in _events(every, 3)] == ["/api/calendars", "/api/nope", "/api/clients"]
    assert [e["path"] for _, e in _events(failed, 1)] == ["/api/nope"]


def test_a_stream_is_scoped_like_every_control_call(app, client):
    raw = FlaskClient(app)
    Api(client, token=None, debug=True, tenant="mine").get("/api/calendars")
    Api(client, token=None, debug=True, tenant="theirs").get("/api/calendars")
    time.sleep(0.1)
    events = _events(
        raw.get(
            "/__mock/journal/stream?since=60", headers={"X-Debug": "true", "X-Mock-Tenant": "mine"}, buffered=False
        ),
        1,
    )
    assert events[0][1]["tenant"] == "debug/mine"
    refused = raw.get("/__mock/journal/stream", headers={"Access-Token": DEFAULT_TOKEN + "x"})
    assert refused.status_code == 401


@pytest.mark.slow
def test_entries_of_every_worker_arrive_once_in_order_and_tail_prints_them():
    with running("--workers", "2") as (_process, url):
        env = {**os.environ, "T4B_URL": url}
        tail = subprocess.Popen(
            # --since: a loaded machine may start tail after the first requests; they must still all arrive.
            [sys.executable, "-m", "mockserver.cli", "tail", "--json", "--exit-when-idle", "3", "--since", "60"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        time.sleep(1.0)  # the stream starts with the requests after it opened
        client = SandboxClient(url, token=DEFAULT_TOKEN)
        threads = [
            threading.Thread(
                target=lambda n=n: [client.get("/api/calendars", params={"page": n * 10 + i}) for i in range(10)]
            )
            for n in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        out, err = tail.communicate(timeout=30)
        entries = [json.loads(line) for line in out.splitlines()]
        pages = sorted(int(entry["query"]["page"]) for entry in entries)
        assert pages == sorted(n * 10 + i for n in range(4) for i in range(10)), err
        assert [entry["id"] for entry in entries] == sorted({entry["id"] for entry in entries})
        assert tail.returncode == 0


@pytest.mark.slow
def test_tail_lines_are_readable_and_ctrl_c_ends_with_status_0():
    with running() as (_process, url):
        tail = subprocess.Popen(
            [sys.executable, "-m", "mockserver.cli", "tail", "--url", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)
        SandboxClient(url, token=DEFAULT_TOKEN).get("/api/calendars/99")
        time.sleep(1.0)
        tail.send_signal(signal.SIGINT)
        out, err = tail.communicate(timeout=10)
        assert tail.returncode == 0, err
        assert "\x1b[" not in out  # no colour when the output is not a terminal
        line = next(line for line in out.splitlines() if "/api/calendars/99" in line)
        assert " GET /api/calendars/99 404 CALENDAR_NOT_FOUND " in line
        assert "sandbox/default" in line and "ms" in line and "# " in line  # the hint


def test_tail_says_in_one_line_when_the_server_is_unreachable():
    result = subprocess.run(
        [sys.executable, "-m", "mockserver.cli", "tail", "--url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "cannot reach http://127.0.0.1:9" in result.stderr


# -- issue 22, item 9: a full disk does not kill the journal writer --------------------------------


class _FullDisk:
    """Every write of journal entries fails as SQLite fails on a full disk, while ``on``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.on = False
        original = Connection.executemany

        def executemany(conn: Connection, sql: str, rows: Any) -> Any:
            if self.on and "INTO entries" in sql:
                raise sqlite3.OperationalError("database or disk is full")
            return original(conn, sql, rows)

        monkeypatch.setattr(Connection, "executemany", executemany)


def _wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.02)


@pytest.mark.parametrize("settings", [{"now": "2025-06-07T15:30:00+02:00", "log_format": "off", "journal_size": 5}])
def test_the_writer_survives_a_full_disk_and_the_stream_resumes(app, api, client, monkeypatch, capfd):
    disk = _FullDisk(monkeypatch)
    raw = FlaskClient(app)
    feed = raw.get("/__mock/journal/stream", buffered=False)
    api.get("/api/calendars", page=1)
    assert [e["query"]["page"] for _, e in _events(feed, 1, close=False)] == ["1"]
    disk.on = True
    for page in range(2, 14):  # 12 calls while nothing can be written; the journal keeps 5
        api.get("/api/calendars", page=page)
    _wait_for(lambda: "cannot write" in capfd.readouterr().err)  # said once, on stderr
    disk.on = False  # the writer writes again what it kept: the newest 5; the 7 others are counted
    events = _events(feed, 6, timeout=10, close=False)
    assert ("unrecorded", {"unrecorded": 7}) in events
    assert [e["query"]["page"] for kind, e in events if kind == "entry"] == ["9", "10", "11", "12", "13"]
    api.get("/api/calendars", page=14)  # and the live stream goes on
    assert [e["query"]["page"] for _, e in _events(feed, 1)] == ["14"]
    assert [e["query"]["page"] for e in client.get("/__mock/journal").get_json()["data"]] == [
        "10",
        "11",
        "12",
        "13",
        "14",
    ]


# -- issue 22, items 3 and 20: a stream's memory and its slot --------------------------------------


def test_a_head_request_frees_its_stream_slot(app):
    raw = FlaskClient(app)
    for _ in range(stream.MAX_STREAMS + 4):  # a HEAD never starts the body: the slot must still be freed
        head = raw.head("/__mock/journal/stream")
        assert head.status_code == 200
        head.close()  # as the server does when the answer is sent
    assert _events(raw.get("/__mock/journal/stream", buffered=False), 0) == []  # opened, then closed
    opened = [raw.get("/__mock/journal/stream", buffered=False) for _ in range(stream.MAX_STREAMS)]
    assert [response.status_code for response in opened] == [200] * stream.MAX_STREAMS
    assert raw.get("/__mock/journal/stream").status_code == 400  # the limit itself holds
    for response in opened:
        response.close()
    assert raw.get("/__mock/journal/stream", buffered=False).status_code == 200


def test_a_stream_writes_a_bounded_chunk_and_skips_past_its_byte_budget(app, api, monkeypatch):
    monkeypatch.setattr(stream, "EVENTS_BYTES", 256 * 1024)
    note = "n" * (60 * 1024)
    for page in range(40):  # 40 entries of 60 KB: 2.4 MB behind, past the 1 MiB a reader may be behind
        api.post("/api/appointment", {"calendar_id": 1, "page": page, "client_note": note})
    time.sleep(0.1)
    response = FlaskClient(app).get("/__mock/journal/stream?since=60", buffered=False)
    chunks = iter(response.response)
    next(chunks)  # the preamble
    sizes, kinds = [], []
    while kinds.count(b"event: entry") < 40 - kinds.count(b"dropped"):
        chunk = next(chunks)
        sizes.append(len(chunk))
        kinds += [b"event: entry"] * chunk.count(b"event: entry") + [b"dropped"] * chunk.count(b"event: dropped")
        if b"event: dropped" in chunk:
            skipped = json.loads(chunk.split(b"data: ", 1)[1].split(b"\n", 1)[0])["dropped"]
            kinds += [b"dropped"] * (skipped - 1)
    response.close()
    one_entry = 62 * 1024 + 4096  # the body, the headers, a part of the answer, the event's own text
    assert max(sizes) <= stream.CHUNK_BYTES + one_entry
    assert 0 < kinds.count(b"event: entry") * 60 * 1024 <= stream.BUFFER_BYTES  # the newest that fit
    assert sum(len(text) for text in stream._events.values()) <= stream.EVENTS_BYTES


@pytest.mark.slow
def test_head_requests_to_a_real_server_leave_every_stream_slot_free():
    with running() as (_process, url):
        host, port = url.removeprefix("http://").rsplit(":", 1)
        for _ in range(stream.MAX_STREAMS):
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("HEAD", "/__mock/journal/stream")
            assert conn.getresponse().status == 200
            conn.close()
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        deadline = time.monotonic() + 5  # the server closes each answered HEAD at once; a moment to be sure
        while True:
            conn.request("GET", "/__mock/journal/stream")
            answer = conn.getresponse()
            if answer.status == 200 or time.monotonic() > deadline:
                break
            answer.read()
            time.sleep(0.1)
        assert answer.status == 200
        conn.close()
