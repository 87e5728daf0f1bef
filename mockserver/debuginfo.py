"""The ``debug`` block of debug-mode answers ("Mode Debug"): real memory, time and query count."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def block(method: str, path: str, started: float, queries: int, hint: str | None = None) -> dict[str, Any]:
    """The documented fields, plus ``hint`` (why a call failed) when there is one."""
    body: dict[str, Any] = {
        "memory_usage": rss_bytes(),
        "execution_time": round(time.perf_counter() - started, 4),
        "query_count": queries,
        "request_method": method,
        "endpoint": path,
        "debug_mode": True,
    }
    if hint:
        body["hint"] = hint
    return body


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:  # no /proc (macOS): the peak, which is what getrusage offers
        import resource  # Unix only; the pytest plugin's in-process server may run elsewhere

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere
