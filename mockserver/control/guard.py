"""Who may drive the control API: the admin token, the browser's host and origin (docs/control-api.md#safety).

One stage of the request pipeline, before any control view and before the caller's tenant is checked: on a
server with ``--admin-token``, a call without it hears "admin token missing", whatever else is wrong with it.
Readiness (``/__mock/ready``) needs nothing: health checks must never need a secret, and it reveals nothing.
"""

from __future__ import annotations

import hmac
import ipaddress

from mockserver.call import Call
from mockserver.errors import AuthInvalid, AuthRequired, InvalidJson, InvalidParameter
from mockserver.protocol import ADMIN_HEADER, CONTROL_PREFIX

WRITES = frozenset({"POST", "PUT", "DELETE", "PATCH"})
OPEN_PATHS = frozenset({f"{CONTROL_PREFIX}/ready"})
#: Headers only a browser sends (scripts cannot set them): a request without any came from no web page.
BROWSER_HEADERS = ("Origin", "Sec-Fetch-Site", "Sec-Fetch-Mode")


def check(call: Call, allowed_hosts: frozenset[str]) -> None:
    """Refuse a control call that may not drive the sandbox: raises the documented 401 or 400."""
    incoming = call.incoming
    if incoming.path.rstrip("/") in OPEN_PATHS:
        return
    _browser_host(call, allowed_hosts)
    expected = call.sandbox.config.admin_token
    if expected:
        given = incoming.headers.get(ADMIN_HEADER) or ""
        if not given:
            raise AuthRequired(
                f"The control API needs the {ADMIN_HEADER} header on this server",
                hint=f"This server was started with --admin-token: send its value in {ADMIN_HEADER}.",
            )
        if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
            raise AuthInvalid(f"Wrong {ADMIN_HEADER}", hint="The admin token differs from --admin-token's value.")
    if incoming.method in WRITES:
        _same_site_write(call)


def host_name(host: str) -> str:
    """``Host: [::1]:8080`` -> ``::1``; ``Host: Example.org.:80`` -> ``example.org``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def _local_or_literal(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _browser_host(call: Call, allowed: frozenset[str]) -> None:
    """DNS rebinding: a page of evil.example, its name re-pointed at 127.0.0.1, is "same origin" with the
    sandbox for the browser, which then sends ``Host: evil.example``. Only browsers can be tricked so (any other
    client can send any Host it likes, and reaches the port anyway), so a request that comes from a web page must
    name the sandbox by an address, a ``localhost`` name, or a name of ``--allowed-hosts``."""
    headers = call.incoming.headers
    if not any(name in headers for name in BROWSER_HEADERS):
        return
    name = host_name(headers.get("Host") or "")
    if _local_or_literal(name) or name in allowed:
        return
    raise InvalidParameter(
        f"Control API calls from a web page must address this server by localhost, an IP address or a name of"
        f" --allowed-hosts; got Host {name!r}",
        details={"header": "Host"},
        hint=f"Start the server with --allowed-hosts {name} if that name is really this sandbox (a proxy, a"
        " container name); otherwise a web page re-pointed a name of its own at this machine (DNS rebinding).",
    )


def _same_site_write(call: Call) -> None:
    """A page on another site must not drive the control API: browsers send ``Origin`` on every cross-origin
    write, and a JSON content type makes them ask first (a preflight, which cors.py answers only for the
    allowed origins)."""
    incoming = call.incoming
    origin = incoming.headers.get("Origin")
    if origin and not _allowed_origin(call, origin):
        raise InvalidParameter(
            f"Control API writes from the web page origin {origin!r} are refused",
            details={"header": "Origin"},
            hint="Only this server's own pages (the console) and --control-origins may change the sandbox.",
        )
    mimetype = (incoming.headers.get("Content-Type") or "").partition(";")[0].strip().lower()
    if incoming.has_body and mimetype != "application/json":
        raise InvalidJson(
            f"Control API writes take Content-Type: application/json, got {mimetype or 'none'!r}",
            details={"header": "Content-Type"},
            hint="With curl: -H 'Content-Type: application/json' (or --json '{...}').",
        )


def _allowed_origin(call: Call, origin: str) -> bool:
    environ = call.incoming.environ
    scheme = environ.get("wsgi.url_scheme", "http")
    own = f"{scheme}://{environ.get('HTTP_HOST') or environ.get('SERVER_NAME', '')}"
    return origin.rstrip("/") in (own, *call.sandbox.config.control_origins)
