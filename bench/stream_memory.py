"""Memory of journal streams whose readers never read (issue 22, item 3): RSS of the server while requests carry
64 KB bodies, with 1 and with 16 stalled readers of ``GET /__mock/journal/stream``.

A stalled reader sends its request and never reads a byte (a small receive buffer, so the kernel stops taking
data soon): whatever the server has not sent yet stays on its side. The load is POST /api/appointment with a
64 KB JSON body (the journal keeps up to 64 KB of a body), from one keep-alive client, for ``--seconds``.
Prints, for each number of readers, RSS at the start, half-way, at the end and its peak, and how many requests
were served: flat means the end is no higher than half-way. Bounded: about 2 x (seconds + 5) s with the defaults.

    .venv/bin/python bench/stream_memory.py                 # 1 and 16 readers, 20 s each
    .venv/bin/python bench/stream_memory.py --seconds 5 --readers 16
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time

from benchlib import Client, Server, access_token, mb, progress

BODY_BYTES = 63 * 1024  # the note: the whole JSON body stays under the 64 KiB --max-body-bytes


def _stalled_reader(url: str) -> socket.socket:
    host, _, port = url.removeprefix("http://").rpartition(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window stays small
    sock.connect((host.strip("[]"), int(port)))
    sock.sendall(b"GET /__mock/journal/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    return sock


def run(readers: int, seconds: float) -> str:
    token = access_token()
    with Server(token, extra=["--journal-bytes", str(64 * 1024 * 1024)]).start() as server:
        client = Client(server.url, token)
        body = {"calendar_id": 1, "client_note": "x" * BODY_BYTES}
        for _ in range(20):  # warm up: first requests allocate the caches every later one reuses
            client.request("POST", "/api/appointment", body)
        time.sleep(1.0)
        start = server.rss()[0]
        sockets = [_stalled_reader(server.url) for _ in range(readers)]
        peak, served, stop = start, 0, threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, server.rss()[0])
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        half = None
        while time.monotonic() < started + seconds:
            client.request("POST", "/api/appointment", body)
            served += 1
            if half is None and time.monotonic() >= started + seconds / 2:
                half = server.rss()[0]
        time.sleep(2.0)  # the streams' last polls
        end = server.rss()[0]
        stop.set()
        sampler.join()
        for sock in sockets:
            sock.close()
        client.close()
    return (
        f"{readers:2d} stalled readers, {served:,} requests of 63 KiB in {seconds:.0f} s: "
        f"RSS start {mb(start)}, half-way {mb(half or start)}, end {mb(end)} (+{mb(end - start)}), peak {mb(peak)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="load time per run (default 20)")
    parser.add_argument("--readers", type=int, nargs="+", default=[1, 16], help="stalled readers per run")
    args = parser.parse_args()
    for count in args.readers:
        progress(f"{count} stalled readers, {args.seconds:.0f} s")
        print(run(count, args.seconds), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
