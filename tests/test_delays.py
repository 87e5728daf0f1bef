"""Delay rules share the server's threads (issue 22 item 18): one tenant's sleeping calls never starve another."""

from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlsplit

import pytest
from conftest import DEFAULT_TOKEN, NOW
from server import running

from mockserver.control.switches import DelayBudget


def test_the_budget_gives_a_tenant_half_the_threads_and_keeps_some_for_everyone():
    budget = DelayBudget(threads=16)
    assert [budget.take("a") for _ in range(9)] == [True] * 8 + [False]
    assert [budget.take("b") for _ in range(5)] == [True] * 4 + [False]  # 16 - max(4, 2): 12 asleep in all
    budget.give_back("a")
    assert budget.take("b") is True


@pytest.mark.parametrize("settings", [{"now": NOW, "log_format": "off", "threads": 4}])
def test_a_skipped_delay_says_so(app, client, api):
    client.post("/__mock/rules", json={"path": "/api/calendars", "delay_ms": 400})
    answers = []

    def call() -> None:
        answers.append(app.test_client().get("/api/calendars", headers={"Access-Token": DEFAULT_TOKEN}))

    workers = [threading.Thread(target=call) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert all(answer.status_code == 200 for answer in answers)
    skipped = [answer for answer in answers if "was skipped" in answer.headers.get("X-Mock-Hint", "")]
    assert len(skipped) == 4 - DelayBudget(threads=4).total  # 4 threads: 1 may sleep, 3 kept for the others


def _get(url: str, path: str, headers: dict[str, str], timeout: float) -> tuple[int, float]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    started = time.monotonic()
    conn.request("GET", path, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status, time.monotonic() - started


@pytest.mark.slow
def test_another_tenant_is_served_while_one_tenant_sleeps_on_every_thread():
    with running("--threads", "8") as (_, url):
        control = http.client.HTTPConnection(urlsplit(url).hostname, urlsplit(url).port, timeout=5)
        body = '{"tenant": "sandbox/slow", "path": "/api/calendars", "delay_ms": 3000}'
        control.request("POST", "/__mock/rules", body=body, headers={"Content-Type": "application/json"})
        assert control.getresponse().status == 200
        control.close()
        slow = {"Access-Token": DEFAULT_TOKEN, "X-Mock-Tenant": "slow"}
        sleepers = [threading.Thread(target=_get, args=(url, "/api/calendars", slow, 10)) for _ in range(16)]
        for sleeper in sleepers:
            sleeper.start()
        time.sleep(0.5)  # every sleeper has arrived: the slow tenant holds all it may
        status, took = _get(url, "/api/calendars", {"Access-Token": DEFAULT_TOKEN}, 10)
        assert status == 200
        assert took < 1.0, f"another tenant waited {took:.2f} s behind the slow tenant's delays"
        for sleeper in sleepers:
            sleeper.join()
