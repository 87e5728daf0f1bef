"""Measure the real server as a user runs it and print ONE table.

    bench/run.sh                       # the default server (1 granian process, 64 threads), ~6 min
    bench/run.sh --workers 2

Figures: cold start (spawn -> first 200 on /api/calendars, median of --starts, at scale 1 and --big-scale),
wrk throughput/latency per endpoint, reset time of one tenant, RSS of the process tree after the load,
the scale curve (scale 1 vs --big-scale, short runs), and a booking race on a fresh server per round.
The table also goes to bench/results/run-<W>w<T>t.txt, raw wrk output and JSON to bench/results/raw/.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from benchlib import (
    BENCH,
    CLI,
    DATASET_CACHE,
    DEFAULT_NOW,
    DEFAULT_TENANT,
    RAW,
    RESULTS,
    ROOT,
    VENV_BIN,
    Client,
    CpuWindow,
    QuietWaiter,
    Server,
    access_token,
    host_line,
    log_problems,
    mb,
    median,
    percentile,
    progress,
    serve_supports,
)

LUA = BENCH / "wrk_json.lua"
LUA_UNIQUE = BENCH / "wrk_unique.lua"
EXT_FLAG_PCT = 10  # other processes used >= this % of a core during a run: mark it disturbed


@dataclass
class Row:
    what: str
    value: str = ""
    p50: str = ""
    p99: str = ""
    notes: str = ""


SECTIONS = ("cold", "load", "memory", "reset", "curve", "race")


@dataclass
class Bench:
    args: argparse.Namespace
    token: str
    rows: dict[str, list[Row]] = field(default_factory=lambda: {name: [] for name in SECTIONS})
    titles: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    slow: list[str] = field(default_factory=list)
    speed_before: str = ""
    quiet: QuietWaiter | None = None
    has_cache_flag: bool = False

    @property
    def stack(self) -> str:
        return f"{self.args.workers}w{self.args.threads}t"

    def server(self, scale: int = 1, label: str = "", cache: str | None = "bench") -> Server:
        """A server of this run's stack; ``cache``: "bench" (the bench's own dataset cache), "off", or None."""
        if not self.has_cache_flag:
            cache = None
        elif cache == "bench":
            cache = str(DATASET_CACHE)
        return Server(
            self.token,
            cache_dir=cache,
            now=self.args.now,
            scale=scale,
            workers=self.args.workers,
            threads=self.args.threads,
            log_format=self.args.log_format,
            log_path=RAW / f"server-{self.stack}{label}.log",
        )

    def add(self, section: str, *args: Any, **kwargs: Any) -> None:
        self.rows[section].append(Row(*args, **kwargs))


# ---------------------------------------------------------------------------------------------- wrk


def wrk(
    bench: Bench, srv: Server, path: str, duration: str, label: str, warmup: str | None, unique: bool = True
) -> dict[str, Any]:
    """One measured wrk run (after an optional warm-up run) on an authenticated GET.

    ``unique``: every request gets its own ``_bench=`` parameter, so the server's answer cache (keyed by the
    request) cannot serve it; otherwise wrk repeats the identical request and mostly measures cache hits.
    """
    script = LUA_UNIQUE if unique else LUA
    a = bench.args
    url = srv.url + path
    base = ["wrk", f"-t{a.wrk_threads}", f"-c{a.wrk_conns}", "--timeout", "10s", "-H", f"Access-Token: {bench.token}"]
    probe = Client(srv.url, bench.token).request("GET", path)
    if warmup and warmup.rstrip("s") not in ("", "0"):
        subprocess.run([*base, f"-d{warmup}", "-s", str(script), url], capture_output=True, check=False)
    assert bench.quiet is not None
    bench.quiet.wait(srv.pid)
    cpu = CpuWindow(srv.pid)
    out = subprocess.run(
        [*base, f"-d{duration}", "--latency", "-s", str(script), url], capture_output=True, text=True, check=False
    )
    usage = cpu.stop()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")[:80]
    (RAW / f"wrk-{bench.stack}-{slug}.txt").write_text(out.stdout + out.stderr)
    match = re.search(r"^BENCHJSON (\{.*\})$", out.stdout, re.M)
    if not match:
        raise RuntimeError(f"wrk gave no report for {url}: {out.stdout[-400:]} {out.stderr[-400:]}")
    report = json.loads(match.group(1))
    secs = report["duration_us"] / 1e6
    result = {
        "path": path,
        "label": label,
        "unique": unique,
        "rps": report["requests"] / secs,
        "requests": report["requests"],
        "p50_ms": report["latency_us"]["p50"] / 1000,
        "p99_ms": report["latency_us"]["p99"] / 1000,
        "max_ms": report["latency_us"]["max"] / 1000,
        "errors": report["errors"],
        "status": probe.status,
        "bytes": len(probe.body),
        "content_type": probe.headers.get("content-type", ""),
        **usage,
    }
    bench.raw.setdefault("wrk", []).append(result)
    return result


def wrk_notes(r: dict[str, Any]) -> str:
    errs = r["errors"]
    parts = [f"{r['bytes']} B", f"CPU srv {r['srv_pct']:.0f}% wrk {r['client_pct']:.0f}% ext {r['ext_pct']:.0f}%"]
    if r["ext_pct"] >= EXT_FLAG_PCT:
        parts[-1] += " (!disturbed)"
    if r["status"] != 200:
        parts.append(f"PROBE HTTP {r['status']}")
    if errs["status"]:
        parts.append(f"NON-2xx {errs['status']}/{r['requests']}")
    sock = errs["connect"] + errs["read"] + errs["write"] + errs["timeout"]
    if sock:
        parts.append(f"SOCKET ERRORS c{errs['connect']} r{errs['read']} w{errs['write']} t{errs['timeout']}")
    return "; ".join(parts)


def fmt_ms(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


# ---------------------------------------------------------------------------------------------- pieces


def race_day(now_iso: str, days: int = 10) -> date:
    """A weekday ``days`` after the sandbox's date (the next Monday if that falls on a weekend)."""
    day = datetime.fromisoformat(now_iso.replace("Z", "+00:00")).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def first_slot_id(srv: Server, token: str, day: date) -> int:
    reply = Client(srv.url, token).request("GET", f"/api/slots?calendar_id=1&date_from={day}")
    data = reply.json().get("data") or []
    if reply.status != 200 or not data:
        raise RuntimeError(f"no slot of calendar 1 on {day}: HTTP {reply.status}")
    return int(data[0]["slot_id"])


