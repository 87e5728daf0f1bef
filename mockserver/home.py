"""GET /: where to go from the server's root, so that opening the bare URL in a browser is not a dead end."""

from __future__ import annotations

import html

from flask import Blueprint, Response, current_app, request

from mockserver.call import ok
from mockserver.version import __version__

bp = Blueprint("home", __name__)


def _links() -> dict[str, str]:
    links = {"api": "/api/", "health": "/api/health"}
    if current_app.extensions["tap4book"].config.control_api:
        links.update(
            console="/__mock/console",
            documentation="/__mock/docs",
            openapi="/__mock/openapi.json",
            control="/__mock/",
        )
    return links


@bp.get("/")
def home() -> Response:
    """GET /: a small page for browsers, the same links as JSON for everything else."""
    links = _links()
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        items = "".join(
            f'<li><a href="{html.escape(url)}">{html.escape(name)}</a> <code>{html.escape(url)}</code></li>'
            for name, url in links.items()
        )
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>tap4book-mock</title></head>'
            f"<body><h1>tap4book-mock {html.escape(__version__)}</h1>"
            f"<p>A sandbox of the TAP4BOOK booking API.</p><ul>{items}</ul></body></html>"
        )
        return Response(page, content_type="text/html; charset=utf-8")
    return ok({"name": "tap4book-mock", "version": __version__, "links": links}, "tap4book-mock sandbox")
