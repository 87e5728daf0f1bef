"""What the pytest plugin costs an integrator's test run: pytest's start with and without it, and the sandbox.

    .venv/bin/python bench/plugin_start.py                  # ~1 minute: 10 runs of each, medians
    .venv/bin/python bench/plugin_start.py --runs 5
    PYTHONPATH=/tmp/old-tree .venv/bin/python bench/plugin_start.py   # the same figures for another tree

Figures, each the median (and the range) of ``--runs`` fresh processes:

* ``pytest --co`` of a project whose one test uses no fixture: with the plugin loaded (pytest loads every
  installed plugin), and with ``-p no:tap4book_mock``; the difference is what the plugin costs every run, and
  the import of the plugin module alone, timed inside a fresh process (steadier than the difference);
* the sandbox for a session: from a fresh process to a server that answers (``mockserver.testing.SandboxServer``,
  imports included, dataset cache warm), then the whole ``pytest`` run of one test that uses ``tap4book``.

Standard library only; pytest runs with this interpreter (the project's venv). Writes nothing outside a
temporary directory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOW = "2025-06-07T15:30:00+02:00"
PLAIN_TEST = "def test_nothing():\n    assert True\n"
SANDBOX_TEST = "def test_calendars(tap4book):\n    assert tap4book.get('/api/calendars').status_code == 200\n"
PLUGIN_IMPORT = """
import time, pytest
started = time.perf_counter()
import mockserver.pytest_plugin
print(time.perf_counter() - started)
"""
SERVER_START = """
import sys, time
started = time.perf_counter()
from mockserver.testing import SandboxServer
server = SandboxServer({"now": sys.argv[1], "cache_dir": sys.argv[2], "log_format": "off"}).start()
ready = time.perf_counter() - started
server.stop()
print(ready)
"""


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def summary(label: str, seconds: list[float]) -> str:
    ms = sorted(value * 1000 for value in seconds)
    return f"{label:<58} median {statistics.median(ms):6.0f} ms  (min {ms[0]:.0f}, max {ms[-1]:.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    env = {name: value for name, value in os.environ.items() if not name.startswith("T4B_")}
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        plain, sandbox, cache = root / "plain", root / "sandbox", root / "cache"
        for folder, test in ((plain, PLAIN_TEST), (sandbox, SANDBOX_TEST)):
            folder.mkdir()
            (folder / "test_one.py").write_text(test)
        (sandbox / "pytest.ini").write_text(f"[pytest]\ntap4book_now = {NOW}\n")
        env_sandbox = {**env, "T4B_CACHE_DIR": str(cache)}
        subprocess.run([*pytest, str(sandbox)], env=env_sandbox, check=True, capture_output=True)  # warms the cache

        with_plugin, without, imports = [], [], []
        for _ in range(runs):  # interleaved, so that a busy moment of the machine hits both alike
            with_plugin.append(timed([*pytest, "--co"], plain, env))
            without.append(timed([*pytest, "--co", "-p", "no:tap4book_mock"], plain, env))
            out = subprocess.run(
                [sys.executable, "-c", PLUGIN_IMPORT], cwd=plain, env=env, check=True, capture_output=True
            )
            imports.append(float(out.stdout.decode().split()[-1]))
        starts, sessions = [], []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", SERVER_START, NOW, str(cache)],
                cwd=plain,
                env=env,
                check=True,
                capture_output=True,
            )
            starts.append(float(out.stdout.decode().split()[-1]))
            sessions.append(timed(pytest, sandbox, env_sandbox))

        where = subprocess.run(
            [sys.executable, "-c", "import mockserver; print(mockserver.__file__)"],
            cwd=plain,
            env=env,
            text=True,
            check=True,
            capture_output=True,
        ).stdout.strip()
    print(f"mockserver from {Path(where).parent}, Python {sys.version.split()[0]}, {runs} runs each")
    print(summary("pytest --co, no fixture used, plugin loaded", with_plugin))
    print(summary("pytest --co, no fixture used, -p no:tap4book_mock", without))
    delta = statistics.median(with_plugin) - statistics.median(without)
    print(f"{'the plugin costs every pytest run (difference of medians)':<58} {delta * 1000:+13.0f} ms")
    print(summary("import mockserver.pytest_plugin (pytest already loaded)", imports))
    print(summary("sandbox server: fresh process to ready (SandboxServer)", starts))
    print(summary("pytest run of one test using tap4book (start to exit)", sessions))


if __name__ == "__main__":
    main()
