"""Soak: N minutes of mixed traffic at a steady rate against the real server, watching memory and errors.

    .venv/bin/python bench/soak.py                 # 10 minutes, 8 client threads, 200 req/s target
    .venv/bin/python bench/soak.py --minutes 2 --rate 0   # as fast as the client threads go

Traffic (weights in --mix): reads in JSON, XML and CSV; bookings (POST /api/appointment); moves
(PUT /api/appointment/{id} {"slot_id": ...}); cancellations (PUT {"status": "cancelled"}); forced errors
(a booking sent with ``X-Mock-Scenario: SLOT_UNAVAILABLE``, counted apart as forced); and one
POST /__mock/reset of the default tenant every --reset-every seconds (with keep_journal, so the journal
fills up to its bound). VmRSS of the server's process tree is sampled every --sample seconds.

Prints: counts per status (and error code) per kind of request, unforced 5xx (must be 0), RSS at start,
after warm-up and at the end with the growth, worker restarts, the journal size, problems in the server log.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from benchlib import (
    DATASET_CACHE,
    DEFAULT_NOW,
    DEFAULT_TENANT,
    RAW,
    RESULTS,
    Client,
    Server,
    access_token,
    host_line,
    log_problems,
    mb,
    percentile,
    progress,
    serve_supports,
)

FORCED_HEADER = "X-Mock-Scenario"
FORCED_CODE = "SLOT_UNAVAILABLE"
DEFAULT_MIX = "json=30,xml=10,csv=10,book=15,move=10,cancel=8,forced=5"
READS = [
    "/api/calendars",
    "/api/calendars/{cal}",
    "/api/appointments?per_page=50&page={page}",
    "/api/appointments?calendar_id={cal}&status=confirmed&per_page=20",
    "/api/slots?calendar_id={cal}&date_from={day}",
    "/api/clients?search=jean",
    "/api/clients?per_page=20&page={page}",
    "/api/statistics/appointments?period=last30days",
    "/api/statistics/calendars",
    "/api/statistics/clients",
]


@dataclass
class State:
    """What the client threads share: free slots per calendar, our appointments, the counters."""

    calendars: list[int]
    days: tuple[str, str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    free: dict[int, list[int]] = field(default_factory=dict)
    # (appointment_id, calendar_id, generation): generation counts resets sent, so that a 404 on an
    # appointment booked before a reset that has since happened is told apart from a real miss.
    mine: list[tuple[int, int, int]] = field(default_factory=list)
    generation: int = 0
    counts: Counter[tuple[str, int | str, str]] = field(default_factory=Counter)
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    unforced_5xx: list[str] = field(default_factory=list)
    next_reset: float = 0.0
    serial: int = 0

    def refill(self, client: Client) -> None:
        """Reload the free slots of every active calendar over the next weeks (after a reset, or when low)."""
        free: dict[int, list[int]] = {}
        for cal in self.calendars:
            reply = client.request(
                "GET", f"/api/slots?calendar_id={cal}&date_from={self.days[0]}&date_to={self.days[1]}&per_page=1000"
            )
            if reply.status == 200:
                free[cal] = [s["slot_id"] for s in reply.json()["data"] if s["capacity"] - s["booked_appointments"] > 0]
        with self.lock:
            self.free = free

    def pick_slot(self, calendar_id: int | None = None) -> tuple[int, int] | None:
        with self.lock:
            choices = [c for c in self.free if self.free[c]] if calendar_id is None else [calendar_id]
            choices = [c for c in choices if self.free.get(c)]
            if not choices:
                return None
            cal = random.choice(choices)
            return cal, random.choice(self.free[cal])

    def slot_full(self, calendar_id: int, slot_id: int) -> None:
        with self.lock:
            slots = self.free.get(calendar_id, [])
            if slot_id in slots:
                slots.remove(slot_id)


def client_body(state: State, calendar_id: int, slot_id: int) -> dict[str, Any]:
    with state.lock:
        state.serial += 1
        n = state.serial
    # Mostly returning clients (matched by e-mail), some new ones: both paths of the booking write.
    who = n if n % 5 == 0 else n % 100
    return {
        "calendar_id": calendar_id,
        "slot_id": slot_id,
        "client_firstname": "Soak",
        "client_lastname": f"Client{who}",
        "client_email": f"soak{who}@example.org",
        "client_phone": f"+3361{who % 10_000_000:07d}",
    }


def one_request(kind: str, client: Client, state: State, args: argparse.Namespace) -> None:
    """Do one request of this kind and count it as (kind, status, error_code)."""
    headers: dict[str, str] = {}
    target: tuple[int, int, int] | None = None
    if kind in ("json", "xml", "csv"):
        path = random.choice(READS).format(
            cal=random.choice(state.calendars), page=random.randint(1, 5), day=state.days[0]
        )
        if kind != "json":
            path += ("&" if "?" in path else "?") + f"format={kind}"
        method, body = "GET", None
    elif kind in ("book", "forced"):
        picked = state.pick_slot()
        if picked is None:
            state.refill(client)
            picked = state.pick_slot()
            if picked is None:
                kind, method, path, body = "json", "GET", "/api/calendars", None
        if picked is not None:
            method, path, body = "POST", "/api/appointment", client_body(state, *picked)
            if kind == "forced":
                headers[FORCED_HEADER] = FORCED_CODE
    elif kind in ("move", "cancel"):
        with state.lock:
            target = (
                (state.mine.pop(random.randrange(len(state.mine))) if kind == "cancel" else random.choice(state.mine))
                if state.mine
                else None
            )
        picked = state.pick_slot(target[1]) if target and kind == "move" else None
        if target is None or (kind == "move" and picked is None):
            kind, method, path, body = "json", "GET", "/api/statistics/calendars", None
        else:
            method, path = "PUT", f"/api/appointment/{target[0]}"
            body = {"slot_id": picked[1]} if kind == "move" and picked else {"status": "cancelled"}
    elif kind == "reset":
        method, path = "POST", "/__mock/reset"
        body = {"tenant": DEFAULT_TENANT}
        with state.lock:
            state.generation += 1
        if not args.reset_clears_journal:
            body["keep_journal"] = True
    else:
        raise ValueError(kind)
    with state.lock:
        sent_in = state.generation
    try:
        reply = client.request(method, path, body, headers)
    except Exception as exc:  # a timeout or a dropped connection is a finding: count it, keep going
        with state.lock:
            state.counts[(kind, "exception", type(exc).__name__)] += 1
        client.close()
        return
    code = reply.error_code() if reply.status != 200 else ""
    if kind == "csv" and reply.status != 200 and not code:
        code = "?"
    with state.lock:
        if reply.status == 404 and kind in ("move", "cancel") and target and target[2] != state.generation:
            code += " (booked before a reset)"
        state.counts[(kind, reply.status, code)] += 1
        state.latency[kind].append(reply.elapsed_ms)
        if reply.status >= 500 and kind != "forced" and len(state.unforced_5xx) < 20:
            state.unforced_5xx.append(f"{method} {path} -> {reply.status}: {reply.body[:300]!r}")
    if reply.status == 200 and kind in ("book", "forced"):
        appointment = reply.json()["data"]["appointment"]
        with state.lock:
            state.mine.append((appointment["appointment_id"], appointment["calendar_id"], sent_in))
            del state.mine[:-2000]  # bounded: old ones may be gone after a reset anyway
    elif reply.status == 409 and code == "SLOT_UNAVAILABLE" and kind == "book" and body:
        state.slot_full(body["calendar_id"], body["slot_id"])
    elif kind == "reset" and reply.status == 200:
        with state.lock:
            state.mine.clear()
        state.refill(client)


def worker(
    index: int,
    url: str,
    token: str,
    state: State,
    args: argparse.Namespace,
    kinds: list[str],
    weights: list[int],
    stop_at: float,
) -> None:
    client = Client(url, token, timeout=30)
    rng_interval = args.concurrency / args.rate if args.rate > 0 else 0.0
    next_at = time.monotonic() + index * rng_interval / max(args.concurrency, 1)
    while True:
        now = time.monotonic()
        if now >= stop_at:
            break
        if rng_interval:
            if next_at > now:
                time.sleep(next_at - now)
            elif now - next_at > 1.0:  # fell behind by over a second: do not burst to catch up
                next_at = now
            next_at += rng_interval
        with state.lock:
            do_reset = time.monotonic() >= state.next_reset
            if do_reset:
                state.next_reset = time.monotonic() + args.reset_every
        kind = "reset" if do_reset else random.choices(kinds, weights)[0]
        one_request(kind, client, state, args)
    client.close()


def sampler(
    srv: Server, samples: list[dict[str, Any]], state: State, period: float, stop: threading.Event, t0: float
) -> None:
    while not stop.wait(period):
        total, per = srv.rss()
        with state.lock:
            done = sum(state.counts.values())
        samples.append({"t": time.monotonic() - t0, "rss_kb": total, "pids": sorted(per), "requests": done})
        progress(f"t={samples[-1]['t']:.0f}s requests {done} RSS {mb(total)} over {len(per)} procs")


def parse_mix(text: str) -> tuple[list[str], list[int]]:
    kinds, weights = [], []
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in ("json", "xml", "csv", "book", "move", "cancel", "forced"):
            raise SystemExit(f"unknown kind in --mix: {name!r}")
        kinds.append(name.strip())
        weights.append(int(weight))
    return kinds, weights


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--workers", type=int, default=1, help="server processes (default 1, the server's default)")
    p.add_argument("--threads", type=int, default=64, help="threads per process (default 64, the server's default)")
    p.add_argument("--scale", type=int, default=1)
    p.add_argument("--now", default=DEFAULT_NOW)
    p.add_argument("--journal-size", type=int, default=None, help="passed to the server (default: its own)")
    p.add_argument("--log-format", default="off", choices=("off", "text", "json"))
    p.add_argument("--concurrency", type=int, default=8, help="client threads")
    p.add_argument("--rate", type=float, default=200, help="target requests/s over all threads (0: unthrottled)")
    p.add_argument("--mix", default=DEFAULT_MIX, help=f"kind=weight list (default {DEFAULT_MIX})")
    p.add_argument("--reset-every", type=float, default=30, help="seconds between resets of the default tenant")
    p.add_argument("--reset-clears-journal", action="store_true", help="reset without keep_journal")
    p.add_argument("--sample", type=float, default=10, help="seconds between RSS samples")
    p.add_argument("--seed", type=int, default=1, help="seed of the client's random choices")
    args = p.parse_args(argv)
    random.seed(args.seed)
    kinds, weights = parse_mix(args.mix)
    token = access_token()
    duration = args.minutes * 60
    warmup = min(60.0, max(10.0, duration / 5))
    extra = ["--journal-size", str(args.journal_size)] if args.journal_size is not None else []
    if serve_supports("--cache-dir"):
        extra += ["--cache-dir", str(DATASET_CACHE)]
    srv = Server(
        token,
        now=args.now,
        scale=args.scale,
        workers=args.workers,
        threads=args.threads,
        log_format=args.log_format,
        extra=extra,
        log_path=RAW / "server-soak.log",
    )
    RAW.mkdir(parents=True, exist_ok=True)
    srv.log_path.write_bytes(b"")
    srv.start()
    srv.wait_workers()
    progress(f"server ready at {srv.url} in {srv.first_200_ms:.0f} ms; soaking {duration:.0f} s")
    client = Client(srv.url, token)
    try:
        cals = client.request("GET", "/api/calendars?per_page=1000").json()["data"]
        now_day = datetime.fromisoformat(args.now.replace("Z", "+00:00")).date()
        state = State(
            calendars=[c["calendar_id"] for c in cals if c["is_active"]],
            days=(str(now_day + timedelta(days=1)), str(now_day + timedelta(days=29))),
        )
        state.refill(client)
        state.next_reset = time.monotonic() + args.reset_every
        start_rss, start_per = srv.rss()
        samples: list[dict[str, Any]] = [{"t": 0.0, "rss_kb": start_rss, "pids": sorted(start_per), "requests": 0}]
        t0 = time.monotonic()
        stop = threading.Event()
        watch = threading.Thread(target=sampler, args=(srv, samples, state, args.sample, stop, t0), daemon=True)
        watch.start()
        threads = [
            threading.Thread(target=worker, args=(i, srv.url, token, state, args, kinds, weights, t0 + duration))
            for i in range(args.concurrency)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        stop.set()
        watch.join()
        end_rss, end_per = srv.rss()
        samples.append(
            {"t": elapsed, "rss_kb": end_rss, "pids": sorted(end_per), "requests": sum(state.counts.values())}
        )
        journal = client.request("GET", "/__mock/journal/count")
        journal_text = (
            f"{journal.json()['data']['count']} entries (GET /__mock/journal/count)"
            if journal.status == 200
            else f"n/a (GET /__mock/journal/count -> {journal.status})"
        )
        health = client.request("GET", "/api/calendars").status
    finally:
        srv.stop()
    problems = log_problems(srv.log_path)

    # ------------------------------------------------------------------------------------------ report
    total = sum(state.counts.values())
    by_status: Counter[int | str] = Counter()
    for (_kind, status, _code), n in state.counts.items():
        by_status[status] += n
    unforced_5xx = sum(
        n
        for (kind, status, _c), n in state.counts.items()
        if isinstance(status, int) and status >= 500 and kind != "forced"
    )
    exceptions = sum(n for (_k, status, _c), n in state.counts.items() if status == "exception")
    forced_sent = sum(n for (kind, _s, _c), n in state.counts.items() if kind == "forced")
    forced_ok = state.counts[("forced", 409, FORCED_CODE)]
    warm = next((s for s in samples if s["t"] >= warmup), samples[-1])
    growth = 100 * (end_rss - warm["rss_kb"]) / warm["rss_kb"] if warm["rss_kb"] else math.nan
    growth_start = 100 * (end_rss - start_rss) / start_rss if start_rss else math.nan
    worker_sets = {tuple(s["pids"]) for s in samples}
    restarts = len({pid for s in samples for pid in s["pids"]}) - len(samples[0]["pids"])  # new PIDs

    lines = [
        f"tap4book-mockserver soak  --  {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
        f"server: tap4book-mock serve --port 0 --now {args.now} --log-format {args.log_format} "
        f"--workers {args.workers} --threads {args.threads}"
        + (f" --scale {args.scale}" if args.scale != 1 else "")
        + (f" --journal-size {args.journal_size}" if args.journal_size is not None else ""),
        f"load:   {args.concurrency} client threads, target {args.rate:g} req/s, mix {args.mix}, "
        f"a reset every {args.reset_every:g} s{'' if args.reset_clears_journal else ' (keep_journal)'}",
        f"host:   {host_line()}",
        f"ran {elapsed:.0f} s: {total} requests, {total / elapsed:.0f} req/s achieved",
        "",
        f"{'kind':<8} {'requests':>8} {'p50 ms':>7} {'p99 ms':>7}  statuses (error codes)",
    ]
    for kind in [*kinds, "reset"]:
        rows = {(s, c): n for (k, s, c), n in state.counts.items() if k == kind}
        if not rows:
            continue
        lat = state.latency.get(kind, [])
        detail = ", ".join(
            f"{s}{' ' + c if c else ''}: {n}"
            for (s, c), n in sorted(rows.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))
        )
        lines.append(
            f"{kind:<8} {sum(rows.values()):>8} {percentile(lat, 50):>7.1f} {percentile(lat, 99):>7.1f}  {detail}"
        )
    lines += [
        "",
        "statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items(), key=lambda kv: str(kv[0]))),
        f"unforced 5xx: {unforced_5xx} {'(OK)' if unforced_5xx == 0 else '(MUST BE 0)'}; "
        f"client exceptions (timeouts, dropped connections): {exceptions}",
        f"forced errors: {forced_sent} sent with {FORCED_HEADER}: {FORCED_CODE}, {forced_ok} answered 409 {FORCED_CODE}"
        + (f", {forced_sent - forced_ok} NOT honoured" if forced_sent != forced_ok else ""),
        f"RSS (process tree): start {mb(start_rss)}, after warm-up (t={warm['t']:.0f}s) {mb(warm['rss_kb'])}, "
        f"end {mb(end_rss)}; growth warm-up -> end {growth:+.1f}% (start -> end {growth_start:+.1f}%)",
        "RSS samples (MB): " + " ".join(f"{s['t']:.0f}s:{s['rss_kb'] / 1024:.0f}" for s in samples),
        f"server processes: {len(samples[0]['pids'])} at start, {len(samples[-1]['pids'])} at end, "
        f"{max(restarts, 0)} new PIDs seen (worker restarts){'' if len(worker_sets) == 1 else ' -- PIDS CHANGED'}",
        f"journal: {journal_text}; GET /api/calendars after the soak: {health}",
        f"server log: {problems}",
    ]
    if state.unforced_5xx:
        lines.append("unforced 5xx examples:")
        lines += [f"  {e}" for e in state.unforced_5xx[:10]]
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "soak.txt").write_text(report + "\n")
    (RAW / "soak.json").write_text(
        json.dumps(
            {"args": vars(args), "samples": samples, "counts": [[k, s, c, n] for (k, s, c), n in state.counts.items()]},
            indent=1,
            default=str,
        )
    )
    return 0 if unforced_5xx == 0 and exceptions == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