def cold_starts(bench: Bench, scale: int) -> Server:
    """Cold starts at one scale; the last server is left running (returned) for the runs that follow.

    With a dataset cache (``--cache-dir``), two rows: every start generating the dataset (``--cache-dir off``),
    and starts that load it from the bench's own cache (primed by one start that is not counted).
    """
    variants = [("off", "no dataset cache"), ("bench", "dataset cache warm")] if bench.has_cache_flag else [(None, "")]
    srv = None
    for cache, title in variants:
        if cache == "bench":
            assert srv is not None
            srv.stop()
            srv = bench.server(scale, f"-scale{scale}", cache).start()  # primes the cache if it was empty
            progress(f"cold start scale {scale}, priming the dataset cache: first 200 {srv.first_200_ms:.0f} ms")
        starts, readies = [], []
        for i in range(bench.args.starts):
            if srv is not None:
                srv.stop()
            assert bench.quiet is not None
            bench.quiet.wait()
            srv = bench.server(scale, f"-scale{scale}", cache).start()
            starts.append(srv.first_200_ms)
            readies.append(srv.ready_ms)
            progress(
                f"cold start scale {scale} {title} #{i + 1}: ready line {srv.ready_ms:.0f} ms, "
                f"first 200 {srv.first_200_ms:.0f} ms"
            )
        assert srv is not None
        bench.raw[f"cold_start_scale{scale}_{cache}"] = {"first_200_ms": starts, "ready_ms": readies}
        rss, per = srv.rss()
        bench.add(
            "cold",
            f"scale {scale}{', ' + title if title else ''}",
            f"{median(starts):.0f} ms",
            "",
            "",
            f"each: {', '.join(f'{v:.0f}' for v in starts)} ms; ready line at {median(readies):.0f} ms; "
            f"RSS at first 200 {mb(rss)} over {len(per)} procs",
        )
    assert srv is not None
    return srv


