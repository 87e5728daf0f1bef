"""pytest plugin (entry point ``pytest11``): fixtures for testing an integration against the sandbox.

* ``tap4book_server`` (session): a real sandbox server on a free port in a background thread, or the server
  at ``--tap4book-url`` / ``T4B_URL`` when one is already running (a CI service container).
* ``tap4book`` (function): a ``mockserver.testing.SandboxTenant`` on a freshly reset tenant: ``url``, ``token``,
  ``headers``, ``get/post/put/delete``, and the control plane (``add_rule``, ``freeze``, ``advance``,
  ``journal``, ``load_scenario``...). Each xdist worker and each test uses its own tenant, so tests never see
  each other, even on one shared server.
* ``tap4book_app`` / ``tap4book_client`` (function): a fresh in-process app and its Flask test client.
* ``tap4book_settings`` (session): the sandbox settings (seed, clock, environment...); override the fixture,
  or set the ``tap4book_seed`` / ``tap4book_now`` / ``tap4book_environment`` ini options or ``T4B_*`` variables.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.auth import AccountBook
from mockserver.client import ControlError
from mockserver.config import Config
from mockserver.testing import SandboxServer, SandboxTenant

_SERVERS: list[SandboxServer] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tap4book", "TAP4BOOK sandbox")
    group.addoption("--tap4book-url", default=None, help="use this running sandbox instead of starting one")
    parser.addini("tap4book_seed", "dataset seed of the sandbox started for the tests", default=None)
    parser.addini("tap4book_now", "freeze the sandbox clock at this ISO-8601 instant", default=None)
    parser.addini("tap4book_environment", "staging or production", default=None)


@pytest.fixture(scope="session")
def tap4book_settings(pytestconfig: pytest.Config) -> dict[str, Any]:
    """Settings for the sandbox server; T4B_* environment variables apply underneath these."""
    settings: dict[str, Any] = {"log_format": "off"}
    for name in ("seed", "now", "environment"):
        value = pytestconfig.getini(f"tap4book_{name}")
        if value:
            settings[name] = value
    return settings


@pytest.fixture(scope="session")
def tap4book_server(pytestconfig: pytest.Config, tap4book_settings: dict[str, Any]) -> Iterator[str]:
    """The base URL of the sandbox for this test session (one per xdist worker)."""
    external = pytestconfig.getoption("tap4book_url") or os.environ.get("T4B_URL")
    if external:
        yield external.rstrip("/")
        return
    server = SandboxServer(tap4book_settings).start()
    _SERVERS.append(server)
    try:
        yield server.url
    finally:
        server.stop()
        _SERVERS.remove(server)


@pytest.fixture(scope="session")
def tap4book_token(tap4book_settings: dict[str, Any]) -> str:
    """The default account's access token (from the accounts file the server uses)."""
    return AccountBook.load(Config.load(tap4book_settings).accounts_file).default.token


def _tenant_name() -> str:
    """Unique to this test process: xdist workers, and CI jobs sharing one server, never meet."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"pytest-{worker}-{os.getpid()}"


@pytest.fixture(scope="session")
def _tap4book_tenant(tap4book_server: str, tap4book_token: str) -> Iterator[SandboxTenant]:
    """This test process's tenant; deleted at the end, so that runs against a shared server leave nothing."""
    tenant = SandboxTenant(
        tap4book_server, tap4book_token, tenant=_tenant_name(), admin_token=os.environ.get("T4B_ADMIN_TOKEN")
    )
    yield tenant
    with contextlib.suppress(OSError, ControlError):
        tenant.delete_tenant()


@pytest.fixture
def tap4book(_tap4book_tenant: SandboxTenant, tap4book_settings: dict[str, Any]) -> SandboxTenant:
    """A sandbox tenant reset to the seeded dataset, with its rules and journal cleared, on the clock of the
    settings (``now``: frozen there, the data built around it, on a shared server too), else the server's."""
    now = tap4book_settings.get("now")
    if now:
        _tap4book_tenant.freeze(str(now))
        _tap4book_tenant.reset(keep_clock=True)
    else:
        _tap4book_tenant.reset(keep_clock=False)
    return _tap4book_tenant


@pytest.fixture
def tap4book_app(tap4book_settings: dict[str, Any]) -> Any:
    """A fresh in-process sandbox app (no socket): fastest for tests that only need the API's answers."""
    return create_app(tap4book_settings)


@pytest.fixture
def tap4book_client(tap4book_app: Any) -> Any:
    """The Flask test client of ``tap4book_app``."""
    return tap4book_app.test_client()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Safety net: stop any server a crashed fixture left running."""
    for server in list(_SERVERS):
        server.stop()
