"""Settings of one sandbox: defaults, then ``T4B_*`` environment variables, then an explicit mapping.

Tests pass a dict to ``create_app``; the command line passes its parsed flags the same way, so there is
exactly one place that knows every setting, its type and its environment variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from mockserver.auth import ENVIRONMENTS
from mockserver.clock import parse_instant

ENV_PREFIX = "T4B_"
LOG_FORMATS = ("text", "json", "off")


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message names the setting and is one line."""


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true/false, got {value!r}")


def _int_between(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(f"expected a whole number, got {value!r}") from None
        if not low <= number <= high:
            raise ValueError(f"expected a number from {low} to {high}, got {number}")
        return number

    return parse


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {value!r}")
        return text

    return parse


def _optional_text(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _name_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if str(v).strip())
    return tuple(part.strip() for part in str(value or "").split(",") if part.strip())


def _origin_list(value: Any) -> tuple[str, ...]:
    origins = tuple(origin.rstrip("/") for origin in _name_list(value))
    for origin in origins:
        if origin == "*" or "://" not in origin:
            raise ValueError(f"expected origins such as http://localhost:5173 (no '*'), got {origin!r}")
    return origins


def _affinity(value: Any) -> str:
    text = str(value).strip().lower()
    if text in ("auto", "off") or (text.isascii() and text.isdigit() and len(text) <= 4):
        return text
    raise ValueError(f"expected auto, off or a CPU number, got {value!r}")


def _option(
    default: Any,
    parse: Callable[[Any], Any],
    doc: str,
    *,
    flag: str | None = None,
    metavar: str | None = None,
    choices: tuple[str, ...] | None = None,
    repeat: bool = False,
    shown: str | None = None,
) -> Any:
    """A setting: its default, parser and help; ``flag`` etc. shape its ``serve`` flag (cli.py builds the flags
    from these fields, so that a setting, its variable and its flag cannot drift apart). ``shown`` is what the
    help calls the default when the field's own default (None) stands for one the server works out."""
    metadata = {
        "parse": parse,
        "doc": doc,
        "flag": flag,
        "metavar": metavar,
        "choices": choices,
        "repeat": repeat,
        "shown": shown,
    }
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Config:
    host: str = _option("127.0.0.1", lambda v: str(v).strip() or "127.0.0.1", "address to listen on")
    port: int = _option(8080, _int_between(0, 65535), "port to listen on (0 picks a free one)")
    workers: int = _option(1, _int_between(1, 64), "server worker processes (they share all state)")
    # One granian process by default (bench/README.md#serving-stack); its threads serve delay_ms rules, streams
    # and slow uploads side by side while mockserver/requestlock.py runs the app one request at a time.
    threads: int = _option(64, _int_between(1, 256), "threads per worker process (requests that sleep or stream)")
    cpu_affinity: str = _option(
        "auto", _affinity, "CPU the app's threads run on: auto (one per worker), off, or a CPU number"
    )
    seed: int = _option(42, _int_between(0, 2**63 - 1), "seed of the generated dataset")
    now: float | None = _option(
        None,
        parse_instant,
        "freeze the sandbox clock at this ISO-8601 instant (no offset: Paris time; a bare date: its midnight in "
        "Paris; 'real': the real clock)",
        metavar="ISO-8601",
        shown="real time",
    )
    environment: str = _option(
        "staging", _choice(ENVIRONMENTS), "which environment's API keys are accepted", choices=ENVIRONMENTS
    )
    debug_mode: bool = _option(True, parse_bool, "serve debug=true / X-Debug requests without a token")
    control_api: bool = _option(True, parse_bool, "serve the /__mock/ control API")
    admin_token: str | None = _option(None, _optional_text, "token the control API requires, if set")
    accounts_file: str | None = _option(
        None,
        _optional_text,
        "JSON file of API accounts",
        flag="--accounts",
        metavar="FILE",
        shown="fixtures/accounts.json (the copy installed with the package)",
    )
    data_dir: str | None = _option(
        None,
        _optional_text,
        "where tenant databases live, kept across restarts; one server per directory (a second exits 1), and data"
        " made with another --seed is refused (exit 2)",
        metavar="DIR",
        shown="a new temporary directory",
    )
    cache_dir: str | None = _option(
        None,
        _optional_text,
        "where generated datasets are kept between starts ('off': nowhere)",
        metavar="DIR",
        shown="~/.cache/tap4book-mock ($XDG_CACHE_HOME/tap4book-mock when set)",
    )
    journal_size: int = _option(1000, _int_between(0, 1_000_000), "requests kept in the journal")
    journal_bytes: int = _option(
        32 * 1024 * 1024, _int_between(1024 * 1024, 1024**3), "largest size of the journal, in bytes (oldest dropped)"
    )
    max_tenants: int = _option(
        256, _int_between(1, 100_000), "most tenants each account holds at once (its idle ones make room)"
    )
    max_debug_tenants: int = _option(
        16, _int_between(1, 100_000), "most tenants debug mode's traffic holds at once (its idle ones make room)"
    )
    tenant_idle_seconds: int = _option(
        3600, _int_between(0, 10**9), "a tenant no request used this long may make room for a new one of its space"
    )
    strict_lifecycle: bool = _option(
        False, parse_bool, "refuse status changes the documentation allows but a real practice would not"
    )
    server_wide_control: bool = _option(
        True, parse_bool, "let control calls without tenant credentials act on the whole server"
    )
    cache_keep: int = _option(8, _int_between(1, 1000), "generated datasets kept in the cache directory (newest)")
    scale: int = _option(1, _int_between(1, 199), "dataset size multiplier (5 calendars, 50 clients each)")
    scenario: tuple[str, ...] = _option(
        (), _name_list, "scenario presets loaded at start (names or files)", metavar="NAME|FILE", repeat=True
    )
    cors_origins: str = _option("*", lambda v: str(v).strip(), "allowed CORS origins of the API ('*' or a comma list)")
    control_origins: tuple[str, ...] = _option(
        (), _origin_list, "web origins besides the server's own allowed to call the control API (comma list)"
    )
    allowed_hosts: tuple[str, ...] = _option(
        (),
        _name_list,
        "host names besides localhost and IP addresses by which a web page may call the control API (comma list)",
    )
    max_body_bytes: int = _option(65536, _int_between(1024, 16 * 1024 * 1024), "largest accepted body")
    body_timeout: int = _option(
        10,
        _int_between(1, 600),
        "seconds a request body may stall (each 64 KiB of it must arrive within them): then 400 INVALID_JSON",
        metavar="SECONDS",
    )
    log_format: str = _option("text", _choice(LOG_FORMATS), "access log lines: text, json or off", choices=LOG_FORMATS)
    ready_file: str | None = _option(
        None, _optional_text, "also write the ready line to this file (tap4book-mock health reads it)", metavar="FILE"
    )

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Config:
        """Defaults, then T4B_<NAME> environment variables, then ``overrides`` (keys are field names)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            env_name = ENV_PREFIX + spec.name.upper()
            if env_name in environ:
                values[spec.name] = _parse(spec, environ[env_name], env_name)
        for key, raw in (overrides or {}).items():
            spec = _FIELDS.get(key.lower())
            if spec is None:
                raise ConfigError(f"unknown setting {key!r}")
            if raw is not None or spec.default is None:
                values[spec.name] = _parse(spec, raw, key)
        return replace(cls(), **values)

    @staticmethod
    def env_name(name: str) -> str:
        return ENV_PREFIX + name.upper()

    @staticmethod
    def describe(name: str) -> str:
        return _FIELDS[name].metadata["doc"]

    @staticmethod
    def shown_default(name: str) -> str | None:
        """What the server uses when the setting is not given, where the field's default (None) does not say."""
        return _FIELDS[name].metadata["shown"]

    @staticmethod
    def options() -> list[Any]:
        """Every setting's field (name, default, metadata), in declaration order."""
        return list(fields(Config))


_FIELDS = {spec.name: spec for spec in fields(Config)}


def _parse(spec: Any, raw: Any, source: str) -> Any:
    try:
        return spec.metadata["parse"](raw)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
