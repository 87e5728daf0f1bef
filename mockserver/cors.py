"""CORS for browsers on another origin (a front-end dev server): preflights and response headers.

Small enough to own: a library here cost a tenth of a millisecond on every request, most of them from
clients that send no ``Origin`` at all, and the sandbox needs exactly one policy (docs/clients.md).
"""

from __future__ import annotations

from flask import Flask, Response, request

ALLOW_HEADERS = "Access-Token, X-Debug, X-Mock-Tenant, X-Mock-Scenario, X-Mock-Admin-Token, Content-Type, Accept"
EXPOSE_HEADERS = (
    "X-Pagination-Total, X-Pagination-Page, X-Pagination-Per-Page, X-Pagination-Total-Pages, "
    "X-Pagination-Has-More, X-Mock-Fault, X-Mock-Rule, Allow"
)
ALLOW_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
MAX_AGE = "600"
SCOPES = ("/api", "/__mock")
CONTROL = "/__mock"


def init_app(app: Flask, origins: str, control_origins: tuple[str, ...] = ()) -> None:
    """Allow ``origins`` ('*' or a comma-separated list) to call the API, and only ``control_origins`` (never
    '*') to call the control plane from a browser: a page anywhere must not reset a developer's sandbox."""
    allowed = None if origins.strip() == "*" else {o.strip().rstrip("/") for o in origins.split(",") if o.strip()}
    control = set(control_origins)

    def permitted() -> str | None:
        origin = request.headers.get("Origin")
        if not origin or not request.path.startswith(SCOPES):
            return None
        if request.path.startswith(CONTROL):
            return origin if origin.rstrip("/") in control else None
        return origin if allowed is None or origin.rstrip("/") in allowed else None

    def preflight() -> Response | None:
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        origin = permitted()
        if origin is None:
            return None
        return Response(
            status=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": MAX_AGE,
                "Vary": "Origin",
            },
        )

    def decorate(response: Response) -> Response:
        origin = permitted()
        if origin is not None and "Access-Control-Allow-Origin" not in response.headers:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            response.vary.add("Origin")
        return response

    app.before_request_funcs.setdefault(None, []).insert(0, preflight)  # before authentication
    app.after_request(decorate)
