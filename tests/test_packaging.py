"""The README's set-up commands, the Dockerfile and .ci/run agree with each other and with the code."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.S)


def test_readme_starts_with_exactly_two_setup_commands():
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = sh_blocks(setup)[:2]
    assert [len(b.strip().splitlines()) for b in blocks] == [1, 1]
    serve, tests = (b.strip() for b in blocks)
    assert serve.startswith("python3 -m venv .venv") and serve.endswith("tap4book-mock serve")
    assert tests.startswith("python3 -m venv .venv") and "pytest" in tests
    # CI runs the README's test command, word for word.
    assert tests in (ROOT / ".ci" / "run").read_text()


def test_console_command_and_plugin_are_declared():
    assert PYPROJECT["project"]["name"] == "tap4book-mockserver"
    assert PYPROJECT["project"]["scripts"]["tap4book-mock"] == "mockserver.cli:main"
    assert PYPROJECT["project"]["entry-points"]["pytest11"]["tap4book_mock"] == "mockserver.pytest_plugin"


def test_dockerfile_copies_what_exists_and_runs_the_declared_command():
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY") and "--from=" not in line:
            for source in shlex.split(line)[1:-1]:
                assert (ROOT / source).exists(), f"Dockerfile copies a missing {source}"
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M)
    assert cmd and json.loads(cmd.group(1))[0] in PYPROJECT["project"]["scripts"]
    assert re.search(r"^USER (?!root)\S+", DOCKERFILE, re.M), "the image must not run as root"
    exposed = re.search(r"^EXPOSE (\d+)", DOCKERFILE, re.M)
    assert exposed and f"T4B_PORT={exposed.group(1)}" in DOCKERFILE
    assert "T4B_HOST=0.0.0.0" in DOCKERFILE


@pytest.mark.slow
def test_the_images_healthcheck_follows_the_served_port_and_ignores_rules(tmp_path):
    """The HEALTHCHECK command, with the image's T4B_READY_FILE, on a server whose /api/health a rule breaks."""
    from server import running

    command = json.loads(re.search(r"HEALTHCHECK .* CMD (\[.*\])\n", DOCKERFILE).group(1))
    assert command == ["tap4book-mock", "health"]
    assert "T4B_READY_FILE=" in DOCKERFILE
    ready = tmp_path / "ready.json"
    env = {**os.environ, "T4B_READY_FILE": str(ready)}
    health = [sys.executable, "-m", "mockserver.cli", "health"]
    with running("--ready-file", str(ready), "--scenario", "maintenance") as (_, url):
        assert json.loads(ready.read_text())["url"] == url  # --port 0: the port actually served
        assert subprocess.run(health, env=env, timeout=30).returncode == 0
    failing = subprocess.run(health, env=env, capture_output=True, text=True, timeout=30)
    assert failing.returncode == 1 and failing.stderr.count("\n") == 1


@pytest.mark.slow
def test_the_readmes_first_requests_answer():
    from server import running

    token = subprocess.run(
        [sys.executable, "-m", "mockserver.cli", "token"], capture_output=True, text=True, check=True
    ).stdout.strip()
    with running() as (_, url):
        for request in (
            urllib.request.Request(f"{url}/api/calendars?debug=true"),
            urllib.request.Request(f"{url}/api/calendars", headers={"Access-Token": token}),
        ):
            with urllib.request.urlopen(request, timeout=10) as reply:
                assert reply.status == 200 and json.loads(reply.read())["success"] is True
