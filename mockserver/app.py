"""The application factory: settings, the sandbox runtime, the request pipeline in front of Flask, the pages.

Every request goes through ``mockserver.pipeline`` (identity, guards, switches, authentication, the answer
cache, the journal); the API's views are called by the pipeline itself, and Flask serves the rest: the
control API, the console, the documentation and the home page, with the handlers below for their errors.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from mockserver import api, console, home, openapi
from mockserver.accesslog import AccessLog
from mockserver.answer import Answer
from mockserver.api.routes import MatchingRule
from mockserver.call import fail
from mockserver.config import Config
from mockserver.control import presets
from mockserver.control import views as control_views
from mockserver.errors import ApiError, EndpointNotFound, InternalError, InvalidJson, PayloadTooLarge
from mockserver.pipeline import Pipeline
from mockserver.routing import nearest_endpoint
from mockserver.sandbox import Sandbox
from mockserver.storagemode import THREADS, StorageMode

log = logging.getLogger("tap4book.mock")


class SandboxFlask(Flask):
    """Flask, with the sandbox's own answers (mockserver/answer.py) accepted as view results, and rules that
    compile their URL builders only when used (routing.MatchingRule)."""

    url_rule_class = MatchingRule

    def make_response(self, rv: Any) -> Response:
        if isinstance(rv, Answer):
            streamed = not isinstance(rv.body, bytes)
            return self.response_class(rv.body, status=rv.status, headers=rv.headers, direct_passthrough=streamed)
        return super().make_response(rv)


def create_app(config: Mapping[str, Any] | Config | None = None, storage: StorageMode = THREADS) -> Flask:
    """``storage``: the server's serving mode (mockserver/storagemode.py); threads unless said otherwise."""
    settings = config if isinstance(config, Config) else Config.load(config)
    app = SandboxFlask(__name__, static_folder=None)  # no /static/ route: every path is the API's or the control's
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False  # /__mock//journal is a 404 envelope, not an HTML redirect
    sandbox = app.extensions["tap4book"] = Sandbox(settings, storage)
    for name in settings.scenario:
        presets.apply(sandbox, name, None)
    access_log = app.extensions["tap4book.log"] = AccessLog(settings.log_format)
    app.register_blueprint(home.bp)
    if settings.control_api:
        app.register_blueprint(control_views.blueprint())
        app.register_blueprint(openapi.bp)  # the description and its page, under /__mock/ too
        app.register_blueprint(console.bp)  # the live console's page and files (mockserver/console/)
    else:
        app.register_blueprint(control_views.readiness())  # health checks: reveals nothing, changes nothing
    _register_errors(app)
    app.wsgi_app = Pipeline(app, sandbox, access_log)  # type: ignore[method-assign]
    return app


def _register_errors(app: Flask) -> None:
    """Errors of the pages Flask serves (the API's are the pipeline's): the same envelope, in JSON."""

    @app.errorhandler(ApiError)
    def api_error(err: ApiError) -> Answer:
        return fail(err)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Answer:
        if isinstance(err, MethodNotAllowed):
            allowed = sorted(set(err.valid_methods or ()) - {"HEAD", "OPTIONS"})
            return fail(
                EndpointNotFound(
                    f"No endpoint {request.method} {request.path}; allowed: {', '.join(allowed)}",
                    hint=f"{request.path} takes {' or '.join(allowed)}, not {request.method}.",
                    headers={"Allow": ", ".join(allowed)},
                )
            )
        if isinstance(err, NotFound):
            hint = nearest_endpoint(request.path, api.ROUTES, app.url_map)
            return fail(EndpointNotFound(f"Endpoint not found: {request.method} {request.path}", hint=hint))
        if isinstance(err, RequestEntityTooLarge):
            return fail(PayloadTooLarge("Request body too large"))
        if err.code == 400:
            return fail(InvalidJson(f"Malformed request: {err.description}"))
        return fail(InternalError(f"Unexpected HTTP error {err.code}: {err.name}"))

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Answer:
        # The traceback goes to the log for us, never into the body for the client.
        log.exception("unexpected error on %s %s", request.method, request.path)
        return fail(InternalError("Internal server error; the sandbox log has the details"))
