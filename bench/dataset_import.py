"""The memory a dataset import costs: RSS of the server before, at its peak during, and after PUT /__mock/dataset.

    .venv/bin/python bench/dataset_import.py                   # --scale 16 (an 8 MB export), ~30 s
    .venv/bin/python bench/dataset_import.py --scale 64 199    # 33 MB and 104 MB (the largest real export)

For each scale: one server makes the export (GET /__mock/dataset), a fresh one (same --scale, one process)
loads it back, while a thread samples the server's VmRSS every 2 ms. "after" is read 2 s after the answer.
Then the same bytes with the first one changed (INVALID_JSON at byte 0): what receiving the body costs alone.
Issue 22 item 16 measured 619 MB at the peak for 33 MB, 1.74 GB for 100 MB, and +200 MB left after.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import urllib.error
import urllib.request

from benchlib import DATASET_CACHE, Server, access_token, mb, progress, rss_kb


def _export(scale: int, token: str) -> bytes:
    with Server(token, scale=scale, cache_dir=str(DATASET_CACHE), extra=["--no-debug-mode"]).start(600) as server:
        reply = urllib.request.urlopen(f"{server.url}/__mock/dataset", timeout=600)
        return json.dumps(json.loads(reply.read())["data"]).encode()


def _load(scale: int, token: str, document: bytes) -> str:
    with Server(token, scale=scale, cache_dir=str(DATASET_CACHE), extra=["--no-debug-mode"]).start(600) as server:
        time.sleep(1)
        before = rss_kb(server.pid)
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_kb(server.pid))
                time.sleep(0.002)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        request = urllib.request.Request(
            f"{server.url}/__mock/dataset",
            data=document,
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=600) as reply:
                answer = json.loads(reply.read())
        except urllib.error.HTTPError as error:
            answer = json.loads(error.read())
        seconds = time.perf_counter() - started
        time.sleep(2)
        done.set()
        sampler.join()
        after = rss_kb(server.pid)
    return (
        f"--scale {scale}: body {len(document) / 1e6:.1f} MB, {answer['error_code']} in {seconds:.1f} s;"
        f" RSS before {mb(before)}, peak {mb(peak[0])} (+{mb(peak[0] - before)}),"
        f" after {mb(after)} (+{mb(after - before)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, nargs="+", default=[16])
    args = parser.parse_args()
    token = access_token()
    for scale in args.scale:
        progress(f"export at --scale {scale}")
        document = _export(scale, token)
        progress(f"import of {len(document) / 1e6:.1f} MB")
        print(f"dataset import: {_load(scale, token, document)}", flush=True)
        # The same number of bytes refused at the first one: what reading the body alone costs the server.
        refused = b"x" + document[1:]
        print(f"dataset import refused at byte 0: {_load(scale, token, refused)}", flush=True)


if __name__ == "__main__":
    main()
