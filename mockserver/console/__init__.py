"""The live console, ``GET /__mock/console``: the booking domain and the request journal of one tenant, live.

The page is plain HTML, CSS and ES modules shipped in ``console/static/`` (no build step, nothing loaded
from the network: its Content-Security-Policy allows this server only). Everything it shows and changes
goes through the public control API (``/__mock/about``, ``/tenants``, ``/calendars``, ``/week``, ``/journal/stream``,
``/journal/count``, ``/rules``, ``/scenarios``, ``/clock``, ``/reset``), so a script can do all that the console does.

Like Swagger UI's page (mockserver/openapi.py), the page and its files are served with the control API
and gone with it, but never need the admin token themselves: they hold no data. The calls the page makes
do need it; on a ``401`` the page asks for the token and keeps it in the tab's session storage.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from flask import Blueprint, Response, abort, render_template_string, request, url_for

from mockserver.errors import ALL_CODES
from mockserver.version import __version__

bp = Blueprint("console", __name__, url_prefix="/__mock")

PAGE = "console.html"
#: The page's files and their types; anything else under /__mock/console/ is a 404.
ASSETS = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "stream.js": "text/javascript; charset=utf-8",
    "week.js": "text/javascript; charset=utf-8",
    "feed.js": "text/javascript; charset=utf-8",
    "controls.js": "text/javascript; charset=utf-8",
    "curl.js": "text/javascript; charset=utf-8",
    "identity.js": "text/javascript; charset=utf-8",
    "login.js": "text/javascript; charset=utf-8",
    "unauthenticated.js": "text/javascript; charset=utf-8",
    "dom.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
#: This server only: no CDN, no other origin, no inline script (the error codes travel as inert JSON).
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
    " base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@cache
def _file(name: str) -> bytes:
    return resources.files("mockserver.console").joinpath("static", name).read_bytes()


def _tag(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=12).hexdigest()


def _answer(body: bytes, content_type: str) -> Response:
    response = Response(body, content_type=content_type)
    response.set_etag(_tag(body))
    # Revalidated on every load (a 304 when unchanged): the modules import each other by plain relative
    # URLs, which cannot carry a version, so a cached copy must never outlive an upgraded sandbox.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)


@cache
def _page(script_root: str) -> bytes:
    """The page, rendered once per mount point (its asset URLs start with it)."""
    # The codes a rule may answer, from the one list of them (errors.ALL_CODES), in the documentation's
    # order (pairs: tojson would sort an object's keys), with their HTTP status.
    codes = [[code, error.status] for code, error in ALL_CODES.items()]
    html = render_template_string(
        _file(PAGE).decode("utf-8"),
        version=__version__,
        codes=codes,
        asset=lambda name: url_for("console.console_asset", asset=name),
    )
    return html.encode("utf-8")


@bp.get("/console")
def console() -> Response:
    """GET /__mock/console: the live console (a page; its data comes from the control API)."""
    response = _answer(_page(request.script_root), "text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/console/<asset>")
def console_asset(asset: str) -> Response:
    """GET /__mock/console/{asset}: one of the console's files, from the installed package."""
    if asset not in ASSETS:
        abort(404)
    return _answer(_file(asset), ASSETS[asset])
