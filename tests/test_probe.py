"""tap4book-mock probe: a sandbox against itself, against a sandbox made to differ, and every way it must stop.

Loopback only. Three real servers for the module (a reference, a target with the same seed and clock,
and one with the other environment), plus the sandbox one probe run starts itself; tiny in-process
servers stand for a target that answers HTML or never answers.
"""

from __future__ import annotations

import http.server
import io
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import DEFAULT_TOKEN
from server import running

from mockserver.cli import main
from mockserver.probe import sections
from mockserver.probe.calls import Call, Observation
from mockserver.probe.compare import compare
from mockserver.probe.fetch import Answer, Fetcher, Limits, ProbeError, api_root
from mockserver.probe.report import Redactor, group
from mockserver.probe.shapes import csv_shape, xml_shape
from mockserver.probe.side import Side

ROOT = Path(__file__).resolve().parent.parent
FAST = ["--rate", "1000", "--timeout", "10"]
STAGING_SECRET = "staging-demo-secret"
PROBE = [sys.executable, "-m", "mockserver.cli", "probe"]


@pytest.fixture(autouse=True)
def _no_secret_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("T4B_PROBE_SECRET", raising=False)


# --- servers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("probe-cache"))


@pytest.fixture(scope="module")
def reference(cache_dir: str) -> Iterator[str]:
    with running("--workers", "1", "--cache-dir", cache_dir) as (_, url):
        yield url


@pytest.fixture(scope="module")
def target(cache_dir: str) -> Iterator[str]:
    with running("--workers", "1", "--cache-dir", cache_dir) as (_, url):
        yield url


@pytest.fixture(scope="module")
def production(cache_dir: str) -> Iterator[str]:
    with running("--workers", "1", "--cache-dir", cache_dir, "--environment", "production") as (_, url):
        yield url


def _http(method: str, url: str, body: Any = None, token: str = DEFAULT_TOKEN) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Access-Token": token})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _probe(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["probe", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _report(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _found(report: dict[str, Any]) -> set[tuple[str, str, str, str, str]]:
    return {(d["call"], d["where"], d["kind"], d["sandbox"], d["target"]) for d in report["differences"]}


# --- the same sandbox twice ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline(target: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The target probed against a sandbox the probe starts itself (same seed, the target's clock)."""
    out = tmp_path_factory.mktemp("baseline") / "report.json"
    with pytest.MonkeyPatch.context() as patch:
        stdout, stderr = io.StringIO(), io.StringIO()
        patch.setattr(sys, "stdout", stdout)
        patch.setattr(sys, "stderr", stderr)
        patch.delenv("T4B_PROBE_SECRET", raising=False)
        status = main(["probe", "--against", target, "--token", DEFAULT_TOKEN, "--out", str(out), *FAST])
    return {"status": status, "out": stdout.getvalue(), "err": stderr.getvalue(), "report": _report(out)}


@pytest.mark.slow
def test_a_sandbox_against_the_same_sandbox_has_no_difference(baseline: dict[str, Any]) -> None:
    report = baseline["report"]
    assert baseline["status"] == 0, baseline["out"] + baseline["err"]
    assert report["differences"] == []
    assert report["summary"]["skipped"] == 0 and report["summary"]["compared"] >= 60
    assert report["sandbox"]["started_by_probe"] is True
    assert report["sandbox"]["clock"] == report["target"]["clock"] == "2025-06-07T15:30:00+02:00"
    assert "No difference" in baseline["out"]
    assert baseline["err"] == ""


@pytest.mark.slow
def test_the_sandbox_holds_every_self_consistency_rule(baseline: dict[str, Any]) -> None:
    rules = baseline["report"]["rules"]
    assert rules["sandbox"]["failed"] == [] and rules["target"]["failed"] == []
    assert rules["sandbox"]["held"] > 300


