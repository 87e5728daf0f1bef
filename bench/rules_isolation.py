"""What another tenant's rules cost a tenant's requests (issue 22 item 11: 2,500 rules of one tenant made another's
GETs 100x slower, median 0.23 -> 26 ms).

    .venv/bin/python bench/rules_isolation.py              # --rules 500 (the per-tenant limit), ~20 s

One server; tenant ``sandbox/default`` sends GET /api/calendars, alternating with a GET of tenant ``w2`` that a
rule of w2's fires on (so every w2 request writes the rule's counters, and the control state changes). Printed:
sandbox's latency with w2 holding no rules, then with ``--rules`` rules. Stops at the first refusal (a server
with a rule limit refuses past it; the figure then says how many were held).
"""

from __future__ import annotations

import argparse

from benchlib import Client, Server, access_token, percentile, progress


def _run(url: str, token: str, count: int) -> list[float]:
    mine = Client(url, token)
    other = Client(url, token)
    times = []
    for _ in range(count):
        times.append(mine.request("GET", "/api/calendars").elapsed_ms)
        other.request("GET", "/api/calendars", headers={"X-Mock-Tenant": "w2"})
    mine.close()
    other.close()
    return times


def _figures(times: list[float]) -> str:
    return f"p50 {percentile(times, 50):.2f} ms, p99 {percentile(times, 99):.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=500)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    token = access_token()
    with Server(token).start() as server:
        control = Client(server.url, token)
        scoped = {"X-Mock-Tenant": "w2"}
        control.request("POST", "/__mock/rules", {"path": "/api/calendars", "delay_ms": 0}, headers=scoped)
        _run(server.url, token, 200)  # warm up
        before = _run(server.url, token, args.requests)
        progress(f"adding {args.rules} rules to tenant w2")
        held = 1
        for number in range(args.rules - 1):
            reply = control.request(
                "POST", "/__mock/rules", {"path": f"/api/nowhere/{number}", "delay_ms": 0}, headers=scoped
            )
            if reply.status != 200:
                break
            held += 1
        after = _run(server.url, token, args.requests)
        control.close()
    print(f"sandbox GET /api/calendars, w2 with 1 firing rule: {_figures(before)}")
    ratio = percentile(after, 50) / percentile(before, 50)
    print(f"sandbox GET /api/calendars, w2 with {held} rules: {_figures(after)} (x{ratio:.2f} at p50)")


if __name__ == "__main__":
    main()
