"""The live console, /__mock/console (mockserver/console/): its page and files, then the page itself in a real
browser (Playwright driving Debian's chromium) against a real ``tap4book-mock serve``.

The browser tests assert on the DOM, never on pixels, and save a screenshot of each main view under
tests/artifacts/console/ (git-ignored) for a reviewer; ``demo.png`` there is the view docs/console.png shows
(copy it over to refresh the README's picture).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DEFAULT_TOKEN, NOW
from flask.testing import FlaskClient

from mockserver import console
from mockserver.errors import ALL_CODES

ARTIFACTS = Path(__file__).parent / "artifacts" / "console"
STATIC = Path(console.__file__).parent / "static"

# -- the page and its files (no browser) -----------------------------------------------------------


def test_the_page_loads_only_its_own_files(client: FlaskClient) -> None:
    response = client.get("/__mock/console")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "script-src 'self'" in policy
    page = response.get_data(as_text=True)
    assert "://" not in page and "//" not in page, "a CDN or another origin"
    referenced = [url for url in re.findall(r'(?:src|href)="([^"]+)"', page) if not url.startswith("#")]
    assert referenced and all(url.startswith("/__mock/console/") for url in referenced)
    # Every module the page imports is in the allow-list, by a relative URL (no network, no build step).
    imported = set()
    for name in (n for n in console.ASSETS if n.endswith(".js")):
        source = (STATIC / name).read_text(encoding="utf-8")
        assert "://" not in source, f"{name} names another origin"
        imported.update(re.findall(r'from "\./([^"]+)"', source))
    assert imported <= set(console.ASSETS)
    assert {url.rsplit("/", 1)[1] for url in referenced} | imported == set(console.ASSETS), "an unused file"
    assert sorted(path.name for path in STATIC.iterdir()) == sorted([*console.ASSETS, console.PAGE])


def test_the_page_offers_every_code_a_rule_can_answer(client: FlaskClient) -> None:
    page = client.get("/__mock/console").get_data(as_text=True)
    codes = json.loads(re.search(r'<script type="application/json" id="error-codes">(.*?)</script>', page).group(1))
    assert codes == [[code, error.status] for code, error in ALL_CODES.items()]


@pytest.mark.parametrize("name", sorted(console.ASSETS))
def test_each_file_is_served_with_its_type_and_an_etag(client: FlaskClient, name: str) -> None:
    response = client.get(f"/__mock/console/{name}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == console.ASSETS[name]
    assert response.get_data() == (STATIC / name).read_bytes()
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get(f"/__mock/console/{name}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


@pytest.mark.parametrize(
    "url", ["/__mock/console/console.html", "/__mock/console/..%2F__init__.py", "/__mock/console/a/b.js"]
)
def test_only_the_consoles_files_are_served(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert (response.status_code, response.get_json()["error_code"]) == (404, "ENDPOINT_NOT_FOUND")


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "admin_token": "s3cret"}])
def test_the_page_needs_no_admin_token_but_what_it_calls_does(client: FlaskClient) -> None:
    assert client.get("/__mock/console").status_code == 200
    assert client.get("/__mock/console/console.js").status_code == 200
    assert client.get("/__mock/about").status_code == 401


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "control_api": False}])
@pytest.mark.parametrize("url", ["/__mock/console", "/__mock/console/console.js"])
def test_without_the_control_api_there_is_no_console(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert (response.status_code, response.get_json()["error_code"]) == (404, "ENDPOINT_NOT_FOUND")


# -- in a real browser -------------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: 4 workers: an open journal stream holds a sync worker for as long as it is open (and up to a heartbeat,
#: 5 s, after the page closes it), and the API and the console's other calls need the rest.
SERVE = ("--workers", "4")
LIVE_SECONDS = 2.0  # the console must show a change within this


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    """One Chromium for the module, on a fresh profile; each test opens its own page."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium found (Debian: apt-get install chromium); the console's browser tests need one")
    with playwright_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 800},
        )
        context.set_default_timeout(10_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    """A real server shared by the tests that need no special flags; each test uses tenants of its own."""
    from server import running

    with running(*SERVE) as (_process, url):
        yield url


class Page:
    """A console page, with what the tests need to read it; fails the test on any script error."""

    def __init__(self, context: Any, url: str) -> None:
        self.url = url
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self, tenant: str | None = None, ready: bool = True) -> Any:
        response = self.page.goto(self.url + "/__mock/console" + (f"#tenant={tenant}" if tenant else ""))
        if ready:
            self.page.wait_for_selector("body[data-ready=true]")
        return response

    def slot(self, slot_id: int) -> Any:
        return self.page.locator(f'#grid [data-slot-id="{slot_id}"]')

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    def close(self) -> None:
        self.page.close()
        assert not self.errors, f"script errors in the console: {self.errors}"