def load_runs(bench: Bench, srv: Server, slot_id: int) -> None:
    a = bench.args
    endpoints = [
        ("GET /api/calendars", "/api/calendars"),
        ("GET /api/appointments?per_page=50 (json)", "/api/appointments?per_page=50"),
        ("  same page, format=xml", "/api/appointments?per_page=50&format=xml"),
        ("  same page, format=csv", "/api/appointments?per_page=50&format=csv"),
        ("GET /api/statistics/appointments?period=last30days", "/api/statistics/appointments?period=last30days"),
        ("GET /api/statistics/calendars", "/api/statistics/calendars"),
        ("GET /api/clients?search=jean", "/api/clients?search=jean"),
        ("GET /api/calendars/1 (detail)", "/api/calendars/1"),
        (f"GET /api/slots/{slot_id} (detail)", f"/api/slots/{slot_id}"),
    ]
    for label, path in endpoints:
        r = wrk(bench, srv, path, a.duration, f"load {label}", a.warmup)
        progress(f"{label}: {r['rps']:.0f} req/s p50 {r['p50_ms']:.1f} p99 {r['p99_ms']:.1f} ms")
        notes = wrk_notes(r)
        if a.repeat_duration.rstrip("s") not in ("", "0"):
            c = wrk(bench, srv, path, a.repeat_duration, f"repeat {label}", "1s", unique=False)
            progress(f"{label} repeated: {c['rps']:.0f} req/s p50 {c['p50_ms']:.1f} p99 {c['p99_ms']:.1f} ms")
            notes = (
                f"repeated request (answer cache): {c['rps']:,.0f} req/s, p50 {fmt_ms(c['p50_ms'])}, "
                f"p99 {fmt_ms(c['p99_ms'])}{' (!disturbed)' if c['ext_pct'] >= EXT_FLAG_PCT else ''}"
                + ("; NON-2xx" if c["errors"]["status"] else "")
                + "; "
                + notes
            )
        bench.add("load", label, f"{r['rps']:,.0f} req/s", fmt_ms(r["p50_ms"]), fmt_ms(r["p99_ms"]), notes)


def reset_runs(bench: Bench, srv: Server) -> None:
    client = Client(srv.url, bench.token)
    label = f"POST /__mock/reset {{tenant: {DEFAULT_TENANT}}} x{bench.args.resets}"
    first = client.request("POST", "/__mock/reset", {"tenant": DEFAULT_TENANT})
    if first.status == 404:
        bench.add("reset", label, "n/a (no control API yet)", "", "", f"HTTP 404 {first.error_code()}")
        bench.raw["reset"] = {"status": 404}
        return
    times, statuses = [], {}
    for _ in range(bench.args.resets):
        reply = client.request("POST", "/__mock/reset", {"tenant": DEFAULT_TENANT})
        times.append(reply.elapsed_ms)
        statuses[reply.status] = statuses.get(reply.status, 0) + 1
    # The data must still be served after all those resets.
    check = client.request("GET", "/api/calendars").status
    bench.raw["reset"] = {"ms": times, "statuses": statuses}
    notes = "statuses " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
    notes += f"; mean {sum(times) / len(times):.1f} ms, max {max(times):.1f} ms; GET /api/calendars after: {check}"
    value = f"{1000 * len(times) / sum(times):,.0f} resets/s" if statuses.get(200) == len(times) else "FAILED"
    bench.add("reset", label, value, fmt_ms(percentile(times, 50)), fmt_ms(percentile(times, 99)), notes)


def memory_row(bench: Bench, srv: Server, when: str) -> None:
    total, per = srv.rss()
    master = per.get(srv.pid, 0)
    workers = [v for pid, v in per.items() if pid != srv.pid]
    bench.raw.setdefault("rss", []).append({"when": when, "total_kb": total, "per_pid_kb": per})
    bench.add(
        "memory",
        f"RSS of the process tree {when}",
        mb(total),
        "",
        "",
        f"master {mb(master)} + {len(workers)} worker(s) {' + '.join(mb(v) for v in workers)} (VmRSS; "
        "shared pages are counted in every process)",
    )


