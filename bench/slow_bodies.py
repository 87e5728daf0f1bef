"""Stalled request bodies against the real server: do other clients still get served, and what does reading
every body on a reader thread (mockserver/requestlock.py, BodyReaders) cost a client that sends whole bodies?

    .venv/bin/python bench/slow_bodies.py                   # ~30 s
    .venv/bin/python bench/slow_bodies.py --stalled 70 --posts 2000
    T4B_BENCH_CLI=/path/to/other/tap4book-mock .venv/bin/python bench/slow_bodies.py   # another tree

Prints, for one default server (64 threads):

* one keep-alive client sending ``--posts`` bookings with an incomplete JSON object (each read, parsed and
  refused: MISSING_REQUIRED_FIELD), ms per request, median and p99: the cost of the body readers;
* ``--stalled`` connections each sending a POST head and one byte of a 100-byte body, then nothing: how long
  one of them waits for its answer, and 200 GETs of another client meanwhile (p50, p99, max; a GET that gets
  no answer within 5 s counts as frozen and ends the run);
* a whole body sent meanwhile, and again once the stalled connections are gone: status and error code.

Bounded: a few seconds per part; every socket is closed and the server stopped by its PID at the end.
"""

from __future__ import annotations

import argparse
import json
import socket
import time

from benchlib import Client, Server, access_token, median, percentile, progress, serve_supports

BODY_TIMEOUT = 2  # the server's --body-timeout in this bench, so that a stalled body's answer comes quickly


def stall(host: str, port: int, token: str) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(
        (
            f"POST /api/appointment HTTP/1.1\r\nHost: x\r\nAccess-Token: {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        ).encode()
    )
    return sock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stalled", type=int, default=70)
    parser.add_argument("--posts", type=int, default=2000)
    args = parser.parse_args()
    token = access_token()
    timeout_flag = serve_supports("--body-timeout")
    extra = ["--body-timeout", str(BODY_TIMEOUT)] if timeout_flag else []
    with Server(token=token, extra=extra).start() as server:
        client = Client(server.url, token, timeout=5)
        progress(f"{args.posts} POSTs with a whole body")
        for _ in range(50):  # warm-up
            client.request("POST", "/api/appointment", body={})
        posts = [client.request("POST", "/api/appointment", body={}).elapsed_ms for _ in range(args.posts)]
        print(f"server {server.url}, --body-timeout {'supported' if timeout_flag else 'absent'}")
        print(
            f"POST with a whole body, one keep-alive client: median {median(posts):.3f} ms, "
            f"p99 {percentile(posts, 99):.3f} ms"
        )

        host, port = client.host, client.port
        progress(f"{args.stalled} stalled bodies")
        started = time.monotonic()
        first = stall(host, port, token)
        stalled = [stall(host, port, token) for _ in range(args.stalled - 1)]
        try:
            time.sleep(1.0)
            other = Client(server.url, token, timeout=5)
            gets: list[float] = []
            frozen = False
            for _ in range(200):
                try:
                    gets.append(other.request("GET", "/api/calendars").elapsed_ms)
                except TimeoutError:
                    frozen = True
                    break
            if frozen:
                print(f"{args.stalled} stalled bodies: another client's GET got no answer within 5 s (frozen)")
                return
            print(
                f"{args.stalled} stalled bodies, another client's 200 GETs: p50 {median(gets):.2f} ms, "
                f"p99 {percentile(gets, 99):.2f} ms, max {max(gets):.2f} ms"
            )
            whole = other.request("POST", "/api/appointment", body={})
            print(f"meanwhile, a whole body: {whole.status} {whole.error_code()}: {whole.json().get('message')}")
            first.settimeout(BODY_TIMEOUT + 5)
            try:
                answer = first.recv(65536)
                status = answer.split(b"\r\n", 1)[0].decode()
                message = json.loads(answer.partition(b"\r\n\r\n")[2]).get("message")
                print(f"a stalled body's answer after {time.monotonic() - started:.2f} s: {status}: {message}")
            except TimeoutError:
                print(f"a stalled body got no answer within {BODY_TIMEOUT + 5} s")
        finally:
            for sock in [first, *stalled]:
                sock.close()
        time.sleep(0.5)
        after = Client(server.url, token, timeout=5).request("POST", "/api/appointment", body={})
        print(f"once the stalled connections closed, a whole body: {after.status} {after.error_code()}")


if __name__ == "__main__":
    main()
