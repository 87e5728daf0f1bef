"""``tap4book-mock probe``: the flags, the credentials, the confirmation prompt, the outputs, the exit status.

Exit status: 0 when no difference was found, 1 when any was, 2 on a usage or connection error (one line
on stderr, no traceback). The token and the secret never reach stdout, stderr or the report.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockserver.probe.fetch import Limits, ProbeError

if TYPE_CHECKING:
    from mockserver.probe.report import Redactor

SECRET_VARIABLE = "T4B_PROBE_SECRET"
PROG = "tap4book-mock probe"

DESCRIPTION = """\
Compare the sandbox with a real TAP4BOOK API, point by point: a fixed script of read-only calls
(information, every list and detail, calendar-scoped lists, statistics for each period, pagination
edges, JSON/XML/CSV, and safe error triggers) goes to the target and to a sandbox started for the
purpose with the target's clock (or --sandbox). What does not depend on the data is compared: HTTP
status, envelope keys and their order, the type of every field, error_code, Content-Type, XML
elements, CSV header and quoting, pagination arithmetic, timestamp formats and offsets, and rules any
dataset satisfies (statistics add up, totals match the lists). Each difference names the call, the
path in the body, both values, and the section of docs/interpretation.md it touches.

Output: a table on stdout, the JSON report with --out. Exit status: 0 no difference, 1 differences,
2 usage or connection error. Nothing is written to the target without --allow-writes."""

EPILOG = """\
examples:
  T4B_PROBE_SECRET=... tap4book-mock probe --against https://staging-api.tap4book.com/api \\
      --account 12345 --out probe-report.json
  tap4book-mock probe --against http://127.0.0.1:8080 --token "$(tap4book-mock token)" --sandbox http://127.0.0.1:9090

docs/probe.md says how to read the report and how to send it to us."""


def _positive(kind: type[float] | type[int]) -> Any:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
        return value

    return parse


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``probe`` on the ``tap4book-mock`` command's subparsers."""
    defaults = Limits()
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "probe",
        help="compare the sandbox with a real TAP4BOOK API",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--against",
        required=True,
        metavar="URL",
        help="the API to check, e.g. https://staging-api.tap4book.com/api ('/api' is added when missing)",
    )
    credentials = parser.add_argument_group("credentials for the target (never printed or written)")
    credentials.add_argument("--token", metavar="TOKEN", help="the Access-Token itself (hex HMAC-SHA256)")
    credentials.add_argument(
        "--account", metavar="ID", help="entity_account_id; with --secret, the probe computes the token"
    )
    credentials.add_argument(
        "--secret",
        metavar="KEY",
        help=f"entity_secret_key [env {SECRET_VARIABLE}, which keeps it out of the process list and shell history]",
    )
    reference = parser.add_argument_group("the sandbox to compare with")
    reference.add_argument(
        "--sandbox",
        metavar="URL",
        help="a running sandbox (default: start one on a free loopback port, clock frozen at the target's time)",
    )
    reference.add_argument(
        "--sandbox-token",
        metavar="TOKEN",
        help="the sandbox's Access-Token (default: yours if a local sandbox accepts it, else the default "
        "sandbox account's)",
    )
    limits = parser.add_argument_group("limits (the target's owner sees a polite client)")
    limits.add_argument(
        "--rate",
        type=_positive(float),
        default=defaults.rate,
        metavar="N",
        help=f"requests per second to the target (default: {defaults.rate:g}; the sandbox is not slowed)",
    )
    limits.add_argument(
        "--timeout",
        type=_positive(float),
        default=defaults.timeout,
        metavar="SECONDS",
        help=f"longest wait for one answer (default: {defaults.timeout:g})",
    )
    limits.add_argument(
        "--max-time",
        type=_positive(float),
        default=defaults.max_time,
        metavar="SECONDS",
        help=f"the whole run stops after this (default: {defaults.max_time:g})",
    )
    limits.add_argument(
        "--max-requests",
        type=_positive(int),
        default=defaults.max_requests,
        metavar="N",
        help=f"at most this many requests to each side (default: {defaults.max_requests}; the script needs about 80)",
    )
    writes = parser.add_argument_group("writes")
    writes.add_argument(
        "--allow-writes",
        action="store_true",
        help="also book one free slot as 'Probe Tap4book-mock' and cancel it at once (asks first); "
        "the client record it creates stays",
    )
    writes.add_argument("--yes", action="store_true", help="with --allow-writes: do not ask")
    parser.add_argument("--out", metavar="FILE", help="write the JSON report to FILE (no secrets, no customer data)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the probe for parsed ``probe`` arguments; the exit status."""
    # The comparison modules only when a probe really runs: `tap4book-mock serve` starts without them.
    from mockserver.probe import session
    from mockserver.probe.report import Redactor, table, to_json_text

    secret = args.secret or os.environ.get(SECRET_VARIABLE) or None
    redact = Redactor([args.token, secret, args.sandbox_token])
    try:
        token = _token(args, secret)
        redact = Redactor([args.token, secret, args.sandbox_token, token])
        settings = session.Settings(
            against=args.against,
            token=token,
            sandbox=args.sandbox,
            sandbox_token=args.sandbox_token,
            limits=Limits(args.rate, args.timeout, args.max_time, args.max_requests),
            allow_writes=args.allow_writes,
            assume_yes=args.yes,
            confirm=_ask,
        )
        result = session.run(settings)
    except ProbeError as exc:
        return _fail(redact(str(exc)), args.out, redact)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: still one line, still without secrets
        return _fail(f"internal error, please report it: {type(exc).__name__}: {exc}", args.out, redact)
    text = redact(table(result, args.out))
    sys.stdout.write(text)
    for warning in result.warnings:
        print(f"{PROG}: warning: {redact(warning)}", file=sys.stderr)
    if args.out:
        try:
            _write(args.out, redact(to_json_text(result)))
        except OSError as exc:
            print(f"{PROG}: error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    return result.exit_status


def _token(args: argparse.Namespace, secret: str | None) -> str:
    if args.token and (args.account or args.secret):
        raise ProbeError("give --token, or --account with --secret, not both")
    if args.token:
        return str(args.token).strip()
    if args.account and secret:
        from mockserver.auth import make_token

        return make_token(args.account, secret)
    if args.account:
        raise ProbeError(f"--account needs --secret (or {SECRET_VARIABLE})")
    if args.secret:
        raise ProbeError("--secret needs --account")
    raise ProbeError(f"a token is needed: --token, or --account with --secret (or {SECRET_VARIABLE})")


def _ask(question: str) -> bool:
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline() if sys.stdin is not None else ""
    except (OSError, ValueError):
        answer = ""
    return answer.strip().lower() in ("y", "yes", "o", "oui")


def _fail(message: str, out: str | None, redact: Redactor) -> int:
    from mockserver.probe.report import SCHEMA

    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    if out:
        document = {"schema": SCHEMA, "error": message, "summary": {"exit_status": 2}}
        with contextlib.suppress(OSError):  # the one line above is the error that matters
            _write(out, redact(json.dumps(document, ensure_ascii=False, indent=2) + "\n"))
    return 2


def _write(path: str, text: str) -> None:
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)