@pytest.fixture
def console_page(browser_context: Any, sandbox: str) -> Iterator[Page]:
    page = Page(browser_context, sandbox)
    yield page
    page.close()


def http(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """A call as an integrator's code makes it (not through the browser): (status, JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"null")


def api_headers(tenant_name: str) -> dict[str, str]:
    return {"Access-Token": DEFAULT_TOKEN, "X-Mock-Tenant": tenant_name}


def free_slot(url: str, tenant: str) -> int:
    """A free slot of calendar 1 in the tenant's current week (what the console shows first)."""
    status, week = http(f"{url}/__mock/week?calendar_id=1&tenant={tenant}")
    assert status == 200
    return next(slot["slot_id"] for slot in week["data"]["slots"] if slot["state"] == "free")


def book(url: str, tenant_name: str, slot_id: int, first: str = "Jean", last: str = "Dupont") -> dict[str, Any]:
    status, body = http(
        f"{url}/api/appointment",
        "POST",
        {
            "calendar_id": 1,
            "slot_id": slot_id,
            "client_firstname": first,
            "client_lastname": last,
            "client_email": unicodedata.normalize("NFKD", f"{first}.{last}@example.com".lower())
            .encode("ascii", "ignore")
            .decode(),
            "client_phone": "+33123456789",
        },
        api_headers(tenant_name),
    )
    assert status == 201 or status == 200, body
    return body["data"]


@pytest.mark.slow
def test_a_booking_through_the_api_turns_its_slot_full_in_the_grid(console_page: Page) -> None:
    url = console_page.url
    console_page.open("sandbox/c-book")
    slot_id = free_slot(url, "sandbox/c-book")
    assert console_page.slot(slot_id).get_attribute("data-state") == "free"
    console_page.shot("week")

    book(url, "c-book", slot_id, "Amélie", "Poulain")
    booked = time.monotonic()
    console_page.page.wait_for_selector(
        f'#grid [data-slot-id="{slot_id}"][data-state="full"]', timeout=LIVE_SECONDS * 1000
    )
    assert time.monotonic() - booked <= LIVE_SECONDS

    console_page.slot(slot_id).click()
    detail = console_page.page.locator("#slot-detail")
    assert "Amélie Poulain" in detail.inner_text()
    assert detail.locator("[data-status]").last.get_attribute("data-status") == "pending"
    assert "full" in detail.inner_text()
    # The booking is in the feed as well, newest first.
    first = console_page.page.locator("#feed-list li[data-entry-id] button.entry").first
    first.wait_for()
    assert "POST" in first.inner_text() and "/api/appointment" in first.inner_text()
    console_page.shot("slot")


@pytest.mark.slow
def test_a_preset_toggled_in_the_console_fails_the_api_and_untoggling_restores_it(console_page: Page) -> None:
    url = console_page.url
    console_page.open("sandbox/c-maint")
    health = f"{url}/api/health"
    assert http(health, headers=api_headers("c-maint"))[0] == 200

    switch = console_page.page.get_by_role("switch", name=re.compile("^maintenance"))
    assert switch.get_attribute("aria-checked") == "false"
    switch.click()
    console_page.page.wait_for_selector('[data-preset="maintenance"][aria-checked="true"]')
    status, body = http(health, headers=api_headers("c-maint"))
    assert (status, body["error_code"]) == (500, "INTERNAL_ERROR")
    assert http(health, headers=api_headers("c-other"))[0] == 200, "another tenant is not in maintenance"
    rule = console_page.page.locator("#rule-list li.rule").first
    rule.wait_for()
    assert "maintenance" in rule.inner_text()
    # The health call just made hit the rule: the list shows it (it re-reads rules when a rule answers).
    console_page.page.wait_for_selector('#rule-list li.rule .hits:not([data-hits="0"])')
    console_page.shot("presets")

    switch.click()
    console_page.page.wait_for_selector('[data-preset="maintenance"][aria-checked="false"]')
    assert http(health, headers=api_headers("c-maint"))[0] == 200
    assert console_page.page.locator("#rule-list li.rule").count() == 0


@pytest.mark.slow
def test_the_feed_shows_a_call_with_its_token_masked_and_its_hint(console_page: Page) -> None:
    url = console_page.url
    console_page.open("sandbox/c-feed")
    query = f"access_token={DEFAULT_TOKEN}&calendar_id=1&date_from=2025-13-01&date_to=2025-06-10"
    status, body = http(f"{url}/api/slots?{query}", headers={"X-Mock-Tenant": "c-feed"})
    assert (status, body["error_code"]) == (400, "INVALID_DATE_FORMAT")
    _, journal = http(f"{url}/__mock/journal?tenant=sandbox/c-feed&path=/api/slots")
    hint = journal["data"][-1]["hint"]
    assert hint

    entry = console_page.page.locator("#feed-list button.entry", has_text="/api/slots").first
    entry.wait_for(timeout=LIVE_SECONDS * 1000 + 1000)
    assert "400" in entry.inner_text() and "INVALID_DATE_FORMAT" in entry.inner_text()
    entry.click()
    detail = console_page.page.locator("#entry-detail")
    assert detail.locator(".hint-text").inner_text() == hint
    shown_query = detail.locator("table.pairs").first.inner_text()
    assert "access_token" in shown_query and "2025-13-01" in shown_query
    assert "INVALID_DATE_FORMAT" in detail.locator(".answer-body").inner_text()
    assert "application/json" in detail.locator(".content-type").inner_text()
    # The token is nowhere on the page: not in its text, not in its markup.
    assert DEFAULT_TOKEN not in console_page.page.content()
    assert DEFAULT_TOKEN not in console_page.page.locator("body").inner_text()
    console_page.shot("feed")

    # A hidden tab lets its stream (and the server worker it holds) go, and catches up when shown again.
    console_page.page.evaluate("sessionStorage.setItem('tap4book-mock.pause-after-ms', '50')")
    console_page.page.evaluate(SET_VISIBILITY, "hidden")
    console_page.page.wait_for_selector('#connection[data-state="paused"]')
    assert http(f"{url}/api/calendars/1", headers=api_headers("c-feed"))[0] == 200
    console_page.page.evaluate(SET_VISIBILITY, "visible")
    console_page.page.locator("#feed-list button.entry", has_text="/api/calendars/1").wait_for()
    assert console_page.page.locator("#feed-list button.entry", has_text="/api/slots").count() == 1


SET_VISIBILITY = """(state) => {
    Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
    document.dispatchEvent(new Event("visibilitychange"));
}"""


@pytest.mark.slow
def test_a_tenant_never_shows_another_tenants_data(console_page: Page) -> None:
    url = console_page.url
    for tenant in ("sandbox/c-a", "sandbox/c-b"):
        assert http(f"{url}/__mock/reset", "POST", {"tenant": tenant})[0] == 200
    slot_id = free_slot(url, "sandbox/c-a")
    appointment = book(url, "c-a", slot_id, "Zoé", "Lenoir")["appointment"]

    console_page.open("sandbox/c-a")
    assert console_page.slot(slot_id).get_attribute("data-state") == "full"
    console_page.page.locator("#feed-list button.entry", has_text="/api/appointment").first.wait_for()

    console_page.page.select_option("#tenant", "sandbox/c-b")
    console_page.page.wait_for_selector('#grid[data-tenant="sandbox/c-b"] [data-slot-id]')
    console_page.page.wait_for_selector(f'#grid [data-slot-id="{slot_id}"][data-state="free"]')
    console_page.slot(slot_id).click()
    assert "No appointments" in console_page.page.locator("#slot-detail").inner_text()
    time.sleep(1.0)  # give a stray entry of tenant A time to arrive, if the feed were not filtered
    page_text = console_page.page.locator("body").inner_text()
    assert "Zoé Lenoir" not in page_text and str(appointment["appointment_id"]) not in page_text
    assert console_page.page.locator("#feed-list button.entry").count() == 0
    assert console_page.page.locator("#about-account").inner_text() == "sandbox"
    console_page.shot("tenant-b")


@pytest.mark.slow
def test_with_an_admin_token_the_page_asks_for_it_and_then_works(browser_context: Any) -> None:
    from server import running

    with running(*SERVE, "--admin-token", "s3cret") as (_process, url):
        page = Page(browser_context, url)
        try:
            page.open("sandbox/default", ready=False)
            dialog = page.page.locator("dialog#login")
            dialog.wait_for(state="visible")
            page.shot("login")
            field = page.page.get_by_role("textbox", name="Admin token")
            field.fill("wrong")
            page.page.keyboard.press("Enter")
            page.page.wait_for_function("() => document.querySelector('#login-error').textContent.includes('refused')")
            field.fill("s3cret")
            page.page.get_by_role("button", name="Unlock").click()
            page.page.wait_for_selector("body[data-ready=true]")
            assert not dialog.is_visible()
            assert page.page.locator("#grid [data-slot-id]").count() > 0
            assert page.page.evaluate("sessionStorage.getItem('tap4book-mock.admin-token')") == "s3cret"
            # The stream sends the token too: a call shows up live.
            assert http(f"{url}/api/calendars", headers={"Access-Token": DEFAULT_TOKEN})[0] == 200
            page.page.locator("#feed-list button.entry", has_text="/api/calendars").first.wait_for()
            assert page.page.locator("#connection").get_attribute("data-state") == "live"
        finally:
            page.close()


@pytest.mark.slow
def test_without_the_control_api_the_console_is_gone(browser_context: Any) -> None:
    from server import running

    with running(*SERVE, "--no-control-api") as (_process, url):
        page = Page(browser_context, url)
        try:
            response = page.open(ready=False)
            assert response.status == 404
            assert "ENDPOINT_NOT_FOUND" in page.page.content()
        finally:
            page.close()


@pytest.mark.slow
def test_the_demo_view(console_page: Page) -> None:
    """A week with bookings, the feed with a failure and its hint: tests/artifacts/console/demo.png, the
    picture docs/console.png shows."""
    url = console_page.url
    tenant = "sandbox/c-demo"
    console_page.open(tenant)
    for first, last in (("Camille", "Martin"), ("Hugo", "Bernard")):
        book(url, "c-demo", free_slot(url, tenant), first, last)
    slot_id = free_slot(url, tenant)
    booked = book(url, "c-demo", slot_id, "Léa", "Moreau")["appointment"]
    http(f"{url}/api/appointment/{booked['appointment_id']}", "PUT", {"status": "confirmed"}, api_headers("c-demo"))
    console_page.page.select_option("#fail-code", "SLOT_UNAVAILABLE")
    console_page.page.get_by_role("button", name="Fail next call").click()
    console_page.page.locator("#rule-list li.rule").first.wait_for()
    status, _ = http(
        f"{url}/api/appointment",
        "POST",
        {"calendar_id": 1, "slot_id": free_slot(url, tenant), "client_firstname": "Paul"},
        api_headers("c-demo"),
    )
    assert status == 409
    http(f"{url}/api/calendar?access_token={DEFAULT_TOKEN}", headers={"X-Mock-Tenant": "c-demo"})
    failure = console_page.page.locator("#feed-list button.entry", has_text="SLOT_UNAVAILABLE").first
    failure.wait_for()
    console_page.page.wait_for_selector(f'#grid [data-slot-id="{slot_id}"][data-state="full"]')
    console_page.page.keyboard.press("Escape")  # the last message goes
    console_page.slot(slot_id).click()
    failure.click()
    assert console_page.page.locator("#entry-detail .hint-text").inner_text()
    console_page.page.mouse.move(0, 0)  # no hover highlight in the picture
    console_page.shot("demo")


# -- issue 21 item 4: what a newcomer needs from the console ------------------------------------------


def open_fresh(page: Page, tenant: str) -> None:
    """The console on a tenant just reset (its seeded data, no rules, an empty journal)."""
    assert http(f"{page.url}/__mock/reset", "POST", {"tenant": tenant})[0] == 200
    page.open(tenant)


def unauth_count(page: Page) -> int:
    return int(page.page.locator("#unauth").get_attribute("data-count") or "0")


@pytest.mark.slow
def test_calls_without_valid_credentials_have_a_view_next_to_the_tenants(console_page: Page) -> None:
    url = console_page.url
    console_page.open("sandbox/c-unauth")
    badge = console_page.page.locator("#unauth")
    badge.wait_for()
    before = unauth_count(console_page)
    # The most common first mistake: a token with a character too many (it holds a real account's token whole).
    wrong = DEFAULT_TOKEN + "0"
    status, body = http(
        f"{url}/api/calendars?probe=unauth", headers={"Access-Token": wrong, "X-Mock-Tenant": "c-unauth"}
    )
    assert (status, body["error_code"]) == (401, "AUTH_INVALID")
    console_page.page.wait_for_function(
        f"() => Number(document.querySelector('#unauth').dataset.count) > {before}", timeout=5000
    )
    assert re.search(r"Calls without valid credentials \(\d+\)", console_page.page.locator("#tenant").inner_text())
    # The tenant's own feed does not show it: it belongs to no tenant.
    assert console_page.page.locator("#feed-list button.entry", has_text="/api/calendars").count() == 0

    badge.click()
    console_page.page.wait_for_selector('body[data-view="unauthenticated"]')
    assert console_page.page.locator("#week").is_hidden() and console_page.page.locator("#controls").is_hidden()
    assert badge.get_attribute("aria-pressed") == "true"
    entry = console_page.page.locator("#feed-list button.entry", has_text="/api/calendars").first
    entry.wait_for()
    assert "401" in entry.inner_text() and "AUTH_INVALID" in entry.inner_text()
    entry.click()
    detail = console_page.page.locator("#entry-detail")
    assert "65" in detail.locator(".hint-text").inner_text(), "the hint says what is wrong with the token"
    assert DEFAULT_TOKEN[:4] + "…" in detail.inner_text()
    assert DEFAULT_TOKEN not in console_page.page.content()
    assert DEFAULT_TOKEN not in console_page.page.locator("body").inner_text()

    # Live: a call with no token at all shows up while the view is open; an authenticated one does not.
    assert http(f"{url}/api/health", headers=api_headers("c-unauth"))[0] == 200
    assert http(f"{url}/api/slots?probe=none")[0] == 401
    console_page.page.locator("#feed-list button.entry", has_text="/api/slots").first.wait_for()
    assert console_page.page.locator("#feed-list button.entry", has_text="/api/health").count() == 0
    assert "view=unauthenticated" in console_page.page.url
    console_page.shot("unauthenticated")

    # Back to a tenant from the picker: its week and controls again.
    console_page.page.select_option("#tenant", "sandbox/c-unauth")
    console_page.page.wait_for_selector('body[data-view="tenant"] #grid [data-slot-id]')
    assert console_page.page.locator("#controls").is_visible()


@pytest.mark.slow
def test_fail_next_call_fails_the_chosen_call_and_not_a_refresh_before_it(console_page: Page) -> None:
    url, tenant = console_page.url, "sandbox/c-fail"
    open_fresh(console_page, tenant)
    assert console_page.page.locator("#fail-method").input_value() == "POST"
    assert console_page.page.locator("#fail-path").input_value() == "/api/appointment"
    console_page.page.select_option("#fail-code", "SLOT_UNAVAILABLE")
    console_page.page.get_by_role("button", name="Fail next call").click()
    rule = console_page.page.locator("#rule-list li.rule").first
    rule.wait_for()
    assert "POST /api/appointment → SLOT_UNAVAILABLE" in rule.inner_text()
    _, rules = http(f"{url}/__mock/rules?tenant={tenant}")
    made = rules["data"][0]
    assert (made["method"], made["path"], made["times"], made["error_code"]) == (
        ["POST"],
        "/api/appointment",
        1,
        "SLOT_UNAVAILABLE",
    )

    # The front end refreshes first: its GETs answer normally and leave the rule for the booking.
    assert http(f"{url}/api/calendars", headers=api_headers("c-fail"))[0] == 200
    assert http(f"{url}/api/calendars/1", headers=api_headers("c-fail"))[0] == 200
    slot_id = free_slot(url, tenant)
    status, body = http(f"{url}/api/appointment", "POST", {"calendar_id": 1, "slot_id": slot_id}, api_headers("c-fail"))
    assert (status, body["error_code"]) == (409, "SLOT_UNAVAILABLE")
    console_page.page.wait_for_selector('#rule-list li.rule .hits[data-hits="1"]')
    book(url, "c-fail", slot_id)  # once only

    # Another target: any method on a pattern.
    console_page.page.select_option("#fail-method", "any")
    console_page.page.fill("#fail-path", "/api/calendars/*")
    console_page.page.select_option("#fail-code", "INTERNAL_ERROR")
    console_page.page.get_by_role("button", name="Fail next call").click()
    console_page.page.locator("#rule-list li.rule", has_text="any /api/calendars/* → INTERNAL_ERROR").wait_for()
    assert http(f"{url}/api/calendars", headers=api_headers("c-fail"))[0] == 200
    assert http(f"{url}/api/calendars/2", headers=api_headers("c-fail"))[0] == 500


def grid_start(page: Page) -> str | None:
    return page.page.locator("#grid").get_attribute("data-start")


@pytest.mark.slow
def test_the_grid_follows_the_tenants_clock_wherever_it_is_moved_from(console_page: Page) -> None:
    url, tenant = console_page.url, "sandbox/c-clock"
    open_fresh(console_page, tenant)
    assert grid_start(console_page) == NOW[:10]

    # Frozen with rebase from the console: the grid shows the new today's week, with its slots.
    console_page.page.fill("#freeze-at", "2031-01-15T10:00")
    console_page.page.check("#rebase")
    console_page.page.get_by_role("button", name="Freeze").click()
    console_page.page.wait_for_selector('#grid[data-start="2031-01-15"] [data-slot-id]')
    assert console_page.page.locator("#grid .no-week").count() == 0
    assert "today" in console_page.page.locator("#grid .day.today").inner_text()

    # Moved by another client (a test, a script): the console sees it by itself.
    status, _ = http(f"{url}/__mock/clock/advance", "POST", {"by": "1w", "tenant": tenant, "rebase": True})
    assert status == 200
    console_page.page.wait_for_selector('#grid[data-start="2031-01-22"] [data-slot-id]', timeout=6000)
    status, _ = http(f"{url}/__mock/clock/freeze", "POST", {"at": NOW, "tenant": tenant, "rebase": True})
    assert status == 200
    console_page.page.wait_for_selector(f'#grid[data-start="{NOW[:10]}"] [data-slot-id]', timeout=6000)
    # A week the person chose stays until the clock moves: then the grid goes to the new today.
    console_page.page.get_by_role("button", name="Next week").click()
    console_page.page.wait_for_selector('#grid[data-start="2025-06-14"]')
    console_page.page.get_by_role("button", name="Advance the clock one day").click()
    console_page.page.wait_for_selector('#grid[data-start="2025-06-08"]')


@pytest.mark.slow
def test_calendars_are_listed_by_the_control_api_whatever_their_ids(console_page: Page) -> None:
    url = console_page.url
    tenant = "sandbox/c-ids"
    _, export = http(f"{url}/__mock/dataset?tenant=sandbox/default")
    dataset = export["data"]
    renumber = {2: 7, 4: 120}
    for record in (*dataset["tables"]["calendars"], *dataset["tables"]["slots"]):
        record["calendar_id"] = renumber.get(record["calendar_id"], record["calendar_id"])
    status, body = http(f"{url}/__mock/dataset?tenant={tenant}", "PUT", dataset)
    assert status == 200, body
    ids = sorted(calendar["calendar_id"] for calendar in dataset["tables"]["calendars"])
    assert ids == [1, 3, 5, 7, 120]

    answers: list[tuple[int, str]] = []
    console_page.page.on("response", lambda response: answers.append((response.status, response.url)))
    console_page.open(tenant)
    tabs = console_page.page.locator("#calendars [role=tab]")
    assert sorted(int(tab.get_attribute("data-calendar-id")) for tab in tabs.all()) == ids
    console_page.page.locator("#calendar-tab-120").click()
    console_page.page.wait_for_selector('#grid[data-calendar-id="120"]')
    assert [answer for answer in answers if answer[0] == 404] == []
    assert not [
        u for _, u in answers if "/__mock/week" in u and "calendar_id=120" not in u and "calendar_id=1&" not in u
    ]


def run_curl(command: str) -> int:
    """Run a command as a person pastes it in a shell; the answer's HTTP status."""
    done = subprocess.run(
        ["bash", "-c", command + " -o /dev/null -w '%{http_code}'"], capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


@pytest.mark.slow
def test_copy_as_curl_replays_the_call_with_the_token_masked_unless_asked(console_page: Page) -> None:
    url, tenant = console_page.url, "sandbox/c-curl"
    open_fresh(console_page, tenant)
    # A booking that failed once (a rule), with a body, a query and the token in a header.
    status, _ = http(
        f"{url}/__mock/rules",
        "POST",
        {"method": "POST", "path": "/api/appointment", "error_code": "SLOT_UNAVAILABLE", "times": 1, "tenant": tenant},
    )
    assert status == 200
    slot_id = free_slot(url, tenant)
    booking = {
        "calendar_id": 1,
        "slot_id": slot_id,
        "client_firstname": "Zoé",
        "client_lastname": "L'Hôte",
        "client_email": "zoe@example.com",
        "client_phone": "+33123456789",
    }
    status, _ = http(f"{url}/api/appointment?format=json", "POST", booking, api_headers("c-curl"))
    assert status == 409

    entry = console_page.page.locator("#feed-list button.entry", has_text="SLOT_UNAVAILABLE").first
    entry.wait_for()
    entry.click()
    console_page.page.get_by_role("button", name="Copy as curl").click()
    field = console_page.page.locator("#curl-text")
    field.wait_for()
    masked = field.input_value()
    assert "<access-token>" in masked and DEFAULT_TOKEN not in masked
    assert masked.startswith("curl ") and "-X POST" in masked and "?format=json" in masked
    assert "X-Mock-Tenant: c-curl" in masked and "L'\\''Hôte" in masked
    assert run_curl(masked) == 401, "the placeholder is not a token"
    assert DEFAULT_TOKEN not in console_page.page.content()

    # In clear: the console does not know the token until the person gives it (kept in the tab).
    console_page.page.check("#curl-clear")
    assert "does not know the token of sandbox" in console_page.page.locator("#curl-note").inner_text()
    assert "<access-token>" in field.input_value()
    console_page.page.fill("#curl-token", DEFAULT_TOKEN)
    clear = field.input_value()
    assert DEFAULT_TOKEN in clear and "<access-token>" not in clear
    assert run_curl(clear) == 200, "the replay books the slot the rule refused once"
    _, week = http(f"{url}/__mock/week?calendar_id=1&tenant={tenant}")
    booked = next(slot for slot in week["data"]["slots"] if slot["slot_id"] == slot_id)
    assert booked["appointments"][0]["client_name"] == "Zoé L'Hôte"
    console_page.shot("curl")