CURVE = [
    ("list", "GET /api/calendars", "/api/calendars"),
    ("list", "GET /api/appointments?per_page=50", "/api/appointments?per_page=50"),
    ("list", "GET /api/clients?search=jean", "/api/clients?search=jean"),
    ("list", "GET /api/statistics/appointments?period=last30days", "/api/statistics/appointments?period=last30days"),
    ("list", "GET /api/statistics/calendars", "/api/statistics/calendars"),
    ("detail", "GET /api/calendars/1", "/api/calendars/1"),
    ("detail", "GET /api/slots/{id}", "/api/slots/{slot}"),
]


def curve_runs(bench: Bench, srv: Server, scale: int, slot_id: int) -> dict[str, dict[str, Any]]:
    out = {}
    for kind, label, path in CURVE:
        r = wrk(
            bench,
            srv,
            path.replace("{slot}", str(slot_id)),
            bench.args.curve_duration,
            f"curve scale{scale} {label}",
            bench.args.curve_warmup,
        )
        progress(f"scale {scale} {label}: {r['rps']:.0f} req/s p50 {r['p50_ms']:.1f} p99 {r['p99_ms']:.1f} ms")
        out[label] = {"kind": kind, **r}
    return out


def curve_rows(bench: Bench, small: dict[str, dict[str, Any]], big: dict[str, dict[str, Any]]) -> None:
    s = bench.args.big_scale
    for _kind, label, _path in CURVE:
        a, b = small[label], big[label]
        r50 = b["p50_ms"] / a["p50_ms"] if a["p50_ms"] else math.nan
        r99 = b["p99_ms"] / a["p99_ms"] if a["p99_ms"] else math.nan
        notes = f"req/s {a['rps']:,.0f} -> {b['rps']:,.0f}; body {a['bytes']} -> {b['bytes']} B"
        for r in (a, b):
            if r["errors"]["status"] or r["status"] != 200:
                notes += f"; NON-2xx at scale {1 if r is a else s}"
            if r["ext_pct"] >= EXT_FLAG_PCT:
                notes += f"; scale {1 if r is a else s} run disturbed (ext {r['ext_pct']:.0f}%)"
        bench.add(
            "curve",
            f"{label} [{_kind}]",
            f"p50 x{r50:.2f}, p99 x{r99:.2f}",
            f"{fmt_ms(a['p50_ms'])} -> {fmt_ms(b['p50_ms'])}",
            f"{fmt_ms(a['p99_ms'])} -> {fmt_ms(b['p99_ms'])}",
            notes,
        )
        if r50 >= 3:
            bench.slow.append(
                f"{label}: p50 x{r50:.1f} at scale {s} ({fmt_ms(a['p50_ms'])} -> {fmt_ms(b['p50_ms'])} ms)"
            )


