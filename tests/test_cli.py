"""The tap4book-mock command: help, token, one-line errors, and the real server it starts."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from conftest import DEFAULT_TOKEN
from server import COMMAND, running

from mockserver.auth import make_token
from mockserver.cli import main


def test_token_without_arguments_is_the_default_accounts(capsys):
    assert main(["token"]) == 0
    assert capsys.readouterr().out.strip() == DEFAULT_TOKEN


def test_token_for_an_account_or_an_explicit_secret(capsys):
    main(["token", "--account", "sandbox-2"])
    assert capsys.readouterr().out.strip() == make_token("sandbox-2", "second-sandbox-secret")
    main(["token", "--account", "42", "--secret", "k"])
    assert capsys.readouterr().out.strip() == make_token("42", "k")


def test_token_known_vector():
    # Same as: printf sandbox | openssl dgst -sha256 -hmac sandbox-secret-key-change-me
    assert (
        make_token("sandbox", "sandbox-secret-key-change-me")
        == "f844377417726c453d5111ffec743d8f48ec86fe4707abf6155bb3ebf677574c"
    )


def test_the_client_commands_start_without_the_server():
    # `health` runs every few seconds in a container; `token`, `tail` and `probe` run on a developer's machine.
    # None of them needs Flask, granian or the probe's comparison code loaded, and serve starts without the last.
    heavy = ("flask", "granian", "mockserver.app", "mockserver.probe.report")
    code = f"import sys, mockserver.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


@pytest.mark.parametrize(
    ("argv", "env", "needle"),
    [
        (["serve", "--port", "abc"], {}, "port: expected a whole number"),
        (["serve", "--port", "70000"], {}, "port: expected a number from 0 to 65535"),
        (["serve", "--now", "tomorrow"], {}, "now: expected an ISO-8601"),
        (["serve", "--environment", "prod"], {}, "invalid choice"),
        (["serve", "--bogus"], {}, "unrecognized arguments"),
        (["serve"], {"T4B_SEED": "x"}, "T4B_SEED: expected a whole number"),
        (["token", "--account", "nobody"], {}, "unknown account"),
    ],
)
def test_bad_values_get_one_line_and_status_2(argv, env, needle):
    result = subprocess.run(
        [sys.executable, "-m", "mockserver.cli", *argv],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **env},
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_help_mentions_every_setting_and_its_variable(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = capsys.readouterr().out
    for flag, variable in [
        ("--port", "T4B_PORT"),
        ("--seed", "T4B_SEED"),
        ("--now", "T4B_NOW"),
        ("--environment", "T4B_ENVIRONMENT"),
        ("--no-debug-mode", "T4B_DEBUG_MODE"),
        ("--scenario", "T4B_SCENARIO"),
        ("--scale", "T4B_SCALE"),
    ]:
        assert flag in text and variable in text


def _get(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    reply = conn.getresponse()
    body = reply.read()
    conn.close()
    return reply.status, json.loads(body) if body else {}


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_a_ready_line_then_serves_and_stops_cleanly(stop):
    with running("--workers", "2") as (process, url):
        status, body = _get(url, "/api/calendars", {"Access-Token": DEFAULT_TOKEN})
        assert status == 200 and len(body["data"]) == 5
        assert _get(url, "/__mock/ready")[1]["data"]["ready"] is True
        process.send_signal(stop)
        assert process.wait(timeout=15) == 0


@pytest.mark.slow
def test_a_port_in_use_fails_fast_with_a_clear_message():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([*COMMAND, "--port", str(port)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: port already in use" in result.stderr
    # ...and says how to choose another
    assert "--port N (or T4B_PORT=N)" in result.stderr and "--port 0 for a free one" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_same_seed_and_clock_give_byte_identical_bodies_across_servers():
    paths = [
        "/api/calendars",
        "/api/appointments?per_page=100&format=csv",
        "/api/clients?format=xml",
        "/api/statistics/clients",
        "/api/statistics/appointments?period=last30days",
    ]

    def bodies(*args: str) -> list[bytes]:
        with running(*args) as (_, url):
            parts = urllib.parse.urlsplit(url)
            out = []
            for path in paths:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                conn.request("GET", path, headers={"Access-Token": DEFAULT_TOKEN})
                out.append(conn.getresponse().read())
                conn.close()
            return out

    first, second, other = bodies("--seed", "7"), bodies("--seed", "7"), bodies("--seed", "8")
    assert first == second
    assert all(a != b for a, b in zip(first[1:4], other[1:4], strict=True))


@pytest.mark.slow
def test_connection_reset_and_truncated_body_faults_on_a_real_socket():
    with running() as (_, url):
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("GET", "/api/health", headers={"X-Mock-Scenario": "connection_reset"})
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            conn.getresponse()
        conn.close()
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("GET", "/api/calendars?debug=true", headers={"X-Mock-Scenario": "truncated_body"})
        reply = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead):
            reply.read()
        conn.close()
        assert _get(url, "/api/health")[0] == 200  # the server is fine afterwards


@pytest.mark.slow
def test_the_journal_sees_the_requests_of_every_worker():
    from mockserver.client import SandboxClient

    with running("--workers", "2", "--threads", "2") as (_, url):
        client = SandboxClient(url, token=DEFAULT_TOKEN)
        for page in range(1, 41):
            assert client.get("/api/calendars", params={"page": page % 3 + 1, "per_page": 2}).status == 200
        assert client.journal_count(path="/api/calendars") == 40
        entries = client.journal(limit=1000)
        assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
        assert client.clear_journal() == 40 and client.journal_count() == 0


def test_help_shows_the_defaults_the_server_really_uses(capsys, monkeypatch):
    from mockserver.store.templates import default_cache_dir
    from mockserver.version import fixtures_path

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "[env T4B_ACCOUNTS_FILE; default: fixtures/accounts.json" in text
    assert fixtures_path("accounts.json").as_posix().endswith("fixtures/accounts.json")  # what load() reads
    assert "[env T4B_CACHE_DIR; default: ~/.cache/tap4book-mock" in text
    assert default_cache_dir() == Path.home() / ".cache" / "tap4book-mock"
    assert "[env T4B_DATA_DIR; default: a new temporary directory]" in text
    assert "default: none" not in text.split("--accounts FILE")[1].split("--journal-size")[0]


def test_health_without_a_sandbox_to_ask_says_how_to_name_one(capsys, tmp_path):
    assert main(["health"]) == 1
    said = capsys.readouterr().err
    assert "None" not in said and "give --url URL, or --ready-file FILE (or T4B_READY_FILE)" in said
    assert main(["health", "--ready-file", str(tmp_path / "missing.json")]) == 1
    assert "cannot read the ready file" in capsys.readouterr().err
    (tmp_path / "empty.json").write_text("{}")
    assert main(["health", "--ready-file", str(tmp_path / "empty.json")]) == 1
    assert "holds no ready line with a url" in capsys.readouterr().err


@pytest.mark.slow
def test_two_workers_start_without_a_granian_warning():
    process = subprocess.Popen(
        [*COMMAND, "--port", "0", "--workers", "2", "--log-format", "off", "--cache-dir", "off"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = json.loads(process.stdout.readline())["url"]
        assert _get(url, "/__mock/ready")[0] == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_serve_loads_no_module_only_other_commands_or_pages_need():
    """Every start pays for what `serve` imports (the cold start is checked by bench/run.sh against 200 ms):
    urllib's client (health, tail, probe), the Postman collection and the dataset transfer load on first use."""
    code = (
        "import sys, mockserver.cli, mockserver.server\n"
        "from mockserver.app import create_app\n"
        "print(sorted(m for m in ('urllib.request', 'mockserver.postman', 'mockserver.store.transfer',"
        " 'lxml', 'faker', 'yaml') if m in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stderr
