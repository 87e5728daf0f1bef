"""The pytest plugin, run the way an integrator runs it: in a separate pytest, alone and under xdist."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "test_booking_example.py"

pytestmark = pytest.mark.slow


def test_documented_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=EXAMPLE.read_text())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_workers_are_isolated_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=EXAMPLE.read_text())
    # The same module twice: both workers book the same first free slot in their own tenant.
    pytester.makepyfile(test_again=EXAMPLE.read_text())
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)


def test_settings_from_ini_options_and_the_in_process_client(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntap4book_seed = 7\ntap4book_now = 2025-12-24T10:00:00+01:00\n")
    pytester.makepyfile(
        test_settings="""
        def test_clock_and_seed(tap4book, tap4book_client):
            assert tap4book.clock()["now"] == "2025-12-24T10:00:00+01:00"
            body = tap4book_client.get("/api/clients?debug=true&per_page=5").get_json()
            assert body["timestamp"] == "2025-12-24T10:00:00+01:00"
            assert tap4book.get("/api/").status_code == 200
            assert tap4book.headers["X-Mock-Tenant"].startswith("pytest-")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_an_external_server_can_be_used(pytester: pytest.Pytester) -> None:
    from server import running

    with running() as (_, url):
        pytester.makepyfile(
            test_external=f"""
            def test_external(tap4book):
                assert tap4book.url == "{url}"
                assert tap4book.get("/api/calendars").json()["pagination"]["total"] == 5
            """
        )
        result = pytester.runpytest_subprocess("--tap4book-url", url, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_example_passes_against_a_shared_server_on_the_real_clock(pytester: pytest.Pytester) -> None:
    """The example's `now` setting applies to its tenant on a server it did not start, and its tenant is
    deleted at the end of the session."""
    from server import running

    from mockserver.client import SandboxClient

    with running("--now", "real") as (_, url):
        pytester.makepyfile(test_example=EXAMPLE.read_text())
        result = pytester.runpytest_subprocess("--tap4book-url", url, "-p", "no:cacheprovider")
        tenants = [row["tenant"] for row in SandboxClient(url).tenants()]
    result.assert_outcomes(passed=4)
    assert not [name for name in tenants if "pytest-" in name]
