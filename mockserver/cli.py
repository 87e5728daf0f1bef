"""The ``tap4book-mock`` command: ``serve`` the sandbox, print a ``token``.

Every ``serve`` flag has a T4B_* environment variable (flag > variable > default); a bad value is one line
on stderr and exit status 2, a server that cannot start is one line and exit status 1.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from mockserver.config import ENVIRONMENTS, LOG_FORMATS, Config, ConfigError
from mockserver.probe import cli as probe_cli
from mockserver.version import __version__

PROG = "tap4book-mock"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _env_help(name: str, text: str | None = None) -> str:
    default = getattr(Config(), name)
    if isinstance(default, bool):
        shown = "true" if default else "false"
    elif isinstance(default, tuple):
        shown = ",".join(default) or "none"
    else:
        shown = "real time" if default is None and name == "now" else default
    return f"{text or Config.describe(name)} [env {Config.env_name(name)}; default: {shown}]"


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
        description="Start the sandbox on gunicorn. Prints one JSON line "
        '{"event": "ready", "url": ...} on stdout once it serves data.',
    )
    serve.add_argument("--host", help=_env_help("host"))
    serve.add_argument("--port", help=_env_help("port"))
    serve.add_argument("--workers", help=_env_help("workers"))
    serve.add_argument("--threads", help=_env_help("threads"))
    serve.add_argument("--seed", help=_env_help("seed"))
    serve.add_argument("--now", metavar="ISO-8601", help=_env_help("now"))
    serve.add_argument("--environment", choices=ENVIRONMENTS, help=_env_help("environment"))
    serve.add_argument(
        "--no-debug-mode",
        dest="debug_mode",
        action="store_const",
        const=False,
        help=_env_help("debug_mode", "refuse debug=true / X-Debug requests"),
    )
    serve.add_argument(
        "--no-control-api",
        dest="control_api",
        action="store_const",
        const=False,
        help=_env_help("control_api", "do not serve the /__mock/ control API"),
    )
    serve.add_argument("--admin-token", help=_env_help("admin_token"))
    serve.add_argument("--accounts", dest="accounts_file", metavar="FILE", help=_env_help("accounts_file"))
    serve.add_argument("--data-dir", help=_env_help("data_dir"))
    serve.add_argument("--cache-dir", help=_env_help("cache_dir"))
    serve.add_argument("--journal-size", help=_env_help("journal_size"))
    serve.add_argument("--scale", help=_env_help("scale"))
    serve.add_argument("--scenario", action="append", metavar="NAME|FILE", help=_env_help("scenario"))
    serve.add_argument("--cors-origins", help=_env_help("cors_origins"))
    serve.add_argument("--max-body-bytes", help=_env_help("max_body_bytes"))
    serve.add_argument("--log-format", choices=LOG_FORMATS, help=_env_help("log_format"))

    token = commands.add_parser(
        "token",
        help="print an access token",
        description="Print hex(HMAC-SHA256(key=secret, msg=account_id)), the Access-Token of an account. "
        "Without arguments: the default sandbox account's token.",
    )
    token.add_argument("--account", help="entity_account_id (default: the default sandbox account)")
    token.add_argument("--secret", help="entity_secret_key (default: the account's key in the accounts file)")
    token.add_argument("--accounts", dest="accounts_file", metavar="FILE", help=_env_help("accounts_file"))
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
        reason = "port already in use" if exc.errno == 98 else exc.strerror or str(exc)
        parser.exit(1, f"{PROG}: error: cannot listen on {config.host}:{config.port}: {reason}\n")
    try:
        from mockserver.app import create_app
        from mockserver.errors import ApiError

        app = create_app(config)
    except ApiError as exc:  # a preset (--scenario) that does not exist or does not validate
        parser.exit(2, f"{PROG}: error: --scenario: {exc.message}\n")
    except (ValueError, OSError) as exc:
        parser.exit(2, f"{PROG}: error: cannot start: {_one_line(exc)}\n")
    server.serve(app, sock, config.workers, config.threads)
    return 0


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
