"""Shared pieces of the bench scripts: start/stop the real server, measure its process tree, talk HTTP.

Standard library only, so every script runs from the project's venv (``.venv/bin/python bench/run.py``).
The server is started exactly as a user starts it (``tap4book-mock serve --port 0 ...``) and stopped by its
own PID (SIGTERM, then SIGKILL); leftover children are stopped by their own PIDs, never by name.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV_BIN = ROOT / ".venv" / "bin"
# The server under test: bench/run.sh points this at a regular (non-editable) install of the working tree,
# as a user's `pip install .` would be; by default the project's development venv.
CLI = Path(os.environ.get("T4B_BENCH_CLI") or VENV_BIN / "tap4book-mock")
RESULTS = BENCH / "results"
RAW = RESULTS / "raw"
DATASET_CACHE = RAW / "dataset-cache"  # the bench's own --cache-dir, so ~/.cache plays no part in a figure
DEFAULT_NOW = "2025-06-07T15:30:00+02:00"
DEFAULT_TENANT = "sandbox/default"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def progress(text: str) -> None:
    """A timestamped progress line on stderr (the figures go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def serve_supports(flag: str) -> bool:
    """Whether this version of ``tap4book-mock serve`` has a flag (the bench runs against a moving tree)."""
    out = subprocess.run([str(CLI), "serve", "--help"], capture_output=True, text=True, check=False, cwd=ROOT)
    return flag in out.stdout


def access_token() -> str:
    """The default account's token, from the command a user would run."""
    out = subprocess.run([str(CLI), "token"], capture_output=True, text=True, check=True, cwd=ROOT)
    return out.stdout.strip()


# ---------------------------------------------------------------------------------------------- /proc


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (so index 0 is the state, 1 the ppid)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def tree_pids(root: int) -> list[int]:
    """root and all its descendants (live ones), root first."""
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat_fields(int(name))
            if fields and fields[0] != "Z":
                parents[int(name)] = int(fields[1])
    if root not in parents:
        return []
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier and pid not in found]
        found.extend(frontier)
    return found


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(root: int) -> tuple[int, dict[int, int]]:
    """(VmRSS summed over the tree, per-pid VmRSS) in KiB."""
    per = {pid: rss_kb(pid) for pid in tree_pids(root)}
    return sum(per.values()), per


