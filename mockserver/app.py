"""The application factory: settings, the sandbox runtime, blueprints and the error handlers."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from mockserver import api
from mockserver.api import call as api_call
from mockserver.config import Config
from mockserver.errors import ApiError, EndpointNotFound, InternalError, InvalidJson, PayloadTooLarge
from mockserver.sandbox import Sandbox

log = logging.getLogger("tap4book.mock")


def create_app(config: Mapping[str, Any] | Config | None = None) -> Flask:
    settings = config if isinstance(config, Config) else Config.load(config)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = False
    app.extensions["tap4book"] = Sandbox(settings)

    app.before_request(_begin)
    app.teardown_request(_end)
    api.register(app)
    _register_errors(app)
    return app


def _begin() -> None:
    """Every request gets a call context: /api/ requests are authenticated here, before their view."""
    api_call.begin()
    api_call.enforce_auth()


def _end(_exc: BaseException | None) -> None:
    current = g.get("call")
    if current is not None:
        current.close()


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
