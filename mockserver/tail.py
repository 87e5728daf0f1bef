"""``tap4book-mock tail``: the request journal of a running sandbox, one readable line per request.

It reads the Server-Sent Events of ``GET /__mock/journal/stream`` (standard library only). Colour only on a
terminal; ``--json`` prints each entry as one JSON line for machines. Ctrl-C ends it with status 0; a server
that cannot be reached is one line on stderr and status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
from collections.abc import Iterator
from typing import Any, TextIO

from mockserver.printable import json_line, printable
from mockserver.protocol import ADMIN_HEADER

DEFAULT_URL = "http://127.0.0.1:8080"
COLOURS = {"2": "\033[32m", "3": "\033[36m", "4": "\033[33m", "5": "\033[31m", "0": "\033[35m"}
RESET = "\033[0m"
DIM = "\033[2m"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    tail = commands.add_parser(
        "tail",
        help="follow the request journal of a running sandbox",
        description="Print one line per API request a running sandbox receives: time, tenant, method, path, "
        "status, error_code, rule, duration and, for a failure, why. Ctrl-C stops it.",
    )
    tail.add_argument(
        "--url",
        default=os.environ.get("T4B_URL", DEFAULT_URL),
        help=f"the sandbox [env T4B_URL; default {DEFAULT_URL}]",
    )
    tail.add_argument("--tenant", help="only this tenant (space/name, e.g. sandbox/default)")
    tail.add_argument("--method", help="only this HTTP method")
    tail.add_argument("--path", help="only paths matching this glob, e.g. '/api/appointment*'")
    tail.add_argument("--status", choices=("2xx", "3xx", "4xx", "5xx"), help="only answers of this status class")
    tail.add_argument("--error-code", help="only answers with this error_code")
    tail.add_argument(
        "--since", type=int, default=0, metavar="SECONDS", help="start with the requests of the last SECONDS"
    )
    tail.add_argument("--json", action="store_true", help="one JSON object per line, for machines")
    tail.add_argument(
        "--exit-when-idle", type=float, metavar="SECONDS", help="stop (status 0) once nothing arrived for SECONDS"
    )
    tail.add_argument(
        "--admin-token",
        default=os.environ.get("T4B_ADMIN_TOKEN"),
        help="the server's --admin-token [env T4B_ADMIN_TOKEN]",
    )
    return tail


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    colour = not args.json and out.isatty() and "NO_COLOR" not in os.environ
    query = {
        "tenant": args.tenant,
        "method": args.method,
        "path": args.path,
        "status": args.status,
        "error_code": args.error_code,
        "since": args.since or None,
    }
    url = (
        args.url.rstrip("/")
        + "/__mock/journal/stream?"
        + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    )
    headers = {"Accept": "text/event-stream"}
    if args.admin_token:
        headers[ADMIN_HEADER] = args.admin_token
    last_id: str | None = None
    try:
        while True:
            if last_id:
                headers["Last-Event-ID"] = last_id
            try:
                for kind, event_id, data in _events(url, headers, args.exit_when_idle):
                    if event_id:
                        last_id = event_id
                    _show(out, kind, data, args.json, colour)
                return 0  # the server closed the stream (it stopped)
            except TimeoutError:
                return 0  # --exit-when-idle
            except urllib.error.HTTPError as error:
                print(printable(f"tap4book-mock tail: {args.url}: {_reason(error)}"), file=sys.stderr)
                return 1
            except (urllib.error.URLError, ConnectionError, OSError) as error:
                if last_id is None:
                    reason = getattr(error, "reason", error)
                    print(printable(f"tap4book-mock tail: cannot reach {args.url}: {reason}"), file=sys.stderr)
                    return 1
                time.sleep(1)  # the stream broke after it worked: resume where it stopped
    except KeyboardInterrupt:
        return 0


def _reason(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read())
        return f"HTTP {error.code} {body.get('error_code')}: {body.get('message')}"
    except (ValueError, AttributeError):
        return f"HTTP {error.code}"


def _events(url: str, headers: dict[str, str], idle: float | None) -> Iterator[tuple[str, str | None, str]]:
    """(event, id, data) of each Server-Sent Event; TimeoutError once nothing came for ``idle`` seconds."""
    import urllib.request  # here: the command line loads this module for `serve` too, which never needs it

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers=headers)
    with opener.open(request, timeout=idle if idle else 60) as stream:
        kind, event_id, data = "message", None, []
        last_event = time.monotonic()
        while True:
            try:
                raw = stream.readline()
            except TimeoutError:
                if idle:
                    raise TimeoutError from None
                continue
            if not raw:
                return
            line = raw.decode("utf-8").rstrip("\r\n")
            if not line:
                if data:
                    yield kind, event_id, "\n".join(data)
                    last_event = time.monotonic()
                kind, event_id, data = "message", None, []
            elif line.startswith(":"):  # a heartbeat: the server is there, but nothing happened
                if idle and time.monotonic() - last_event >= idle:
                    raise TimeoutError
                continue
            else:
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "event":
                    kind = value
                elif name == "id":
                    event_id = value
                elif name == "data":
                    data.append(value)


def _show(out: TextIO, kind: str, data: str, as_json: bool, colour: bool) -> None:
    if kind == "dropped":
        missed = json.loads(data).get("dropped")
        print(f"... {missed} requests not shown (the reader fell behind)", file=out, flush=True)
        return
    if kind == "unrecorded":
        lost = json.loads(data).get("unrecorded")
        print(f"... {lost} requests not recorded (the journal could not write)", file=out, flush=True)
        return
    if kind != "entry":
        return
    entry = json.loads(data)
    if as_json:
        print(json_line(entry), file=out, flush=True)
        return
    print(line(entry, colour), file=out, flush=True)


def line(entry: dict[str, Any], colour: bool = False) -> str:
    """One readable line: time, tenant, method, path (and query), status, error_code, rule, duration, hint; the
    client's text with its control characters escaped (a path must not start a line or drive the terminal)."""
    when = time.strftime("%H:%M:%S", time.localtime(entry["at"])) + f".{int(entry['at'] % 1 * 1000):03d}"
    query = urllib.parse.urlencode(entry.get("query") or {})
    target = entry["path"] + (f"?{query}" if query else "")
    status = str(entry["status"]) if entry["status"] else (entry.get("fault") or "fault")
    parts = [when, entry.get("tenant") or "-", entry["method"], target, status, entry.get("error_code") or "-"]
    if entry.get("rule_id") is not None:
        parts.append(f"rule={entry['rule_id']}")
    parts.append(f"{entry['duration_ms']:.1f}ms")
    text = printable(" ".join(str(part) for part in parts))
    hint = entry.get("hint") if (entry["status"] or 0) >= 400 or not entry["status"] else None
    hint = printable(hint) if hint else None
    if colour:
        shade = COLOURS.get(str(entry["status"])[:1], "")
        text = f"{shade}{text}{RESET}" + (f" {DIM}{hint}{RESET}" if hint else "")
    elif hint:
        text += f"  # {hint}"
    return text
