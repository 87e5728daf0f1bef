"""Compare serving settings (granian workers x threads, CPU affinity) on the same load: how the default was chosen.

    .venv/bin/python bench/stacks.py                 # the stacks below, ~2 min
    .venv/bin/python bench/stacks.py --stacks 1x64 2x64 1x64-off --duration 10s

A stack is WORKERSxTHREADS, with ``-off`` for ``--cpu-affinity off``. The servers we compared granian with
(gunicorn sync and gthread, waitress, uvicorn) are no longer installed; their figures, measured with the
same load, are in bench/README.md#serving-stack.

For each stack: a fresh server, then wrk -t2 -c16 on GET /api/calendars repeated (answer cache: mostly the
framework and the server) and on unique 50-item /api/appointments pages (queries and rendering), and the
memory of the process tree (RSS summed, and PSS, which counts a page shared by the forked workers once).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import Server, access_token, tree_pids

HERE = Path(__file__).parent
STACKS = ("1x64", "1x64-off", "1x1", "2x64")


def wrk(url: str, token: str, path: str, duration: str, unique: bool) -> dict[str, float]:
    script = HERE / ("wrk_unique.lua" if unique else "wrk_json.lua")
    base = ["wrk", "-t2", "-c16", "--timeout", "10s", "-H", f"Access-Token: {token}", "-s", str(script)]
    subprocess.run([*base, "-d2s", url + path], capture_output=True, check=False)  # warm-up
    out = subprocess.run([*base, f"-d{duration}", "--latency", url + path], capture_output=True, text=True)
    match = re.search(r"^BENCHJSON (\{.*\})$", out.stdout, re.M)
    if not match:
        raise SystemExit(f"wrk gave no figures: {out.stdout}{out.stderr}")
    data = json.loads(match.group(1))
    return {
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "p50": data["latency_us"]["p50"] / 1000,
        "p99": data["latency_us"]["p99"] / 1000,
        "errors": sum(data["errors"].values()),
    }


def memory_mb(root: int) -> tuple[float, float]:
    rss = pss = 0
    for pid in tree_pids(root):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss / 1024, pss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", nargs="+", default=list(STACKS), help="WORKERSxTHREADS, e.g. 2x1 2x4")
    parser.add_argument("--duration", default="8s")
    args = parser.parse_args()
    token = access_token()
    print(
        f"{'stack':<22} {'calendars (cached) req/s':>25} {'p50':>6} {'p99':>6}   {'appointments (unique) req/s':>28}"
        f" {'p50':>6} {'p99':>6}   {'RSS MB':>7} {'PSS MB':>7}"
    )
    for stack in args.stacks:
        shape, _, affinity = stack.partition("-")
        workers, threads = (int(x) for x in shape.split("x"))
        extra = ["--cpu-affinity", "off"] if affinity == "off" else []
        with Server(token=token, workers=workers, threads=threads, cache_dir="off", extra=extra).start() as srv:
            cached = wrk(srv.url, token, "/api/calendars", args.duration, unique=False)
            fresh = wrk(srv.url, token, "/api/appointments?per_page=50", args.duration, unique=True)
            rss, pss = memory_mb(srv.pid)
        kind = "affinity off" if affinity == "off" else "pinned"
        print(
            f"{workers} x {threads} ({kind}){'':<{12 - len(kind)}} {cached['rps']:>23,.0f} {cached['p50']:>6.1f}"
            f" {cached['p99']:>6.1f}   {fresh['rps']:>28,.0f} {fresh['p50']:>6.1f} {fresh['p99']:>6.1f}"
            f"   {rss:>7.0f} {pss:>7.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
