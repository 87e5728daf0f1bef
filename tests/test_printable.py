"""Control characters a client sends never reach a terminal or a log as such (issue 22, item 21): `tap4book-mock
tail` and the access log escape them, so that ``GET /api/x%0aFAKE%1b]0;owned%07`` forges no line and sets no
terminal title."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
from conftest import NOW
from flask import Flask
from flask.testing import FlaskClient
from server import running

from mockserver import tail
from mockserver.accesslog import AccessLog
from mockserver.printable import json_line, printable

HOSTILE = "/api/x\nFAKE 200 SUCCESS\x1b]0;owned\x07\x9b2J\x7f\u202e"
RAW = set("\n\r\x1b\x07\x9b\x7f\u202e")


def _entry(**changes: Any) -> dict[str, Any]:
    found = {
        "id": 1, "at": 1749303000.0, "tenant": "sandbox/default", "method": "GET", "path": "/api/calendars",
        "query": {}, "status": 404, "error_code": "ENDPOINT_NOT_FOUND", "rule_id": None, "duration_ms": 0.5,
        "hint": None, "fault": None,
    }  # fmt: skip
    return {**found, **changes}


def test_printable_escapes_controls_and_keeps_the_rest() -> None:
    assert printable("a\nb\x1b[31mé\u202e") == "a\\x0ab\\x1b[31mé\\u202e"
    line = json_line({"path": HOSTILE})
    assert not RAW & set(line) and json.loads(line) == {"path": HOSTILE}


@pytest.mark.parametrize("colour", [False, True])
def test_a_tail_line_is_one_line_without_raw_control_characters(colour: bool) -> None:
    line = tail.line(_entry(path=HOSTILE, hint="why\x1b[2J\nnext", tenant="sandbox/\x1bx"), colour=colour)
    for own in [*tail.COLOURS.values(), tail.RESET, tail.DIM]:  # tail's own colours are the only escapes
        line = line.replace(own, "")
    assert not RAW & set(line)
    assert "\\x0aFAKE 200 SUCCESS\\x1b]0;owned\\x07" in line


def test_tail_json_lines_carry_no_raw_control_character(capsys: pytest.CaptureFixture[str]) -> None:
    tail._show(sys.stdout, "entry", json.dumps(_entry(path=HOSTILE)), as_json=True, colour=False)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and not RAW & set(out.rstrip("\n"))
    assert json.loads(out)["path"] == HOSTILE


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_an_access_log_line_is_one_line_without_raw_control_characters(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fields = {"method": "GET", "path": HOSTILE, "status": 404, "error_code": "ENDPOINT_NOT_FOUND"}
    AccessLog(fmt).write({**fields, "duration_ms": 0.5, "tenant": "sandbox/\x1bx", "rule_id": None, "fault": None})
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and not RAW & set(err.rstrip("\n"))


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "text", "cache_dir": "off"}])
def test_a_hostile_path_forges_no_access_log_line(app: Flask, capfd: pytest.CaptureFixture[str]) -> None:
    FlaskClient(app).get("/api/x%0aFAKE%1b]0;owned%07")
    lines = capfd.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("GET /api/x\\x0aFAKE\\x1b]0;owned\\x07 404")


@pytest.mark.slow
def test_tail_of_a_real_server_prints_a_hostile_path_escaped() -> None:
    with running() as (_process, url):
        watcher = subprocess.Popen(
            [sys.executable, "-m", "mockserver.cli", "tail", "--url", url, "--exit-when-idle", "2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "NO_COLOR": "1"},
        )
        time.sleep(1.0)  # the stream starts with the requests after it opened
        host, port = url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /api/x%0aFAKE%1b]0;owned%07 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            while sock.recv(65536):
                pass
        out, err = watcher.communicate(timeout=30)
    lines = out.decode().splitlines()
    assert len(lines) == 1, (out, err)
    assert not RAW & set(lines[0]) and "/api/x\\x0aFAKE\\x1b]0;owned\\x07 404" in lines[0]