@pytest.mark.slow
def test_the_report_covers_every_format_and_documented_error(baseline: dict[str, Any]) -> None:
    calls = {call["call"]: call for call in baseline["report"]["calls"]}
    types = {call["target"]["content_type"].split(";")[0] for call in calls.values()}
    assert {"application/json", "application/xml", "text/csv"} <= types
    assert {calls[name]["target"]["status"] for name in calls if name.startswith("errors.")} == {400, 404}
    assert calls["auth.param"]["target"]["request"].endswith("access_token=***&per_page=2")
    assert calls["calendars.detail"]["target"]["request"] == "GET /api/calendars/1"  # discovered, not written


@pytest.mark.slow
def test_the_token_is_never_printed_or_written(baseline: dict[str, Any]) -> None:
    for text in (baseline["out"], baseline["err"], json.dumps(baseline["report"])):
        assert DEFAULT_TOKEN not in text


# --- a sandbox made to differ on purpose ---------------------------------------------------------


def _rule(target: str, request: str, **rule: Any) -> None:
    path, _, query = request.split(" ", 1)[1].partition("?")
    spec = {"method": "GET", "path": path, **rule}
    if query:
        spec["query"] = dict(urllib.parse.parse_qsl(query))
    _http("POST", f"{target}/__mock/rules", spec)


def _answer(target: str, request: str) -> dict[str, Any]:
    return _http("GET", target + request.split(" ", 1)[1])


