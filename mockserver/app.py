"""The application factory: settings, the sandbox runtime, blueprints, request hooks and error handlers.

One request flows: ``_begin`` (call context: format, debug, tenant; scenario switches; authentication)
-> the view (validation -> store) -> ``render`` -> ``_finish`` (body faults, journal, access log).
"""

from __future__ import annotations

import difflib
import logging
import re
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from mockserver import api, auth, console, cors, home, openapi
from mockserver.accesslog import AccessLog
from mockserver.call import answers, context
from mockserver.config import Config
from mockserver.control import presets, switches
from mockserver.control import views as control_views
from mockserver.errors import ApiError, EndpointNotFound, InternalError, InvalidJson, PayloadTooLarge
from mockserver.fastpath import FastPath
from mockserver.sandbox import Sandbox
from mockserver.storagemode import THREADS, StorageMode

log = logging.getLogger("tap4book.mock")


def create_app(config: Mapping[str, Any] | Config | None = None, storage: StorageMode = THREADS) -> Flask:
    """``storage``: the server's serving mode (mockserver/storagemode.py); threads unless said otherwise."""
    settings = config if isinstance(config, Config) else Config.load(config)
    app = Flask(__name__, static_folder=None)  # no /static/ route: every path is the API's or the control's
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False  # /api//calendars is a 404 envelope, not an HTML redirect
    sandbox = app.extensions["tap4book"] = Sandbox(settings, storage)
    for name in settings.scenario:
        presets.apply(sandbox, name, None)
    app.extensions["tap4book.log"] = AccessLog(settings.log_format)

    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_end)
    api.register(app)
    app.register_blueprint(home.bp)
    if settings.control_api:
        app.register_blueprint(control_views.bp)
        app.register_blueprint(openapi.bp)  # the description and its page, under /__mock/ too
        app.register_blueprint(console.bp)  # the live console's page and files (mockserver/console/)
    else:
        # Readiness stays for health checks: it reveals nothing and changes nothing.
        app.add_url_rule("/__mock/ready", "control.ready", control_views.ready)
    _register_errors(app)
    cors.init_app(app, settings.cors_origins, settings.control_origins)
    app.wsgi_app = FastPath(app)  # type: ignore[method-assign]
    return app


def _is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _begin() -> Response | None:
    """The call context for every request; for the API, scenario switches and then authentication."""
    call = context.begin()
    if not _is_api() or request.method == "OPTIONS":  # a CORS preflight carries no token
        return None
    if call.sandbox.config.control_api:  # --no-control-api: no test-double behaviour at all
        forced = switches.before_view(call)
        if forced is not None:
            return forced
    view = current_app.view_functions.get(request.endpoint or "")
    auth.guard(
        public=view is None or getattr(view, "public", False),
        debug=call.debug,
        failure=call.auth_error,
    )
    return None


def _finish(response: Response) -> Response:
    call = g.get("call")
    if call is None or not _is_api():
        return response
    response = switches.after_view(call, response)
    duration_ms = (time.perf_counter() - call.started) * 1000
    # A fault that sends no HTTP answer at all is journaled with status 0: no status reached the client.
    status = 0 if call.fault in switches.SILENT_FAULTS else response.status_code
    call.sandbox.journal.record(
        tenant=call.tenant,
        method=request.method,
        path=request.path,
        query=list(request.args.items(multi=True)),
        headers=list(request.headers.items()),
        body=_sent_body(),
        status=status,
        error_code=call.error_code,
        rule_id=call.rule_id,
        duration_ms=duration_ms,
        hint=call.hint or call.window_hint(),
        fault=call.fault,
        answer_type=None if status == 0 else response.content_type,
        answer=b"" if status == 0 or response.is_streamed else response.get_data(),
    )
    log: AccessLog = current_app.extensions["tap4book.log"]
    if log.enabled:
        log.write(
            {
                "method": request.method,
                "path": request.path,
                "status": status,
                "error_code": call.error_code,
                "duration_ms": round(duration_ms, 2),
                "tenant": call.tenant,
                "rule_id": call.rule_id,
                "fault": call.fault,
            }
        )
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


def _nearest_endpoint(app: Flask) -> str:
    """The documented route closest to the path asked for, by spelling."""
    routes = {
        (
            rule.rule.replace("<", "{").replace(">", "}"),
            ", ".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})),
        )
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/api", "/__mock"))
    }
    templates = sorted(route for route, _ in routes)
    shape = re.sub(r"/\d+(?=/|$)", "/{id}", request.path.rstrip("/") or "/")
    shape = re.sub(r"\{(id|number|calendar_id|appointment_id|slot_id)\}", "{id}", shape)
    candidates = {re.sub(r"\{[a-z_]+\}", "{id}", t): t for t in templates}
    close = difflib.get_close_matches(shape, list(candidates), n=1, cutoff=0.6)
    if not close:
        return "No such endpoint: GET /api/ lists the API's endpoints, GET /__mock/ the control API's."
    template = candidates[close[0]]
    methods = next(m for route, m in routes if route == template)
    return f"The nearest endpoint is {methods} {close[0]}."


def _register_errors(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(err: ApiError) -> Response:
        return answers.fail(err)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        if isinstance(err, MethodNotAllowed):
            allowed = sorted(set(err.valid_methods or ()) - {"HEAD", "OPTIONS"})
            response = answers.fail(
                EndpointNotFound(
                    f"No endpoint {request.method} {request.path}; allowed: {', '.join(allowed)}",
                    hint=f"{request.path} takes {' or '.join(allowed)}, not {request.method}"
                    + ("; POST /api/appointment creates an appointment." if "PUT" in allowed else "."),
                )
            )
            response.headers["Allow"] = ", ".join(allowed)
            return response
        if isinstance(err, NotFound):
            return answers.fail(
                EndpointNotFound(f"Endpoint not found: {request.method} {request.path}", hint=_nearest_endpoint(app))
            )
        if isinstance(err, RequestEntityTooLarge):
            limit = app.config["MAX_CONTENT_LENGTH"]
            return answers.fail(PayloadTooLarge(f"Request body too large (limit {limit} bytes)"))
        if err.code == 400:
            return answers.fail(InvalidJson(f"Malformed request: {err.description}"))
        return answers.fail(InternalError(f"Unexpected HTTP error {err.code}: {err.name}"))

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Response:
        # The traceback goes to the log for us, never into the body for the client.
        log.exception("unexpected error on %s %s", request.method, request.path)
        return answers.fail(InternalError("Internal server error; the sandbox log has the details"))