def tree_cpu_ticks(root: int) -> int:
    total = 0
    for pid in tree_pids(root):
        fields = _stat_fields(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def machine_ticks() -> tuple[int, int]:
    """(busy = user+nice+system+irq+softirq, total) jiffies of the whole box."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    busy = values[0] + values[1] + values[2] + values[5] + values[6]
    return busy, sum(values)


class CpuWindow:
    """CPU used by the server tree, by reaped children (wrk) and by everything else, in % of one core."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid
        self.srv0 = tree_cpu_ticks(server_pid)
        self.busy0, self.total0 = machine_ticks()
        ru = os.times()
        self.child0 = ru.children_user + ru.children_system
        self.t0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        elapsed = max(time.monotonic() - self.t0, 1e-6)
        srv = (tree_cpu_ticks(self.pid) - self.srv0) / CLK_TCK
        busy1, total1 = machine_ticks()
        ru = os.times()
        child = ru.children_user + ru.children_system - self.child0
        ncpu = os.cpu_count() or 1
        busy = (busy1 - self.busy0) / max(total1 - self.total0, 1) * ncpu * elapsed
        ext = max(busy - srv - child, 0.0)
        return {"srv_pct": 100 * srv / elapsed, "client_pct": 100 * child / elapsed, "ext_pct": 100 * ext / elapsed}


def others_busy_pct(exclude_pid: int | None, seconds: float = 1.0) -> float:
    """CPU used by other processes than ours (this one, its children, the server tree), % of one core."""
    srv0 = tree_cpu_ticks(exclude_pid) if exclude_pid else 0
    mine0 = sum(os.times()[:4])
    busy0, total0 = machine_ticks()
    time.sleep(seconds)
    srv1 = tree_cpu_ticks(exclude_pid) if exclude_pid else 0
    mine1 = sum(os.times()[:4])
    busy1, total1 = machine_ticks()
    ncpu = os.cpu_count() or 1
    busy = (busy1 - busy0) / max(total1 - total0, 1) * ncpu * seconds
    return max(100 * (busy - (srv1 - srv0) / CLK_TCK - (mine1 - mine0)) / seconds, 0.0)


class QuietWaiter:
    """Before a measurement, wait (up to ``wait_s``, ``budget_s`` in all) until the box is quiet."""

    def __init__(self, wait_s: float, budget_s: float, max_pct: float = 10.0) -> None:
        self.wait_s, self.budget_s, self.max_pct, self.spent = wait_s, budget_s, max_pct, 0.0

    def wait(self, server_pid: int | None = None) -> float:
        """Seconds waited; 0 when the box was quiet at once (or waiting is off or its budget spent)."""
        waited = 0.0
        while self.wait_s > 0 and waited < self.wait_s and self.spent < self.budget_s:
            if others_busy_pct(server_pid) < self.max_pct:
                break
            waited += 1.0
            self.spent += 1.0
        return waited


# ---------------------------------------------------------------------------------------------- server


@dataclass
class Server:
    """One ``tap4book-mock serve`` process; ``start`` returns once /api/calendars answered 200."""

    token: str
    now: str = DEFAULT_NOW
    scale: int = 1
    workers: int | None = None
    threads: int | None = None
    log_format: str = "off"
    cache_dir: str | None = None  # --cache-dir (dataset cache): a path, "off", or None for the server's default
    extra: list[str] = field(default_factory=list)
    log_path: Path = RAW / "server.log"
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""
    ready_ms: float = 0.0
    first_200_ms: float = 0.0
    ready_info: dict[str, Any] = field(default_factory=dict)

    def command(self) -> list[str]:
        cmd = [str(CLI), "serve", "--port", "0", "--now", self.now, "--log-format", self.log_format]
        if self.scale != 1:
            cmd += ["--scale", str(self.scale)]
        if self.workers is not None:
            cmd += ["--workers", str(self.workers)]
        if self.threads is not None:
            cmd += ["--threads", str(self.threads)]
        if self.cache_dir is not None:
            cmd += ["--cache-dir", self.cache_dir]
        return cmd + self.extra

    def start(self, timeout: float = 120.0) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        log.write(f"--- {time.strftime('%H:%M:%S')} {' '.join(self.command())}\n".encode())
        log.flush()
        lines: queue.Queue[bytes] = queue.Queue()
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.command(), cwd=ROOT, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL
        )
        log.close()
        proc = self.proc

        def drain() -> None:  # keep reading stdout so the server never blocks on a full pipe
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)

        threading.Thread(target=drain, daemon=True).start()
        deadline = t0 + timeout
        while True:
            try:
                line = lines.get(timeout=0.05)
            except queue.Empty:
                line = b""
            if line.strip().startswith(b"{"):
                info = json.loads(line)
                if info.get("event") == "ready":
                    self.ready_ms = (time.perf_counter() - t0) * 1000
                    self.ready_info, self.url = info, info["url"]
                    break
            if proc.poll() is not None:
                raise RuntimeError(f"server exited (rc={proc.returncode}) before ready; see {self.log_path}")
            if time.perf_counter() > deadline:
                self.stop()
                raise RuntimeError(f"no ready line within {timeout:.0f}s; see {self.log_path}")
        client = Client(self.url, self.token, timeout=10)
        while True:
            try:
                status = client.request("GET", "/api/calendars").status
            except OSError:
                status = 0
            if status == 200:
                self.first_200_ms = (time.perf_counter() - t0) * 1000
                break
            if time.perf_counter() > deadline or proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"no HTTP 200 on /api/calendars (last {status}); see {self.log_path}")
            time.sleep(0.005)
        client.close()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def wait_workers(self, timeout: float = 15.0) -> int:
        """Wait until the master has forked all its workers (one worker: no master, the process itself)."""
        workers = int(self.ready_info.get("workers", 1))
        want = 1 if workers == 1 else workers + 1
        deadline = time.monotonic() + timeout
        while len(tree_pids(self.pid)) < want and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(tree_pids(self.pid))

    def rss(self) -> tuple[int, dict[int, int]]:
        return tree_rss_kb(self.pid)

    def stop(self) -> None:
        if self.proc is None:
            return
        pids = tree_pids(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in pids[1:]:  # children that outlived the master, by their own PIDs
            if _stat_fields(pid) is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.proc = None

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def log_problems(path: Path, since: int = 0) -> dict[str, int]:
    """Counts of worrying lines in a server log (from byte offset ``since``)."""
    counts = {"traceback": 0, "worker_timeout": 0, "worker_exit": 0, "error": 0}
    try:
        with open(path, "rb") as fh:
            fh.seek(since)
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return counts
    for line in text.splitlines():
        if "Traceback (most recent call last)" in line:
            counts["traceback"] += 1
        if "WORKER TIMEOUT" in line:
            counts["worker_timeout"] += 1
        if "Worker (pid:" in line and ("exited" in line or "was sent" in line):
            counts["worker_exit"] += 1
        if "[ERROR]" in line or " ERROR " in line:
            counts["error"] += 1
    return counts


# ---------------------------------------------------------------------------------------------- HTTP


@dataclass
class Reply:
    status: int
    body: bytes
    elapsed_ms: float
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)

    def error_code(self) -> str:
        try:
            value = self.json()
        except ValueError:
            return ""
        return str(value.get("error_code", "")) if isinstance(value, dict) else ""


class Client:
    """A keep-alive HTTP/1.1 connection that sends the Access-Token header; reconnects once on a dropped one."""

    def __init__(self, url: str, token: str | None, timeout: float = 30.0) -> None:
        host, _, port = url.removeprefix("http://").rstrip("/").rpartition(":")
        self.host, self.port, self.timeout, self.token = host.strip("[]"), int(port), timeout, token
        self.conn: http.client.HTTPConnection | None = None

    def connect(self) -> None:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.connect()

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        sent = dict(headers or {})
        if self.token:
            sent.setdefault("Access-Token", self.token)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        for attempt in (1, 2):
            self.connect()
            assert self.conn is not None
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=sent)
                resp = self.conn.getresponse()
                payload = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed while idle: retry once on a new one.
                self.close()
                if attempt == 2:
                    raise
                continue
            except Exception:
                self.close()
                raise
            elapsed = (time.perf_counter() - t0) * 1000
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            return Reply(resp.status, payload, elapsed, {k.lower(): v for k, v in resp.getheaders()})
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ---------------------------------------------------------------------------------------------- numbers


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100); nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def mb(kib: int) -> str:
    return f"{kib / 1024:.0f} MB"


def host_line() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    with open("/proc/loadavg") as fh:
        load = " ".join(fh.read().split()[:3])
    return f"{os.cpu_count()} cores ({model}), loadavg {load}"
