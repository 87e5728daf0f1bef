"""A real sandbox server for test suites (the pytest plugin uses it), and the handle a test gets on its tenant.

``SandboxServer`` runs ``tap4book-mock serve --port 0`` in a child process: the server integrators run in
production (granian), so that every documented behaviour holds in tests too, the network faults included
(``connection_reset`` is a TCP reset, ``truncated_body`` a short body: werkzeug's server in a thread could do
neither), and the test process imports neither Flask nor the app. It is ready when the child prints its ready
line; it stops on ``stop()``, and on its own when the test process dies (it watches its stdin, a pipe from
us). docs/pytest-plugin.md#the-server says why a child process, and what it costs.

Standard library only (and our stdlib client): the pytest plugin loads this module in every test run that uses
a fixture.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from typing import IO, Any

from mockserver.client import SandboxClient

START_TIMEOUT = 60.0  # a first start generates the dataset (a few seconds; more at a large --scale)
STOP_TIMEOUT = 10.0  # the server lets requests in flight finish for 5 s (server.KILL_TIMEOUT), then exits
#: Variables of the shell that would place the server somewhere shared: the plugin's server is private to its
#: test process (each xdist worker has its own), so these come from the settings or not at all.
PLACEMENT_VARIABLES = ("T4B_HOST", "T4B_PORT", "T4B_DATA_DIR", "T4B_READY_FILE")


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be started or reached; the message is one line that says why."""


class SandboxServer:
    """``with SandboxServer({"now": ...}) as server: server.url``"""

    def __init__(
        self,
        settings: Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.settings = {"log_format": "off", **(settings or {})}
        self.host, self.port, self.start_timeout = host, port, start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the sandbox server is not started")
        return self._url

    def start(self) -> SandboxServer:
        """Start the child and wait for its ready line; SandboxUnavailable (one line) if it cannot start."""
        environ = child_environment(self.settings, os.environ)
        # Where the child says why if it cannot start; kept open for the server's life, closed by stop().
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self._process = subprocess.Popen(
            [sys.executable, "-m", "mockserver.testing", "--host", self.host, "--port", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=environ,
        )
        try:
            self._url = json.loads(self._ready_line())["url"]
        except BaseException:
            self.stop()
            raise
        return self

    def _ready_line(self) -> str:
        process = self._process
        assert process is not None and process.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            readable, _, _ = select.select([process.stdout], [], [], 0.05)
            if readable:
                line = process.stdout.readline().decode("utf-8", "replace")
                if line.startswith("{"):
                    return line
            if process.poll() is not None:
                raise SandboxUnavailable(f"the sandbox did not start: {self._last_words()}")
        raise SandboxUnavailable(f"the sandbox did not print its ready line within {self.start_timeout:.0f} s")

    def _last_words(self) -> str:
        """The last line the child wrote on stderr (the command says why it stops in one line)."""
        assert self._stderr is not None
        self._stderr.seek(0)
        lines = [line.strip() for line in self._stderr.read().decode("utf-8", "replace").splitlines()]
        said = [line for line in lines if line]
        return said[-1] if said else f"exit status {self._process.returncode if self._process else '?'}"

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self._url = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def default_token(self) -> str:
        return default_token(self.settings)


def default_token(settings: Mapping[str, Any]) -> str:
    """The default account's access token, from the accounts file a server with these settings uses."""
    from mockserver.auth import AccountBook
    from mockserver.config import Config

    return AccountBook.load(Config.load(settings).accounts_file).default.token


def child_environment(settings: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """The child's environment: the shell's T4B_* variables underneath (as for any server), less those that
    place it (PLACEMENT_VARIABLES), then the settings as T4B_* variables. Checked here first, so that a bad
    setting is one line naming it rather than a child that exits."""
    from mockserver.clock import iso
    from mockserver.config import Config, ConfigError

    try:
        Config.load(settings, environ)
    except ConfigError as exc:
        raise SandboxUnavailable(f"bad sandbox setting: {exc}") from None
    child = {name: value for name, value in environ.items() if name not in PLACEMENT_VARIABLES}
    for name, value in settings.items():
        if name == "now" and isinstance(value, int | float) and not isinstance(value, bool):
            value = iso(value)  # epoch seconds, which the variable does not take
        child[Config.env_name(name)] = _as_text(value)
    return child


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return "" if value is None else str(value)


def check_sandbox(url: str, admin_token: str | None = None, timeout: float = 5.0) -> None:
    """Return if ``url`` is a ready sandbox, else raise SandboxUnavailable saying why in one line."""
    client = SandboxClient(url, admin_token=admin_token, timeout=timeout)
    try:
        reply = client.request("GET", "/__mock/ready", scoped=False)
    except ValueError:
        raise SandboxUnavailable(f"{url!r} is not a URL such as http://127.0.0.1:8080") from None
    except OSError as exc:
        reason = getattr(exc, "reason", exc)
        said = getattr(reason, "strerror", None) or str(reason)
        raise SandboxUnavailable(f"no sandbox answers at {url}: {said}") from None
    try:
        ready = reply.json()["data"]["ready"] is True
    except (ValueError, KeyError, TypeError):
        ready = False
    if not ready:
        kind = reply.headers.get("Content-Type", "no content type")
        raise SandboxUnavailable(
            f"{url} is not a ready TAP4BOOK sandbox: GET /__mock/ready answered HTTP {reply.status} ({kind})"
        )


class SandboxTenant(SandboxClient):
    """What a test gets: a client bound to one tenant of a running sandbox, plus its URL and token."""

    def __init__(self, url: str, token: str, tenant: str | None = None, admin_token: str | None = None) -> None:
        super().__init__(url, token=token, tenant=tenant, admin_token=admin_token)

    @property
    def headers(self) -> dict[str, str]:
        """The headers your own HTTP client should send to land in this test's tenant."""
        return self.identity_headers()


def _exit_when_the_parent_does() -> None:
    """Our stdin is a pipe whose other end only the test process holds: it reads EOF when that process ends,
    however it ends (a crash, SIGKILL, Ctrl-C twice), and then the server stops as on SIGTERM."""
    while os.read(0, 4096):
        pass
    os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":  # the child of SandboxServer: `tap4book-mock serve` that ends with its parent
    threading.Thread(target=_exit_when_the_parent_does, name="tap4book-parent-watch", daemon=True).start()
    from mockserver.cli import main

    sys.exit(main(["serve", *sys.argv[1:]]))
