"""The ``tap4book-mock`` command: ``serve`` the sandbox, print a ``token``.

Every ``serve`` flag has a T4B_* environment variable (flag > variable > default); a bad value is one line
on stderr and exit status 2, a server that cannot start is one line and exit status 1.
"""

from __future__ import annotations

import argparse
import errno
import gc
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from mockserver import tail
from mockserver.config import Config, ConfigError
from mockserver.probe import cli as probe_cli
from mockserver.version import __version__

PROG = "tap4book-mock"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _env_help(name: str, text: str | None = None) -> str:
    shown = Config.shown_default(name) or _shown(getattr(Config(), name))
    return f"{text or Config.describe(name)} [env {Config.env_name(name)}; default: {shown}]"


def _shown(default: Any) -> str:
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, tuple):
        return ",".join(default) or "none"
    return "none" if default is None else str(default)


def _add_flag(parser: argparse.ArgumentParser, spec: Any) -> None:
    """The ``serve`` flag of a setting: ``--no-NAME`` for a switch that is on by default, ``--NAME`` for one
    that is off, ``--NAME VALUE`` otherwise (parsed by Config, like its variable)."""
    meta = spec.metadata
    name = spec.name.replace("_", "-")
    if isinstance(spec.default, bool):
        flag = f"--no-{name}" if spec.default else f"--{name}"
        verb = "turn off: " if spec.default else ""
        parser.add_argument(
            flag,
            dest=spec.name,
            action="store_const",
            const=not spec.default,
            help=_env_help(spec.name, verb + meta["doc"]),
        )
        return
    parser.add_argument(
        meta["flag"] or f"--{name}",
        dest=spec.name,
        metavar=meta["metavar"],
        choices=meta["choices"],
        action="append" if meta["repeat"] else "store",
        help=_env_help(spec.name),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="A deterministic, stateful sandbox of the TAP4BOOK booking API (JSON, XML, CSV).",
        epilog="Examples: 'tap4book-mock serve --port 8080 --now 2025-06-07T15:30:00+02:00', "
        "'tap4book-mock token'. Docs: README.md and docs/ in the project.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    serve = commands.add_parser(
        "serve",
        help="start the sandbox server",
        description="Start the sandbox on granian. Prints one JSON line "
        '{"event": "ready", "url": ...} on stdout once it serves data.',
    )
    for spec in Config.options():
        _add_flag(serve, spec)

    token = commands.add_parser(
        "token",
        help="print an access token",
        description="Print hex(HMAC-SHA256(key=secret, msg=account_id)), the Access-Token of an account. "
        "Without arguments: the default sandbox account's token.",
    )
    token.add_argument("--account", help="entity_account_id (default: the default sandbox account)")
    token.add_argument("--secret", help="entity_secret_key (default: the account's key in the accounts file)")
    token.add_argument("--accounts", dest="accounts_file", metavar="FILE", help=_env_help("accounts_file"))
    health = commands.add_parser(
        "health",
        help="exit 0 if a sandbox is ready (for container health checks)",
        description="GET /__mock/ready of the sandbox at --url, or of the one whose ready line is in --ready-file "
        "(T4B_READY_FILE): exit 0 when it answers 200, 1 otherwise. No rule or preset can fail that path.",
    )
    health.add_argument("--url", help="the sandbox's base URL (default: read from the ready file)")
    health.add_argument("--ready-file", default=os.environ.get("T4B_READY_FILE"), help="[env T4B_READY_FILE]")
    health.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for the answer (default 2)")
    tail.add_parser(commands)
    probe_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(parser, args)
    if args.command == "token":
        return _token(parser, args)
    if args.command == "probe":
        return probe_cli.run(args)
    if args.command == "tail":
        return tail.run(args)
    if args.command == "health":
        return _health(args)
    parser.print_help()
    return 2


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    names = {name for name in vars(args) if name != "command"}
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _serve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    # Start-up allocates many long-lived objects (imports, routes, the dataset): collecting garbage while
    # building them finds none and costs a noticeable part of a cold start. server.serve collects and
    # re-enables the collector before the workers fork.
    gc.disable()
    from mockserver import server

    try:
        config = Config.load(_overrides(args))
    except ConfigError as exc:
        parser.exit(2, f"{PROG}: error: {exc}\n")
    try:
        sock = server.bind(config.host, config.port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            reason = (
                "port already in use; choose another with --port N (or T4B_PORT=N), "
                "or --port 0 for a free one (the ready line says which)"
            )
        else:
            reason = exc.strerror or str(exc)
        parser.exit(1, f"{PROG}: error: cannot listen on {config.host}:{config.port}: {reason}\n")
    if config.data_dir:  # one server per kept directory (a temporary one is private anyway)
        from mockserver.store import datadir

        try:
            datadir.claim(config.data_dir, sock.getsockname()[1])
        except datadir.DirectoryInUse as exc:
            parser.exit(1, f"{PROG}: error: {exc}\n")
    from mockserver.app import create_app
    from mockserver.errors import ApiError

    try:
        app = create_app(config, storage=server.storage(config.workers))
    except ApiError as exc:  # a preset (--scenario) that does not exist or does not validate
        parser.exit(2, f"{PROG}: error: --scenario: {exc.message}\n")
    except (ValueError, OSError) as exc:
        parser.exit(2, f"{PROG}: error: cannot start: {_one_line(exc)}\n")
    server.serve(app, sock, config.workers, config.threads, config.ready_file, config.cpu_affinity)
    return 0


def _health(args: argparse.Namespace) -> int:
    url = args.url or _url_from_ready_file(args.ready_file)
    if url is None:
        return 1
    import urllib.request  # here: every start of `serve` would pay for it (docs/performance.md, cold start)

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url.rstrip("/") + "/__mock/ready", timeout=args.timeout) as reply:
            return 0 if reply.status == 200 else 1
    except (OSError, ValueError) as exc:
        print(f"{PROG}: error: {url} is not ready: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return 1


def _url_from_ready_file(ready_file: str | None) -> str | None:
    """The URL in a ready file, or None after saying on stderr what is missing."""
    if not ready_file:
        print(
            f"{PROG}: error: which sandbox? give --url URL, or --ready-file FILE (or T4B_READY_FILE) "
            "naming the file that `serve --ready-file FILE` writes",
            file=sys.stderr,
        )
        return None
    try:
        return str(json.loads(Path(ready_file).read_text(encoding="utf-8"))["url"])
    except OSError as exc:
        print(f"{PROG}: error: cannot read the ready file {ready_file}: {exc.strerror or exc}", file=sys.stderr)
    except (ValueError, KeyError, TypeError):
        print(f"{PROG}: error: the ready file {ready_file} holds no ready line with a url", file=sys.stderr)
    return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _token(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from mockserver.auth import AccountBook, make_token

    if args.account and args.secret:
        print(make_token(args.account, args.secret))
        return 0
    try:
        book = AccountBook.load(args.accounts_file or Config.load().accounts_file)
    except (ValueError, ConfigError) as exc:
        parser.exit(2, f"{PROG}: error: {exc}\n")
    account = book.by_id.get(args.account) if args.account else book.default
    if account is None:
        parser.exit(2, f"{PROG}: error: unknown account {args.account!r}; known: {', '.join(book.by_id)}\n")
    print(make_token(account.account_id, args.secret or account.secret_key))
    return 0


if __name__ == "__main__":
    sys.exit(main())