def race(bench: Bench, calendar_id: int, round_no: int) -> None:
    """64 concurrent bookings of one slot on a fresh server: exactly capacity - booked must succeed."""
    a = bench.args
    n = a.race_clients
    day = race_day(a.now)
    label = f"booking race #{round_no}, calendar {calendar_id}"
    with bench.server(1, "-race").start() as srv:
        client = Client(srv.url, bench.token)
        reply = client.request("GET", f"/api/slots?calendar_id={calendar_id}&date_from={day}&per_page=1000")
        slots = [s for s in (reply.json().get("data") or []) if s["capacity"] - s["booked_appointments"] > 0]
        if reply.status != 200 or not slots:
            bench.add("race", label, "n/a", "", "", f"no free slot on {day} (HTTP {reply.status})")
            return
        slot = max(slots, key=lambda s: (s["capacity"] - s["booked_appointments"], -s["slot_id"]))
        free = slot["capacity"] - slot["booked_appointments"]
        barrier = threading.Barrier(n + 1)
        results: list[tuple[Any, str, float, float, float]] = [("none", "", 0.0, 0.0, math.nan)] * n

        def book(i: int) -> None:
            mine = Client(srv.url, bench.token, timeout=60)
            mine.connect()
            body = {
                "calendar_id": calendar_id,
                "slot_id": slot["slot_id"],
                "client_firstname": "Race",
                "client_lastname": f"Client{i:02d}",
                "client_email": f"race{round_no}.{i}@example.com",
                "client_phone": f"+336{10000000 + i}",
            }
            barrier.wait()
            t0 = time.perf_counter()
            try:
                rep = mine.request("POST", "/api/appointment", body)
                results[i] = (rep.status, rep.error_code(), t0, time.perf_counter(), rep.elapsed_ms)
            except Exception as exc:  # a hang or a reset connection is a finding, not a crash of the bench
                results[i] = ("exception", type(exc).__name__, t0, time.perf_counter(), math.nan)
            mine.close()

        threads = [threading.Thread(target=book, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        barrier.wait()
        for t in threads:
            t.join()
        after = client.request("GET", f"/api/slots/{slot['slot_id']}").json().get("data") or {}
        problems = log_problems(srv.log_path)
    ok = sum(1 for r in results if r[0] == 200)
    unavailable = sum(1 for r in results if r[0] == 409 and r[1] == "SLOT_UNAVAILABLE")
    other: dict[str, int] = {}
    for r in results:
        if not (r[0] == 200 or (r[0] == 409 and r[1] == "SLOT_UNAVAILABLE")):
            key = f"{r[0]} {r[1]}".strip()
            other[key] = other.get(key, 0) + 1
    wall = max(r[3] for r in results) - min(r[2] for r in results)
    lat = [r[4] for r in results if not math.isnan(r[4])]
    correct = ok == free and unavailable == n - free and after.get("booked_appointments") == slot["capacity"]
    verdict = "OK" if correct else "WRONG"
    notes = (
        f"slot {slot['slot_id']} on {day} cap {slot['capacity']} booked {slot['booked_appointments']}: "
        f"{ok}x200 (expected {free}), {unavailable}x409 SLOT_UNAVAILABLE"
    )
    if other:
        notes += ", OTHER " + ", ".join(f"{k}: {v}" for k, v in sorted(other.items()))
    notes += f"; slot after: booked {after.get('booked_appointments')}/{after.get('capacity')}"
    notes += f"; {n} POSTs in {wall * 1000:.0f} ms"
    if any(problems.values()):
        notes += f"; server log: {problems}"
    bench.raw.setdefault("race", []).append(
        {
            "calendar_id": calendar_id,
            "round": round_no,
            "slot": slot,
            "ok": ok,
            "unavailable": unavailable,
            "other": other,
            "wall_s": wall,
            "after": after,
            "correct": correct,
        }
    )
    progress(f"{label}: {verdict} {notes}")
    bench.add(
        "race",
        label,
        f"{verdict} {ok}/{free}; {n / wall:,.0f} POST/s",
        fmt_ms(percentile(lat, 50)),
        fmt_ms(percentile(lat, 99)),
        notes,
    )


# ---------------------------------------------------------------------------------------------- table


def render_table(bench: Bench, started: float) -> str:
    a = bench.args
    head = ("what", "value", "p50 ms", "p99 ms", "notes")
    body = [r for name in SECTIONS for r in bench.rows[name]]
    widths = [
        max(len(head[0]), *(len(r.what) for r in body)),
        max(len(head[1]), *(len(r.value) for r in body)),
        max(len(head[2]), *(len(r.p50) for r in body)),
        max(len(head[3]), *(len(r.p99) for r in body)),
    ]

    def line(cells: tuple[str, ...]) -> str:
        return (
            f"{cells[0]:<{widths[0]}}  {cells[1]:>{widths[1]}}  {cells[2]:>{widths[2]}}  "
            f"{cells[3]:>{widths[3]}}  {cells[4]}"
        ).rstrip()

    out = [
        f"tap4book-mockserver bench  --  {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}  ({git_rev()})",
        f"server: tap4book-mock serve --port 0 --now {a.now} --log-format {a.log_format} "
        f"--workers {a.workers} --threads {a.threads}  (granian; {CLI})",
        f"load:   {wrk_version()} -t{a.wrk_threads} -c{a.wrk_conns} -d{a.duration} --latency after a {a.warmup} "
        f"warm-up per endpoint; scale curve -d{a.curve_duration}; loopback; Access-Token header",
        f"host:   {host_line()}; Python {platform.python_version()}; {versions()}",
        f"        box speed (2M-square Python loop, lower is faster): {bench.speed_before} before, {box_speed()} after",
        "        NOTE: wrk and the server share the cores: req/s is a ceiling for this box; 'ext' = CPU used by "
        "other processes (% of a core)",
        "",
        line(head),
        line((*("-" * w for w in widths), "-" * 5)),
    ]
    for name in SECTIONS:
        if bench.rows[name]:
            out.append(f"== {bench.titles.get(name, name)}")
            out.extend(line((r.what, r.value, r.p50, r.p99, r.notes)) for r in bench.rows[name])
    out.append("")
    if bench.slow:
        out.append("looked slow / worth a look:")
        out.extend(f"  - {item}" for item in bench.slow)
    q = bench.quiet
    if q is not None and q.spent:
        out.append(f"waited {q.spent:.0f} s in all for the box to be quiet (budget {q.budget_s:.0f} s)")
    out.append(f"total runtime {time.monotonic() - started:.0f} s; raw wrk output and JSON in {RAW.relative_to(ROOT)}/")
    return "\n".join(out)


def flag_slow_runs(bench: Bench) -> None:
    """Point at load runs that stand out: slow next to the cheapest endpoint, a long tail, an idle server."""
    load = [r for r in bench.raw.get("wrk", []) if r["label"].startswith("load")]
    if not load:
        return
    best = min(r["p50_ms"] for r in load)
    ncpu = os.cpu_count() or 1
    for r in load:
        name = r["label"][5:]
        if r["p50_ms"] > 3 * best:
            bench.slow.append(f"{name}: p50 {r['p50_ms']:.1f} ms = {r['p50_ms'] / best:.1f}x the fastest endpoint")
        if r["p99_ms"] > 100:
            bench.slow.append(f"{name}: p99 {r['p99_ms']:.0f} ms")
        if r["srv_pct"] + r["client_pct"] + r["ext_pct"] < 0.75 * 100 * ncpu:
            bench.slow.append(
                f"{name}: the box was not busy (server {r['srv_pct']:.0f}% + wrk {r['client_pct']:.0f}% + other "
                f"{r['ext_pct']:.0f}% of {100 * ncpu}%) while {bench.args.wrk_conns} connections waited: "
                "the server waits on something (locks, sleeps), it is not CPU-bound"
            )


def box_speed() -> str:
    """A fixed pure-Python loop, timed 3 times: how fast (and how steady) the box was during this run."""
    code = "import time; t = time.perf_counter(); sum(i * i for i in range(2_000_000)); print(time.perf_counter() - t)"
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    ]
    return f"{1000 * median(runs):.0f} ms (min {1000 * min(runs):.0f}, max {1000 * max(runs):.0f})"


def git_rev() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        return f"git {rev}{' + uncommitted changes' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        return "no git"


def wrk_version() -> str:
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return " ".join((out.stdout + out.stderr).split()[:2])


def versions() -> str:
    out = subprocess.run(
        [
            str(VENV_BIN / "python"),
            "-c",
            "import importlib.metadata as m;print(' '.join(f'{p} {m.version(p)}' for p in "
            "('flask','werkzeug','gunicorn')))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int, default=1, help="server processes (default 1, the server's default)")
    p.add_argument("--threads", type=int, default=64, help="threads per process (default 64, the server's default)")
    p.add_argument("--now", default=DEFAULT_NOW, help=f"frozen sandbox clock (default {DEFAULT_NOW})")
    p.add_argument("--log-format", default="off", choices=("off", "text", "json"))
    p.add_argument("--starts", type=int, default=5, help="cold starts per scale (median)")
    p.add_argument("--big-scale", type=int, default=100, help="the large dataset's --scale")
    p.add_argument("--duration", default="10s", help="wrk duration per endpoint")
    p.add_argument("--warmup", default="2s", help="wrk warm-up run per endpoint before the measured one")
    p.add_argument(
        "--repeat-duration",
        default="5s",
        help="wrk duration of the second run per endpoint that repeats the identical request (answer cache); 0: skip",
    )
    p.add_argument("--curve-duration", default="5s")
    p.add_argument("--curve-warmup", default="1s")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--wrk-conns", type=int, default=16)
    p.add_argument("--resets", type=int, default=200)
    p.add_argument("--race-rounds", type=int, default=3, help="rounds per calendar, each on a fresh server")
    p.add_argument("--race-calendars", default="1,3", help="calendar ids to race on (1: capacity 1, 3: up to 8)")
    p.add_argument("--race-clients", type=int, default=64)
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=20,
        help="before each cold start and measured run, wait up to this many seconds for other "
        "processes to use < 10%% of a core (0: do not wait)",
    )
    p.add_argument("--quiet-budget", type=float, default=120, help="total seconds all those waits may add")
    p.add_argument("--skip", default="", help="comma list of sections to skip: cold,load,reset,curve,race")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 1
    RAW.mkdir(parents=True, exist_ok=True)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    started = time.monotonic()
    bench = Bench(args, access_token())
    bench.speed_before = box_speed()
    bench.quiet = QuietWaiter(args.quiet_wait, args.quiet_budget)
    bench.has_cache_flag = serve_supports("--cache-dir")
    for old in RAW.glob(f"*-{bench.stack}*"):
        old.unlink()
    day = race_day(args.now)
    big_n = args.big_scale
    bench.titles.update(
        {
            "cold": f"cold start: spawn -> first HTTP 200 on an authenticated GET /api/calendars, median of "
            f"{args.starts} (the last start serves the runs below)",
            "load": f"throughput and latency, scale 1: wrk -d{args.duration}, every request unique (_bench=N) so "
            f"the answer cache misses; notes: the identical request repeated (wrk -d{args.repeat_duration})",
            "memory": "resident memory (VmRSS summed over the process tree)",
            "reset": "reset of one tenant (sequential calls on one keep-alive connection)",
            "curve": f"scale curve: scale 1 -> scale {big_n} (wrk -d{args.curve_duration}, unique requests; p50/p99: "
            f"scale 1 -> scale {big_n}; value: scale {big_n} / scale 1)",
            "race": f"booking race: {args.race_clients} concurrent POST /api/appointment on one slot, fresh server "
            "each round; p50/p99 = POST latency",
        }
    )

    srv = cold_starts(bench, 1) if "cold" not in skip else bench.server(1, "-scale1").start()
    small: dict[str, dict[str, Any]] = {}
    try:
        slot_id = first_slot_id(srv, bench.token, day)
        if "load" not in skip:
            load_runs(bench, srv, slot_id)
            memory_row(bench, srv, "after the load runs, scale 1")
        if "reset" not in skip:
            reset_runs(bench, srv)
        if "curve" not in skip:
            small = curve_runs(bench, srv, 1, slot_id)
        problems = log_problems(srv.log_path)
    finally:
        srv.stop()
    if any(problems.values()):
        bench.slow.append(f"server log (scale 1): {problems} in {srv.log_path}")

    if "curve" not in skip or "cold" not in skip:
        big = cold_starts(bench, big_n) if "cold" not in skip else bench.server(big_n, f"-scale{big_n}").start()
        try:
            if "curve" not in skip:
                big_curve = curve_runs(bench, big, big_n, first_slot_id(big, bench.token, day))
                memory_row(bench, big, f"after the curve runs, scale {big_n}")
                curve_rows(bench, small, big_curve)
            problems = log_problems(big.log_path)
        finally:
            big.stop()
        if any(problems.values()):
            bench.slow.append(f"server log (scale {big_n}): {problems} in {big.log_path}")

    if "race" not in skip:
        for cal in [int(c) for c in args.race_calendars.split(",") if c.strip()]:
            for rnd in range(1, args.race_rounds + 1):
                race(bench, cal, rnd)

    flag_slow_runs(bench)
    table = render_table(bench, started)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"run-{bench.stack}.txt").write_text(table + "\n")
    (RAW / f"run-{bench.stack}.json").write_text(json.dumps({"args": vars(args), **bench.raw}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
