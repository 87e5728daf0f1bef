"""The application factory: settings, the sandbox runtime, blueprints, request hooks and error handlers.

One request flows: ``_begin`` (call context: format, debug, tenant; scenario switches; authentication)
-> the view (validation -> store) -> ``render`` -> ``_finish`` (body faults, journal, access log).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from mockserver import api, cors, openapi
from mockserver.api import call as api_call
from mockserver.config import Config
from mockserver.control import presets, scenarios
from mockserver.control import views as control_views
from mockserver.errors import ApiError, EndpointNotFound, InternalError, InvalidJson, PayloadTooLarge
from mockserver.sandbox import Sandbox

log = logging.getLogger("tap4book.mock")
access_log = logging.getLogger("tap4book.access")


def create_app(config: Mapping[str, Any] | Config | None = None) -> Flask:
    settings = config if isinstance(config, Config) else Config.load(config)
    app = Flask(__name__, static_folder=None)  # no /static/ route: every path is the API's or the control's
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False  # /api//calendars is a 404 envelope, not an HTML redirect
    sandbox = app.extensions["tap4book"] = Sandbox(settings)
    for name in settings.scenario:
        targets = [row["tenant"] for row in sandbox.control.tenants()]
        presets.apply(sandbox, name, targets, None)
    _configure_logs(settings.log_format)

    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_end)
    api.register(app)
    if settings.control_api:
        app.register_blueprint(control_views.bp)
        app.register_blueprint(openapi.bp)  # the description and its page, under /__mock/ too
    _register_errors(app)
    cors.init_app(app, settings.cors_origins)
    return app


def _is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _begin() -> Response | None:
    """The call context for every request; for the API, scenario switches and then authentication."""
    call = api_call.begin()
    if not _is_api() or request.method == "OPTIONS":  # a CORS preflight carries no token
        return None
    forced = scenarios.before_view(call)
    if forced is not None:
        return forced
    api_call.enforce_auth()
    return None


def _finish(response: Response) -> Response:
    call = g.get("call")
    if call is None or not _is_api():
        return response
    response = scenarios.after_view(call, response)
    duration_ms = (time.perf_counter() - call.started) * 1000
    call.sandbox.journal.record(
        tenant=call.tenant,
        method=request.method,
        path=request.path,
        query=list(request.args.items(multi=True)),
        headers=list(request.headers.items()),
        body=_sent_body(),
        status=response.status_code,
        error_code=call.error_code,
        rule_id=call.rule_id,
        duration_ms=duration_ms,
    )
    if access_log.isEnabledFor(logging.INFO):
        _log_access(call, response.status_code, duration_ms)
    return response


def _sent_body() -> bytes:
    """The request body for the journal; one over the size limit is noted, not read."""
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        return f"<body of {request.content_length} bytes, over the limit: not recorded>".encode()


def _end(_exc: BaseException | None) -> None:
    call = g.get("call")
    if call is not None:
        call.close()


def _configure_logs(fmt: str) -> None:
    access_log.propagate = False
    access_log.handlers.clear()
    if fmt == "off":
        access_log.setLevel(logging.WARNING)
        return
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.json = fmt == "json"  # type: ignore[attr-defined]


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it), not the one at start-up."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _log_access(call: api_call.Call, status: int, duration_ms: float) -> None:
    fields = {
        "method": request.method,
        "path": request.path,
        "status": status,
        "error_code": call.error_code,
        "duration_ms": round(duration_ms, 2),
        "tenant": call.tenant,
    }
    if getattr(access_log, "json", False):
        access_log.info(json.dumps(fields))
    else:
        access_log.info("%s %s %s %s %.2fms tenant=%s", *fields.values())


def _register_errors(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(err: ApiError) -> Response:
        return api_call.fail(err)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        if isinstance(err, MethodNotAllowed):
            allowed = sorted(set(err.valid_methods or ()) - {"HEAD", "OPTIONS"})
            response = api_call.fail(
                EndpointNotFound(f"No endpoint {request.method} {request.path}; allowed: {', '.join(allowed)}")
            )
            response.headers["Allow"] = ", ".join(allowed)
            return response
        if isinstance(err, NotFound):
            return api_call.fail(EndpointNotFound(f"Endpoint not found: {request.method} {request.path}"))
        if isinstance(err, RequestEntityTooLarge):
            limit = app.config["MAX_CONTENT_LENGTH"]
            return api_call.fail(PayloadTooLarge(f"Request body too large (limit {limit} bytes)"))
        if err.code == 400:
            return api_call.fail(InvalidJson(f"Malformed request: {err.description}"))
        return api_call.fail(InternalError(f"Unexpected HTTP error {err.code}: {err.name}"))

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Response:
        # The traceback goes to the log for us, never into the body for the client.
        log.exception("unexpected error on %s %s", request.method, request.path)
        return api_call.fail(InternalError("Internal server error; the sandbox log has the details"))
