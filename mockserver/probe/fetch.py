"""HTTP for the probe: one request at a time, spaced, bounded, and never following a redirect.

Every request to a side goes through its ``Fetcher``: at most ``rate`` requests a second (the target's
owner sees a polite client), each one within ``timeout`` seconds, at most ``max_requests`` of them, and
none after the run's deadline. Anything that is not an HTTP answer (refused, reset, timed out, too big,
over budget) is a ``ProbeError``: one line for the user, exit status 2. Redirects are answers too: the
probe compares them instead of sending the token to wherever they point.

urllib rather than http.client, for the ``HTTPS_PROXY`` / ``NO_PROXY`` variables integrators' networks
need; standard library only, so the probe runs wherever the package does.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
import urllib.error
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.protocol import API_PREFIX

MAX_BODY_BYTES = 16 * 1024 * 1024
_CHUNK = 64 * 1024


class ProbeError(Exception):
    """A usage or connection problem: the probe stops with this one line and exit status 2."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes
    elapsed_ms: float = 0.0

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def media_type(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()


@dataclass
class Limits:
    """The bounds of one run: requests a second to the target, seconds per request and in all, requests."""

    rate: float = 5.0
    timeout: float = 10.0
    max_time: float = 300.0
    max_requests: int = 200
    deadline: float = field(default=0.0)

    def start(self) -> Limits:
        self.deadline = time.monotonic() + self.max_time
        return self


def api_root(url: str) -> str:
    """The API root from what a user typed: scheme and host kept, ``/api`` added when missing."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeError(f"not an http(s) URL: {shown_url(url)!r}")
    path = parts.path.rstrip("/")
    if not path.endswith(API_PREFIX):
        path += API_PREFIX
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, "", ""))


def shown_url(url: str) -> str:
    """A URL without any user:password part, for messages and the report."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _opener(no_proxy: bool) -> Any:
    """urllib's opener, imported here: the command line loads this module for `serve` too, which never needs it."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None  # urllib then raises HTTPError with the 3xx answer, which we keep

    handlers: list[urllib.request.BaseHandler] = [NoRedirect()]
    if no_proxy:
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def _request(url: str, body: bytes | None, headers: dict[str, str], method: str) -> Any:
    import urllib.request

    return urllib.request.Request(url, data=body, headers=headers, method=method)


class Fetcher:
    """Requests to one side (``label``: target or sandbox) under the run's limits."""

    def __init__(self, root: str, label: str, limits: Limits, *, paced: bool = True, user_agent: str = "") -> None:
        self.root = root
        self.label = label
        self.limits = limits
        self.paced = paced and limits.rate > 0
        self.user_agent = user_agent
        self.count = 0
        self.essential = False  # set while undoing a write: the budget must not stop a cancellation
        self._next_start = 0.0
        self._opener = _opener(no_proxy=is_loopback(root))  # a local sandbox is never behind HTTP(S)_PROXY

    def request(
        self,
        method: str,
        path: str,
        query: Iterable[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        """One request under the limits; an HTTP answer of any status, or ProbeError."""
        self._admit(method, path)
        url = self.root + path
        pairs = list(query)
        if pairs:
            url += "?" + urllib.parse.urlencode(pairs)
        sent = {"User-Agent": self.user_agent, **(headers or {})}
        req = _request(url, body, sent, method)
        started = time.monotonic()
        left = self.limits.deadline - started
        timeout = self.limits.timeout if self.essential else max(0.05, min(self.limits.timeout, left))
        try:
            try:
                response = self._opener.open(req, timeout=timeout)
            except urllib.error.HTTPError as exc:  # 3xx, 4xx and 5xx are answers to compare
                response = exc
            with response:
                status = getattr(response, "status", None) or response.code
                names = {k.lower(): v for k, v in response.headers.items()}
                data = self._read(response, started + timeout)
        except ProbeError:
            raise
        except TimeoutError:
            raise ProbeError(self._where(method, path, f"no answer within {timeout:g} s (--timeout)")) from None
        except urllib.error.URLError as exc:
            raise ProbeError(self._where(method, path, _reason(exc.reason))) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise ProbeError(self._where(method, path, _reason(exc))) from None
        return Answer(status, names, data, (time.monotonic() - started) * 1000)

    def _admit(self, method: str, path: str) -> None:
        if self.essential:
            self.count += 1
            return
        if self.count >= self.limits.max_requests:
            raise ProbeError(
                f"stopped: {self.limits.max_requests} requests to the {self.label} (--max-requests) "
                f"before {method} {path}"
            )
        now = time.monotonic()
        if self.paced:
            wait = self._next_start - now
            if wait > 0:
                if now + wait >= self.limits.deadline:
                    raise ProbeError(f"stopped: --max-time {self.limits.max_time:g} s reached")
                time.sleep(wait)
                now = time.monotonic()
            self._next_start = now + 1.0 / self.limits.rate
        if now >= self.limits.deadline:
            raise ProbeError(f"stopped: --max-time {self.limits.max_time:g} s reached")
        self.count += 1

    def _read(self, response: Any, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise ProbeError(f"the {self.label} sent more than {MAX_BODY_BYTES // 2**20} MiB for one answer")
            if time.monotonic() > deadline:
                raise TimeoutError
            chunks.append(chunk)

    def _where(self, method: str, path: str, problem: str) -> str:
        parts = urllib.parse.urlsplit(shown_url(self.root))
        return f"{self.label} {parts.scheme}://{parts.netloc}: {method} {parts.path}{path}: {problem}"


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "no answer in time (--timeout)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is it running, is the port right?)"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {reason.reason or reason}"
    if isinstance(reason, http.client.RemoteDisconnected | ConnectionResetError):
        return "the connection was closed before an answer"
    if isinstance(reason, http.client.IncompleteRead):
        return "the answer was cut short"
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return " ".join(str(text).split())