@pytest.mark.slow
def test_a_sandbox_made_to_differ_shows_exactly_those_differences(
    baseline: dict[str, Any], reference: str, target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requests = {call["call"]: call["target"]["request"] for call in baseline["report"]["calls"]}
    renamed = _answer(target, requests["statistics.clients"])
    renamed["data"] = {("returning_clients" if k == "repeat_clients" else k): v for k, v in renamed["data"].items()}
    retyped = _answer(target, requests["statistics.calendars"])
    retyped["data"]["average_appointments_per_calendar"] = str(retyped["data"]["average_appointments_per_calendar"])
    unpaged = _answer(target, requests["clients.calendar"])
    del unpaged["pagination"]
    try:
        _rule(target, requests["statistics.clients"], status=200, body=renamed)
        _rule(target, requests["statistics.calendars"], status=200, body=retyped)
        _rule(target, requests["clients.calendar"], status=200, body=unpaged)
        _rule(target, requests["errors.unknown_slot"], error_code="RESOURCE_NOT_FOUND")
        out = tmp_path / "report.json"
        status, stdout, _ = _probe(
            capsys, "--against", target, "--sandbox", reference, "--token", DEFAULT_TOKEN, "--out", str(out), *FAST
        )
    finally:
        _http("DELETE", f"{target}/__mock/rules")
    report = _report(out)
    assert status == 1, stdout
    assert _found(report) == {
        ("statistics.clients", "data", "keys", "repeat_clients", "returning_clients"),
        ("statistics.calendars", "data.average_appointments_per_calendar", "type", "number", "string"),
        ("clients.calendar", "(envelope)", "keys", "pagination", "-"),
        ("errors.unknown_slot", "error_code", "error_code", "SLOT_NOT_FOUND", "RESOURCE_NOT_FOUND"),
    }
    assert len(report["differences"]) == 4 and all(not d["also_in"] for d in report["differences"])
    by_call = {d["call"]: d for d in report["differences"]}
    assert by_call["statistics.clients"]["section"] == sections.STATISTICS
    assert by_call["clients.calendar"]["section"] == sections.LISTS
    assert by_call["clients.calendar"]["request"] == requests["clients.calendar"]
    assert "4 differences" in stdout and "statistics.clients" in stdout


@pytest.mark.slow
def test_a_key_of_the_other_environment_is_one_difference(
    production: str, reference: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T4B_PROBE_SECRET", STAGING_SECRET)
    out = tmp_path / "report.json"
    status, stdout, stderr = _probe(
        capsys, "--against", production, "--sandbox", reference, "--account", "staging-demo", "--out", str(out), *FAST
    )
    report = _report(out)
    assert status == 1, stdout + stderr
    assert _found(report) == {("auth.token", "(status)", "auth", "200 SUCCESS", "401 AUTH_INVALID")}
    assert report["differences"][0]["section"] == sections.AUTH
    assert {name for name, _ in _skipped(report)} >= {"calendars.list", "auth.param"}
    assert "info" not in {name for name, _ in _skipped(report)}  # calls without a token are still compared
    from mockserver.auth import make_token

    for text in (stdout, stderr, out.read_text(encoding="utf-8")):
        assert STAGING_SECRET not in text and make_token("staging-demo", STAGING_SECRET) not in text


def _skipped(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(item["call"], item["reason"]) for item in report["skipped"]]


# --- writes --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_writes_book_and_cancel_at_once(
    reference: str, target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    argv = ["--against", target, "--sandbox", reference, "--token", DEFAULT_TOKEN, "--out", str(out), *FAST]
    status, stdout, stderr = _probe(capsys, *argv, "--allow-writes", "--yes")
    report = _report(out)
    assert status == 0, stdout + stderr
    booked = [note for note in report["notes"] if "booked and cancelled on the target" in note]
    assert booked and report["warnings"] == []
    appointment = re.search(r"appointment (\d+)", booked[0]).group(1)  # type: ignore[union-attr]
    assert _http("GET", f"{target}/api/appointments/{appointment}")["data"]["status"] == "cancelled"
    names = {call["call"] for call in report["calls"]}
    assert {"writes.missing_field", "writes.unknown_slot", "writes.book", "writes.cancel"} <= names


@pytest.mark.slow
def test_writes_wait_for_a_yes(
    reference: str, target: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _http("GET", f"{target}/__mock/journal/count?method=POST&path=/api/appointment")["data"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    status, stdout, stderr = _probe(
        capsys, "--against", target, "--sandbox", reference, "--token", DEFAULT_TOKEN, "--allow-writes", *FAST
    )
    assert status == 0
    assert "and cancel it at once? [y/N]" in stderr
    assert "nothing written, not confirmed" in stdout
    assert _http("GET", f"{target}/__mock/journal/count?method=POST&path=/api/appointment")["data"] == before


# --- every way it must stop: one line, exit 2 ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Html(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.endswith("/moved"):
            self.send_response(302)
            self.send_header("Location", "http://example.invalid/api/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"<!doctype html><title>Welcome</title><p>Not an API</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def html_site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Html)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_site() -> Iterator[str]:
    """Accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def _one_error_line(status: int, stdout: str, stderr: str, needle: str) -> None:
    assert status == 2
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tap4book-mock probe: error: "), stderr
    assert needle in lines[0]
    assert "Traceback" not in stderr


def test_an_unreachable_target_is_one_line_and_status_2() -> None:
    result = subprocess.run(
        [*PROBE, "--against", f"http://127.0.0.1:{_free_port()}/api", "--token", DEFAULT_TOKEN],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    _one_error_line(result.returncode, result.stdout, result.stderr, "connection refused")
    assert DEFAULT_TOKEN not in result.stderr


def test_a_target_that_answers_html_is_one_line_and_status_2(
    html_site: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    status, stdout, stderr = _probe(capsys, "--against", html_site, "--token", DEFAULT_TOKEN, "--out", str(out))
    _one_error_line(status, stdout, stderr, "answered text/html")
    assert _report(out)["summary"]["exit_status"] == 2


def test_a_target_that_hangs_is_one_line_and_status_2(silent_site: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, stdout, stderr = _probe(capsys, "--against", silent_site, "--token", DEFAULT_TOKEN, "--timeout", "0.3")
    _one_error_line(status, stdout, stderr, "no answer")


def test_requests_are_spaced_counted_and_bounded_in_time(html_site: str) -> None:
    fetcher = Fetcher(html_site + "/api", "target", Limits(rate=20, max_requests=3).start())
    started = time.monotonic()
    for _ in range(3):
        assert fetcher.request("GET", "/").status == 200
    assert time.monotonic() - started >= 0.09  # 3 requests at 20/s: two gaps of 50 ms
    with pytest.raises(ProbeError, match="3 requests to the target"):
        fetcher.request("GET", "/")
    late = Fetcher(html_site + "/api", "target", Limits(max_time=0.01).start())
    time.sleep(0.02)
    with pytest.raises(ProbeError, match="--max-time"):
        late.request("GET", "/")


def test_a_redirect_is_an_answer_not_followed(html_site: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # loopback never goes through a proxy
    answer = Fetcher(html_site + "/api", "target", Limits(rate=1000).start()).request("GET", "/moved")
    assert answer.status == 302 and answer.headers["location"] == "http://example.invalid/api/"


@pytest.mark.slow
def test_a_bad_token_is_one_line_and_status_2(target: str, reference: str, capsys: pytest.CaptureFixture[str]) -> None:
    bad = "ab" * 32
    status, stdout, stderr = _probe(capsys, "--against", target, "--sandbox", reference, "--token", bad, *FAST)
    _one_error_line(status, stdout, stderr, "the target refused the token (401 AUTH_INVALID)")
    assert bad not in stderr


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--against", "http://127.0.0.1:9"], "a token is needed"),
        (["--against", "http://127.0.0.1:9", "--account", "a"], "--account needs --secret"),
        (["--against", "http://127.0.0.1:9", "--token", "t", "--account", "a"], "not both"),
        (["--against", "ftp://example.com", "--token", "t"], "not an http(s) URL"),
    ],
)
def test_usage_errors_are_one_line_and_status_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _one_error_line(*_probe(capsys, *argv), needle)


def test_bad_flag_values_are_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["probe", "--against", "http://127.0.0.1:9", "--token", "t", "--rate", "0"])
    assert stopped.value.code == 2
    assert "--rate: expected a number above 0" in capsys.readouterr().err


def test_help_documents_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["probe", "--help"])
    text = capsys.readouterr().out
    flags = ["--against", "--token", "--account", "--secret", "--sandbox", "--sandbox-token", "--rate", "--timeout"]
    flags += ["--max-time", "--max-requests", "--allow-writes", "--yes", "--out", "T4B_PROBE_SECRET"]
    for flag in flags:
        assert flag in text


# --- the pieces, without servers -----------------------------------------------------------------


def _observation(call: Call, body: Any, status: int = 200, content_type: str = "application/json") -> Observation:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Observation(call, shown=f"GET /api{call.path}", answer=Answer(status, {"content-type": content_type}, raw))


def _differences(call: Call, mine: Any, theirs: Any, **answer: Any) -> set[tuple[str, str, str, str]]:
    fetcher = Fetcher("http://127.0.0.1:9/api", "x", Limits())
    side = Side("x", fetcher, "token", date(2025, 6, 7))
    found = compare(_observation(call, mine, **answer), _observation(call, theirs, **answer), side, side)
    return {(d.where, d.kind, d.sandbox, d.target) for d in found}


DETAIL = Call("calendars.detail", "/calendars/1")


def _envelope(data: Any) -> dict[str, Any]:
    return {"success": True, "data": data, "message": "m", "error_code": "SUCCESS", "http_code": 200}


def test_data_dependent_values_are_not_differences() -> None:
    mine = _envelope({"calendar_id": 1, "rate": 0.5, "last": "2025-06-01", "name": "A", "tags": ["x"]})
    theirs = _envelope({"calendar_id": 1, "rate": 1, "last": None, "name": "Quite another name", "tags": []})
    assert _differences(DETAIL, mine, theirs) == set()


def test_a_renamed_key_is_one_difference_and_a_moved_key_another() -> None:
    mine = _envelope({"calendar_id": 1, "calendar_name": "A", "is_active": True})
    assert _differences(DETAIL, mine, _envelope({"calendar_id": 1, "name": "A", "is_active": True})) == {
        ("data", "keys", "calendar_name", "name")
    }
    assert _differences(DETAIL, mine, _envelope({"calendar_name": "A", "calendar_id": 1, "is_active": True})) == {
        ("data", "order", "calendar_id, calendar_name, is_active", "calendar_name, calendar_id, is_active")
    }


def test_types_and_timestamp_formats_are_compared() -> None:
    mine = _envelope({"calendar_id": 1, "created_at": "2025-06-01T14:30:00+02:00"})
    theirs = _envelope({"calendar_id": "1", "created_at": "2025-06-01 14:30:00"})
    assert _differences(DETAIL, mine, theirs) == {
        ("data.calendar_id", "type", "number", "string"),
        ("data.created_at", "type", "string:datetime+offset", "string:sql-datetime"),
    }


def test_a_wrong_paris_offset_breaks_the_time_zone_rule() -> None:
    mine = {**_envelope({"calendar_id": 1}), "timestamp": "2025-06-07T15:30:00+02:00"}
    theirs = {**_envelope({"calendar_id": 1}), "timestamp": "2025-06-07T15:30:00+01:00"}
    assert _differences(DETAIL, mine, theirs) == {
        ("(date-times)", "rule", "holds", "fails: timestamp at +01:00 where Europe/Paris is +02:00")
    }


def test_status_first_then_content_type() -> None:
    call = Call("errors.unknown_calendar", "/calendars/999", kind="error")
    error = {"success": False, "message": "x", "error_code": "CALENDAR_NOT_FOUND", "http_code": 404}
    assert _differences(call, error, {**error, "http_code": 200}, status=404) == {
        ("http_code", "rule", "holds", "fails: http_code 200, HTTP status 404")
    }
    mine = _observation(call, error, 404, "application/json; charset=utf-8")
    theirs = _observation(call, b"<html></html>", 404, "text/html")
    fetcher = Fetcher("http://127.0.0.1:9/api", "x", Limits())
    side = Side("x", fetcher, "t", date(2025, 6, 7))
    assert [(d.kind, d.target) for d in compare(mine, theirs, side, side)] == [
        ("error_code", "-"),
        ("content_type", "text/html"),
    ]


def test_csv_layout() -> None:
    mine = csv_shape(b'a,b,c\r\n1,"x, y",true\r\n')
    assert (mine.header, mine.quoting, mine.line_end, mine.bom, mine.delimiter) == (
        ["a", "b", "c"],
        "minimal (RFC 4180)",
        "CRLF",
        False,
        ",",
    )
    assert mine.rows == [["1", "x, y", "true"]]
    assert csv_shape(b'"a";"b"\n"1";"2"\n').quoting == "every field quoted"
    assert csv_shape(b'\xef\xbb\xbfa;b\n"1";2\n').delimiter == ";"
    assert csv_shape(b"\xef\xbb\xbfa,b\n").bom is True


def test_xml_structure_merges_repeated_elements() -> None:
    shape = xml_shape(
        b"<?xml version='1.0' encoding='UTF-8'?><response><data><calendar><id>1</id></calendar>"
        b"<calendar><id>2</id><name nil='true'/></calendar></data></response>"
    )
    assert shape.declaration == "1.0 UTF-8" and shape.root == "response"
    calendar = shape.tree.fields["data"].fields["calendar"]
    assert calendar.keys == ["id", "name"] and calendar.fields["id"].kinds == {"number"}


def test_the_same_difference_in_many_calls_is_one_finding() -> None:
    from mockserver.probe.compare import Difference

    found = [Difference(name, "GET /", "api_version", "value", '"1.0"', '"2.0"') for name in ("a", "b", "c")]
    findings = group(found)
    assert len(findings) == 1 and findings[0].calls == ["a", "b", "c"]


def test_redactor_and_api_root() -> None:
    assert Redactor(["s3cret-key", None, ""])("key=s3cret-key;") == "key=***;"
    assert api_root("https://staging-api.tap4book.com") == "https://staging-api.tap4book.com/api"
    assert api_root("http://user:pw@127.0.0.1:8080/api/") == "http://127.0.0.1:8080/api"


def test_every_section_named_by_the_probe_exists() -> None:
    anchors: set[str] = set()
    for name in ("interpretation.md", "formats.md"):
        for line in (ROOT / "docs" / name).read_text(encoding="utf-8").splitlines():
            heading = re.match(r"^#+\s+(.*?)\s*(\{#([\w-]+)\})?\s*$", line)
            if heading:
                slug = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-")
                anchors.add(f"docs/{name}#{heading.group(3) or slug}")
    assert set(sections.ALL) <= anchors, set(sections.ALL) - anchors
