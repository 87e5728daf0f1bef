"""pytest plugin (entry point ``pytest11``): fixtures for testing an integration against the sandbox.

* ``tap4book_server`` (session): the base URL of a real sandbox (``tap4book-mock serve`` in a child process, on
  a free port), or of the server at ``--tap4book-url`` / ``T4B_URL`` when one is already running (a CI service
  container). Either one is checked once: if it cannot start or be reached, the session stops with one line
  saying why.
* ``tap4book`` (function): a ``mockserver.testing.SandboxTenant`` on a freshly reset tenant: ``url``, ``token``,
  ``headers``, ``get/post/put/delete``, and the control plane (``add_rule``, ``freeze``, ``advance``,
  ``journal``, ``load_scenario``...). Each xdist worker and each test uses its own tenant, so tests never see
  each other, even on one shared server. When a test that used it fails, its report gets a section with the
  tenant's last calls (``tap4book journal``).
* ``tap4book_app`` / ``tap4book_client`` (function): a fresh in-process app and its Flask test client.
* ``tap4book_settings`` (session): the sandbox settings (seed, clock, environment...); override the fixture,
  or set the ``tap4book_seed`` / ``tap4book_now`` / ``tap4book_environment`` ini options or ``T4B_*`` variables.

pytest loads every installed plugin on every run, so this module imports nothing but pytest and the standard
library: the server, Flask and the app are loaded by the fixtures that need them, when a test asks for one.
"""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mockserver.testing import SandboxServer, SandboxTenant

_SERVERS: list[SandboxServer] = []
#: How many of a failing test's calls its report shows (the most recent).
REPORTED_CALLS = 20
REPORT_SECTION = "tap4book journal"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tap4book", "TAP4BOOK sandbox")
    group.addoption("--tap4book-url", default=None, help="use this running sandbox instead of starting one")
    parser.addini("tap4book_seed", "dataset seed of the sandbox started for the tests", default=None)
    parser.addini(
        "tap4book_now", "freeze the sandbox clock at this ISO-8601 instant (no offset: Paris time)", default=None
    )
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
def tap4book_server(
    request: pytest.FixtureRequest, pytestconfig: pytest.Config, tap4book_settings: dict[str, Any]
) -> Iterator[str]:
    """The base URL of the sandbox for this test session (one per xdist worker)."""
    from mockserver.testing import SandboxServer, check_sandbox

    external = pytestconfig.getoption("tap4book_url") or os.environ.get("T4B_URL")
    if external:
        failure = _failure(lambda: check_sandbox(external, admin_token=os.environ.get("T4B_ADMIN_TOKEN")))
        if failure:
            _stop_session(request, f"--tap4book-url / T4B_URL: {failure}")
        yield external.rstrip("/")
        return
    server = SandboxServer(tap4book_settings)
    failure = _failure(server.start)
    if failure:
        _stop_session(request, failure)
    _SERVERS.append(server)
    try:
        yield server.url
    finally:
        server.stop()
        _SERVERS.remove(server)


def _failure(action: Callable[[], object]) -> str | None:
    """None when ``action`` works, else its one-line reason (raised outside the ``except``, the test's error
    then has no "during handling of the above exception" chain)."""
    from mockserver.testing import SandboxUnavailable

    try:
        action()
    except SandboxUnavailable as exc:
        return str(exc)
    return None


def _stop_session(request: pytest.FixtureRequest, reason: str) -> None:
    """Every test that needs the sandbox would fail the same way: this one errors in one line saying why, and
    the session stops there (under xdist, each worker stops after its first)."""
    request.session.shouldstop = f"tap4book: {reason}"
    pytest.fail(f"tap4book: {reason}", pytrace=False)


@pytest.fixture(scope="session")
def tap4book_token(tap4book_settings: dict[str, Any]) -> str:
    """The default account's access token (from the accounts file the server uses)."""
    from mockserver.testing import default_token

    return default_token(tap4book_settings)


def _tenant_name() -> str:
    """Unique to this test process: xdist workers, and CI jobs sharing one server, never meet."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"pytest-{worker}-{os.getpid()}"


@pytest.fixture(scope="session")
def _tap4book_tenant(tap4book_server: str, tap4book_token: str) -> Iterator[SandboxTenant]:
    """This test process's tenant; deleted at the end, so that runs against a shared server leave nothing."""
    from mockserver.client import ControlError
    from mockserver.testing import SandboxTenant

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
    from mockserver.app import create_app

    return create_app(tap4book_settings)


@pytest.fixture
def tap4book_client(tap4book_app: Any) -> Any:
    """The Flask test client of ``tap4book_app``."""
    return tap4book_app.test_client()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """A failing test that used ``tap4book`` gets its tenant's last calls in its report: what the code under
    test sent, and what the sandbox answered and why."""
    outcome = yield
    report = outcome.get_result()
    tenant = getattr(item, "funcargs", {}).get("tap4book")
    if report.failed and report.when in ("setup", "call") and tenant is not None:
        report.sections.append(_journal_section(tenant))


def _journal_section(tenant: SandboxTenant) -> tuple[str, str]:
    from mockserver.client import ControlError

    try:
        entries = tenant.journal(limit=REPORTED_CALLS)
        total = tenant.journal_count() if len(entries) == REPORTED_CALLS else len(entries)
    except (OSError, ControlError) as exc:
        return REPORT_SECTION, f"(the journal could not be read: {exc})"
    if not entries:
        return REPORT_SECTION, "(no calls reached the sandbox in this test)"
    lines = [_call_line(entry) for entry in entries]  # the newest, oldest first: as they happened
    if total > len(entries):
        lines.insert(0, f"({total - len(entries)} earlier calls not shown)")
    return f"{REPORT_SECTION} (tenant {tenant.tenant}, oldest first)", "\n".join(lines)


def _call_line(entry: dict[str, Any]) -> str:
    """``GET /api/slots?date_from=15/06/2025 -> 400 INVALID_DATE_FORMAT: hint``; a fault shows its name."""
    status, code, fault = entry.get("status"), entry.get("error_code"), entry.get("fault")
    outcome = str(status) if status else "no answer"
    if code and code != "SUCCESS":
        outcome += f" {code}"
    if fault:
        outcome += f" ({fault})"
    query = urllib.parse.urlencode(entry.get("query") or {}, doseq=True, safe="/:,*@")
    line = f"{entry.get('method')} {entry.get('path')}{'?' + query if query else ''} -> {outcome}"
    return f"{line}: {entry['hint']}" if entry.get("hint") else line


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Safety net: stop any server a crashed fixture left running."""
    for server in list(_SERVERS):
        server.stop()
