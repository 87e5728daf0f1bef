"""The resource limits under attack, and what a test suite sees, on the real server (issues 12 and 15):

* slow clients: 50 idle sockets and 50 sending one header byte a second; other clients' p50/p99;
* delays: 16 concurrent calls slowed by a 500 ms rule; other calls' p99 meanwhile;
* streams: the same load with 3 journal streams open, against none (throughput and p99 ratio);
* one keep-alive client, as a test suite: 2,000 mixed GETs and 200 bookings, one after the other;
* the journal under a header flood: entries kept, bytes of a full read, time of a count;
* tenants: names past --max-tenants are refused, the server stays up.

    .venv/bin/python bench/limits.py            # about 2 minutes; prints one table
    .venv/bin/python bench/limits.py --quick    # fewer requests, for a smoke run

Bounded: every phase has a fixed request count and a timeout. Figures are this machine's, with the bench
client on the same 2 cores as the server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import threading
import time

from benchlib import Client, Server, access_token, percentile, progress, tree_cpu_ticks


def _addr(url: str) -> tuple[str, int]:
    host, _, port = url.removeprefix("http://").rpartition(":")
    return host.strip("[]"), int(port)


def _latencies(url: str, token: str, count: int, path: str = "/api/calendars") -> list[float]:
    client = Client(url, token, timeout=10)
    times = [client.request("GET", path).elapsed_ms for _ in range(count)]
    client.close()
    return times


def _figures(times: list[float]) -> str:
    return f"p50 {percentile(times, 50):.2f} ms, p99 {percentile(times, 99):.2f} ms ({len(times)} requests)"


def slow_clients(url: str, token: str, count: int) -> str:
    stop = threading.Event()
    idle = [socket.create_connection(_addr(url)) for _ in range(50)]
    slow = [socket.create_connection(_addr(url)) for _ in range(50)]
    line = b"GET /api/calendars HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200

    def trickle() -> None:
        position = 0
        while not stop.is_set() and position < len(line):
            for sock in slow:
                with contextlib.suppress(OSError):  # the server closed it (its header timeout)
                    sock.send(line[position : position + 1])
            position += 1
            stop.wait(1.0)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    time.sleep(1.0)
    try:
        return _figures(_latencies(url, token, count))
    finally:
        stop.set()
        for sock in idle + slow:
            sock.close()


def delays(url: str, token: str, count: int) -> str:
    admin = Client(url, None)
    rule = admin.request("POST", "/__mock/rules", {"path": "/api/health", "delay_ms": 500}).json()["data"]["id"]
    done: list[float] = []
    stop = threading.Event()

    def slowed() -> None:
        client = Client(url, token, timeout=30)
        while not stop.is_set():
            done.append(client.request("GET", "/api/health").elapsed_ms)
        client.close()

    threads = [threading.Thread(target=slowed, daemon=True) for _ in range(16)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    times = _latencies(url, token, count)
    stop.set()
    for thread in threads:
        thread.join(5)
    admin.request("DELETE", f"/__mock/rules/{rule}")
    admin.close()
    return f"{_figures(times)}; slowed calls {percentile(done, 50):.0f} ms each, side by side"


def streams(url: str, token: str, count: int, pid: int) -> str:
    """Throughput and p99 of one client are what a user sees, but move by ±5 % between runs on this VM; the
    server's CPU time per request (of the process tree, in 10 ms ticks over the run) is the steadier figure."""
    tick_us = 1_000_000 / os.sysconf("SC_CLK_TCK")

    def load() -> tuple[float, float, float]:
        started, ticks = time.perf_counter(), tree_cpu_ticks(pid)
        times = _latencies(url, token, count)
        cpu_us = (tree_cpu_ticks(pid) - ticks) * tick_us / count
        return count / (time.perf_counter() - started), percentile(times, 99), cpu_us

    before = load()
    stop = threading.Event()
    opened: list[socket.socket] = []

    def follow() -> None:
        sock = socket.create_connection(_addr(url), timeout=5)
        opened.append(sock)
        sock.sendall(b"GET /__mock/journal/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        while not stop.is_set():
            try:
                if not sock.recv(65536):
                    return
            except OSError:
                return

    readers = [threading.Thread(target=follow, daemon=True) for _ in range(3)]
    for reader in readers:
        reader.start()
    time.sleep(1.0)
    rate, p99, cpu = load()
    stop.set()
    for sock in opened:
        sock.close()
    time.sleep(0.5)
    after = load()  # the box drifts: "without" is the mean of a run before the streams and one after them
    base_rate, base_p99, base_cpu = ((x + y) / 2 for x, y in zip(before, after, strict=True))
    return (
        f"{rate:,.0f} req/s, p99 {p99:.2f} ms, server CPU {cpu:.0f} us a request with 3 streams open; "
        f"{base_rate:,.0f} req/s, p99 {base_p99:.2f} ms, {base_cpu:.0f} us without: "
        f"throughput x{rate / base_rate:.2f}, p99 x{p99 / base_p99:.2f}, CPU x{cpu / base_cpu:.2f}"
    )


def test_suite_client(url: str, token: str, gets: int, bookings: int) -> str:
    client = Client(url, token, timeout=10)
    paths = [
        "/api/calendars",
        "/api/calendars/1",
        "/api/slots?calendar_id=1&date_from=2025-06-10&date_to=2025-06-14",
        "/api/appointments?per_page=50",
        "/api/appointments?calendar_id=2&status=confirmed",
        "/api/clients?search=mar",
        "/api/statistics/appointments?period=last7days",
        "/api/statistics/calendars",
    ]
    slots = [s["slot_id"] for s in client.request("GET", paths[2] + "&per_page=1000").json()["data"]]
    slots += [
        s["slot_id"]
        for s in client.request(
            "GET", "/api/slots?calendar_id=3&date_from=2025-06-10&date_to=2025-07-05&per_page=1000"
        ).json()["data"]
        if s["is_available"]
    ]
    started = time.perf_counter()
    get_times = [
        client.request(
            "GET", paths[n % len(paths)] + ("&" if "?" in paths[n % len(paths)] else "?") + f"n={n}"
        ).elapsed_ms
        for n in range(gets)
    ]
    get_s = time.perf_counter() - started
    post_times: list[float] = []
    for n in range(bookings):
        body = {
            "calendar_id": 3,
            "slot_id": slots[n % len(slots)],
            "client_firstname": "Bench",
            "client_lastname": f"Client{n}",
            "client_email": f"bench{n}@example.org",
            "client_phone": "+33612345678",
        }
        post_times.append(client.request("POST", "/api/appointment", body).elapsed_ms)
    total = time.perf_counter() - started
    client.close()
    return (
        f"{gets} GETs in {get_s:.2f} s ({sum(get_times) / gets:.2f} ms each), {bookings} bookings"
        f" {sum(post_times) / bookings:.2f} ms each; {total:.2f} s in all"
    )


def journal_flood(url: str, count: int) -> str:
    client = Client(url, None, timeout=30)
    headers = {f"X-Pad-{n}": "x" * 4000 for n in range(40)}
    for _ in range(count):
        client.request("GET", "/api/health", headers=headers)
    started = time.perf_counter()
    counted = client.request("GET", "/__mock/journal/count").json()["data"]["count"]
    count_ms = (time.perf_counter() - started) * 1000
    page = client.request("GET", "/__mock/journal?limit=1000")
    client.close()
    return (
        f"{count} requests of 40 x 4,000-byte headers: {counted} entries kept, a full page {len(page.body) / 1e6:.1f}"
        f" MB, count in {count_ms:.0f} ms"
    )


def tenants(url: str, names: int) -> str:
    client = Client(url, None, timeout=30)
    refused = 0
    for n in range(names):
        reply = client.request("GET", "/api/calendars", headers={"X-Debug": "true", "X-Mock-Tenant": f"t{n}"})
        refused += reply.status == 400
    held = len(client.request("GET", "/__mock/tenants").json()["data"])
    healthy = client.request("GET", "/api/health").json()["data"]["status"]
    started = time.perf_counter()
    client.request("POST", "/__mock/reset")
    reset_s = time.perf_counter() - started
    client.close()
    return (
        f"{names} names: {refused} refused, {held} tenants held, health {healthy}, whole-server reset {reset_s:.2f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    args = parser.parse_args()
    scale = 0.2 if args.quick else 1.0
    token = access_token()
    rows: list[tuple[str, str]] = []
    with Server(token=token).start() as server:
        url = server.url
        for name, run in (
            ("slow clients (50 idle + 50 slow-header sockets)", lambda: slow_clients(url, token, int(1000 * scale))),
            ("16 calls slowed 500 ms meanwhile", lambda: delays(url, token, int(1000 * scale))),
            ("journal streams", lambda: streams(url, token, int(6000 * scale), server.pid)),
            (
                "one keep-alive client, a test suite",
                lambda: test_suite_client(url, token, int(2000 * scale), int(200 * scale)),
            ),
            ("journal, header flood", lambda: journal_flood(url, int(300 * scale))),
        ):
            progress(name)
            rows.append((name, run()))
    with Server(token=token, extra=["--max-tenants", "256"]).start() as server:
        progress("tenants")
        rows.append(("tenants past --max-tenants (256)", tenants(server.url, int(300 * scale) if args.quick else 300)))
    width = max(len(name) for name, _ in rows)
    for name, figure in rows:
        print(f"{name.ljust(width)}  {figure}")
    print(json.dumps({"limits": dict(rows)}, ensure_ascii=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
