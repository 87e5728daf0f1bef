"""A kept --data-dir (issue 22 items 7 and 8, issue 21 item 5): one server at a time, damaged databases moved
aside and rebuilt with one warning line, data made with another seed refused."""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import DEFAULT_TOKEN, NOW, assert_error
from server import COMMAND, running

from mockserver import create_app
from mockserver.store import datadir

TOKEN = {"Access-Token": DEFAULT_TOKEN}


def _app(directory: Path, **settings: Any) -> Any:
    """A start on the directory; the apps of earlier starts (unreferenced by now) are collected first, so
    that, as after a real restart, none of their connections is open."""
    gc.collect()
    app = create_app({"now": NOW, "log_format": "off", "cache_dir": "off", "data_dir": str(directory), **settings})
    app.testing = False
    return app


def _default_file(directory: Path) -> Path:
    (found,) = (directory / "tenants").glob("sandbox_default-*.sqlite")
    return found


def _book_one(app: Any) -> int:
    """A booking the seeded data does not have; returns the client count after it."""
    client = app.test_client()
    slot = next(
        s
        for s in client.get("/api/slots?calendar_id=1&date_from=2025-06-20", headers=TOKEN).get_json()["data"]
        if s["is_available"]
    )
    body = {"calendar_id": 1, "slot_id": slot["slot_id"], "client_firstname": "Ada", "client_lastname": "Kept",
            "client_email": "ada.kept@example.org", "client_phone": "+33600000000"}  # fmt: skip
    assert client.post("/api/appointment", json=body, headers=TOKEN).get_json()["error_code"] == "SUCCESS"
    return client.get("/api/clients", headers=TOKEN).get_json()["pagination"]["total"]


def _clients(app: Any) -> int:
    reply = app.test_client().get("/api/clients", headers=TOKEN)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()["pagination"]["total"]


def _warnings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("tap4book-mock: warning:")]


