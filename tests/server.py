"""Start the real ``tap4book-mock serve`` command for tests that need a real server (sockets, workers)."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from conftest import NOW

COMMAND = [sys.executable, "-m", "mockserver.cli", "serve"]
CACHE_DIR = os.path.join(tempfile.gettempdir(), "tap4book-mock-tests-cache")


@contextmanager
def running(*args: str, timeout: float = 20.0) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A server on a free port (``--port 0``), stopped with SIGTERM afterwards; yields (process, base url)."""
    # Never the developer's T4B_* settings; datasets cached in the system temp folder, not in ~/.cache.
    env = {name: value for name, value in os.environ.items() if not name.startswith("T4B_")}
    env.update(T4B_LOG_FORMAT="off", T4B_CACHE_DIR=CACHE_DIR)
    process = subprocess.Popen(
        [*COMMAND, "--port", "0", "--now", NOW, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = _ready_line(process, timeout)
        yield process, json.loads(line)["url"]
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()


def _ready_line(process: subprocess.Popen[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            line = process.stdout.readline()
            if line.startswith("{"):
                return line
        if process.poll() is not None:
            raise AssertionError(
                f"server exited with {process.returncode}: {process.stderr.read() if process.stderr else ''}"
            )
    raise AssertionError("server did not print its ready line in time")
