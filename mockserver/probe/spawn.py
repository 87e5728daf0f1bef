"""A sandbox of our own for the probe: the real ``tap4book-mock serve`` on a free loopback port.

It runs with the defaults (seed, accounts, environment) and the target's clock, frozen: the calls that
depend on "today" then ask both sides about the same days. The shell's ``T4B_*`` variables are not
passed on (they would change the reference, and ``T4B_PROBE_SECRET`` has no business in a server), and
nothing is kept on disk (``--cache-dir off``; the data directory is the server's temporary one).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from mockserver.probe.fetch import ProbeError

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
# The directory that holds the mockserver package, so that ``-m mockserver.cli`` finds this very copy.
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


def command(now: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mockserver.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--now",
        now,
        "--workers",
        "1",
        "--log-format",
        "off",
        "--cache-dir",
        "off",
    ]


def _environment() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("T4B_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_PARENT, env.get("PYTHONPATH")]))
    return env


@contextmanager
def sandbox(now: str) -> Iterator[str]:
    """A running sandbox frozen at ``now``; yields its base URL and stops it with SIGTERM afterwards."""
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = subprocess.Popen(
            command(now),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=_environment(),
        )
        try:
            yield _ready_url(process, errors)
        finally:
            _stop(process)


def _ready_url(process: subprocess.Popen[str], errors: IO[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            line = process.stdout.readline()
            if line.startswith("{"):
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == "ready" and event.get("url"):
                    return str(event["url"])
            elif not line:  # stdout closed: the server is gone
                break
        if process.poll() is not None:
            break
    raise ProbeError(f"could not start a sandbox: {_last_line(process, errors)}")


def _last_line(process: subprocess.Popen[str], errors: IO[str]) -> str:
    if process.poll() is None:
        return f"no ready line within {START_TIMEOUT:g} s"
    errors.seek(0)
    lines = [line.strip() for line in errors.read().splitlines() if line.strip()]
    return lines[-1] if lines else f"the server exited with status {process.returncode}"


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