# -- damaged files at start ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda path: os.truncate(path, 1000), "malformed"),
        (lambda path: path.write_bytes(os.urandom(5000)), "not an SQLite database"),
        (lambda path: path.write_bytes(b""), "an empty file"),
    ],
    ids=["truncated", "garbage", "empty"],
)
def test_a_damaged_tenant_database_is_moved_aside_and_rebuilt(tmp_path, capsys, damage, reason):
    seeded = _clients(_app(tmp_path))
    assert _book_one(_app(tmp_path)) == seeded + 1  # kept data: the new client is still there after a restart
    assert _clients(_app(tmp_path)) == seeded + 1
    capsys.readouterr()
    target = _default_file(tmp_path)
    for suffix in ("-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    damage(target)
    app = _app(tmp_path)
    (line,) = _warnings(capsys.readouterr().err)
    assert str(target) in line and reason in line and "rebuilt" in line, line
    (aside,) = target.parent.glob(f"{target.name}.damaged-*")
    assert re.fullmatch(r".*\.damaged-\d{8}T\d{6}Z", aside.name)
    assert _clients(app) == seeded  # the seeded data again
    _app(tmp_path)
    assert _warnings(capsys.readouterr().err) == []  # repaired for good


def test_a_damaged_control_file_starts_every_tenant_afresh_and_says_so(tmp_path, capsys):
    seeded = _clients(_app(tmp_path))
    _book_one(_app(tmp_path))
    capsys.readouterr()
    control = tmp_path / "control.sqlite"
    for suffix in ("-wal", "-shm"):
        control.with_name(control.name + suffix).unlink(missing_ok=True)
    control.write_bytes(os.urandom(3000))
    app = _app(tmp_path)
    (line,) = _warnings(capsys.readouterr().err)
    assert "control.sqlite is damaged" in line and "tenants.orphaned-" in line and "seeded data" in line
    assert list(tmp_path.glob("control.sqlite.damaged-*")) and list(tmp_path.glob("tenants.orphaned-*"))
    assert _clients(app) == seeded
    assert app.test_client().get("/__mock/rules").status_code == 200


def test_a_damaged_journal_file_is_moved_aside(tmp_path, capsys):
    app = _app(tmp_path)
    app.test_client().get("/api/health", headers=TOKEN)
    assert app.test_client().get("/__mock/journal/count").get_json()["data"]["count"] == 1
    capsys.readouterr()
    (tmp_path / "journal" / "999999.sqlite").write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    app = _app(tmp_path)
    (line,) = _warnings(capsys.readouterr().err)
    assert "journal file" in line and "999999.sqlite" in line
    assert app.test_client().post("/__mock/reset").status_code == 200
    assert app.test_client().get("/__mock/journal").status_code == 200


def test_a_database_damaged_while_serving_answers_the_error_envelope_and_the_next_start_repairs_it(tmp_path, capsys):
    seeded = _clients(_app(tmp_path))
    app = _app(tmp_path)
    target = _default_file(tmp_path)
    os.truncate(target, 1000)
    target.with_name(target.name + "-wal").unlink(missing_ok=True)
    answer = app.test_client().get("/api/clients?page=2", headers=TOKEN)
    assert_error(answer, "INTERNAL_ERROR", 500)
    del app, answer
    capsys.readouterr()
    assert _clients(_app(tmp_path)) == seeded
    assert len(_warnings(capsys.readouterr().err)) == 1


# -- the seed of kept data -----------------------------------------------------------------------


def test_data_made_with_another_seed_is_refused_naming_both(tmp_path):
    _app(tmp_path, seed=42)
    with pytest.raises(datadir.SeedMismatch) as refused:
        _app(tmp_path, seed=7)
    message = str(refused.value)
    assert "seed 42" in message and "--seed 7" in message and "\n" not in message
    _app(tmp_path, seed=42)  # the seed it was made with still starts


def test_a_server_wide_reset_with_a_seed_is_the_seed_a_restart_needs(tmp_path):
    app = _app(tmp_path, seed=42)
    assert app.test_client().post("/__mock/reset", json={"seed": 5}).status_code == 200
    with pytest.raises(datadir.SeedMismatch, match="seed 5"):
        _app(tmp_path, seed=42)
    _app(tmp_path, seed=5)


# -- the real command: lock, exit statuses, one line ---------------------------------------------


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("T4B_")}
    env.update(T4B_LOG_FORMAT="off", T4B_CACHE_DIR="off")
    return subprocess.run(
        [*COMMAND, "--port", "0", "--now", NOW, *args], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_second_server_on_one_data_dir_exits_1_naming_the_first(tmp_path, workers):
    with running("--data-dir", str(tmp_path), "--workers", workers) as (first, url):
        held = json.loads((tmp_path / "server.lock").read_text())
        assert held == {"pid": first.pid, "port": int(url.rsplit(":", 1)[1])}
        second = _serve("--data-dir", str(tmp_path))
        assert second.returncode == 1
        assert second.stdout == ""
        assert second.stderr.count("\n") == 1
        assert f"pid {first.pid}, port {held['port']}" in second.stderr
        assert "--data-dir" in second.stderr
    with running("--data-dir", str(tmp_path)):  # the lock goes with the server
        pass


@pytest.mark.slow
def test_the_command_refuses_another_seed_in_one_line_with_status_2(tmp_path):
    with running("--data-dir", str(tmp_path)):
        pass
    refused = _serve("--data-dir", str(tmp_path), "--seed", "7")
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "seed 42, not --seed 7" in refused.stderr


@pytest.mark.slow
def test_the_command_starts_on_a_damaged_directory_with_one_warning_line(tmp_path):
    with running("--data-dir", str(tmp_path)):
        pass
    target = _default_file(tmp_path)
    os.truncate(target, 1000)
    env = {name: value for name, value in os.environ.items() if not name.startswith("T4B_")}
    env.update(T4B_LOG_FORMAT="off", T4B_CACHE_DIR="off")
    process = subprocess.Popen(
        [*COMMAND, "--port", "0", "--now", NOW, "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        assert json.loads(process.stdout.readline())["event"] == "ready"
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
    (line,) = _warnings(errors)
    assert str(target) in line and "damaged" in line
    assert "Traceback" not in errors
