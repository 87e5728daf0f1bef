"""The request pipeline: every request, of every plane, goes through these stages in this order.

    request stages (each may answer, which ends them)         planes
    message       the method's case, exactly one Host (RFC 9110, 9112)        all
    preflight     a browser's CORS preflight from an allowed origin: 204      all
    identify      format, debug mode, account, tenant (never refuses)          all
    guard         browser host (DNS rebinding), admin token, same-site writes control
    refuse        what identify found wrong: tenant name, format              all
    switches      X-Mock-Scenario, __scenario, rules: errors, faults, delays  api
    route         the endpoint, or ENDPOINT_NOT_FOUND                         api
    authenticate  a valid token, unless the endpoint is public or debug mode   api
    cache         the kept answer to the same read (api/cache.py)             api
    view          the API view; every other page is Flask's                   all

    answer stages (always, on whatever answered)
    keep          a read's answer kept for the next identical one             api
    damage        body faults of a rule; X-Mock-Rule                         api
    record        the journal entry and the access-log line                  api
    decorate      X-Request-Id, X-Mock-Hint, CORS headers, Content-Length     all

It runs before Flask, on plain request values (call/incoming.py): the API never pays for Flask's per-request
machinery, and a repeated read answered by the cache goes through exactly the stages a miss does, up to the
cache. Every switch a request can carry answers before the cache or is part of its key; ``SWITCHES`` lists
them and tests/test_cache.py holds each one. The control plane, the console and the documentation pages are
Flask views, reached by the ``view`` stage with the call already identified and guarded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from mockserver import api, auth, protocol
from mockserver.accesslog import AccessLog
from mockserver.answer import Answer, status_line
from mockserver.api import cache
from mockserver.call import Call, context, fail
from mockserver.call.incoming import Incoming
from mockserver.control import guard, switches
from mockserver.control.views.datasets import DATASET_BODY_LIMIT, DATASET_PATH
from mockserver.cors import Cors
from mockserver.errors import ApiError, EndpointNotFound, InternalError, InvalidParameter
from mockserver.routing import nearest_endpoint
from mockserver.sandbox import Sandbox

log = logging.getLogger("tap4book.mock")

API, CONTROL, PAGES = "api", "control", "pages"
ALL = frozenset({API, CONTROL, PAGES})
HINT_LIMIT = 1024
CONTROL_ENDPOINTS = "control."
MATCHES_KEPT = 4096


@dataclass(frozen=True)
class Switch:
    """Something a request or the control API can do that changes an answer, and how the cache stays right."""

    name: str
    #: "answers before the cache" (the switches stage, debug mode) or "in the cache key" (clock, data, ...)
    cache: str


#: Every switch; tests/test_cache.py has a case for each name and fails on a switch it does not know.
SWITCHES = (
    Switch("scenario header", "answers before the cache"),
    Switch("scenario parameter", "answers before the cache"),
    Switch("rule", "answers before the cache"),
    Switch("preset", "answers before the cache"),
    Switch("fault", "answers before the cache"),
    Switch("debug header", "never cached"),
    Switch("debug parameter", "never cached"),
    Switch("format parameter", "in the cache key"),
    Switch("accept header", "in the cache key"),
    Switch("tenant header", "in the cache key"),
    Switch("clock change", "in the cache key"),
    Switch("data change", "in the cache key"),
    Switch("query", "in the cache key"),
)


def plane_of(path: str) -> str:
    if path == protocol.API_PREFIX or path.startswith(protocol.API_PREFIX + "/"):
        return API
    if path.startswith(protocol.CONTROL_PREFIX):
        return CONTROL
    return PAGES


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[Pipeline, Call], Answer | None]
    planes: frozenset[str] = ALL


class Pipeline:
    """The WSGI application in front of Flask (``app.wsgi_app``)."""

    def __init__(self, app: Flask, sandbox: Sandbox, access_log: AccessLog) -> None:
        self.flask = app.wsgi_app
        self.sandbox = sandbox
        config = sandbox.config
        self.log = access_log
        self.cors = Cors(config.cors_origins, config.control_origins)
        self.budget = switches.DelayBudget(config.threads)
        self.allowed_hosts = frozenset([*(name.lower() for name in config.allowed_hosts), guard.host_name(config.host)])
        self.routes = {route.name: route for route in api.ROUTES}
        self.matcher = api.route_map(api.ROUTES).bind("localhost")
        self.flask_rules = app.url_map
        # Each plane's stages, in order: the loop of every request tests no plane.
        self.before = {plane: [s for s in REQUEST_STAGES if plane in s.planes] for plane in ALL}
        self.after = {plane: [s for s in ANSWER_STAGES if plane in s.planes] for plane in ALL}
        self._matches: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self.hits = 0  # answers served by the cache stage (bench and tests read it)

    def match(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        """The API route of a request (werkzeug's router), remembered: most requests repeat a few paths."""
        key = (method, path)
        found = self._matches.get(key)
        if found is None:
            found = self.matcher.match(path, method)  # raises NotFound / MethodNotAllowed, never remembered
            if len(self._matches) >= MATCHES_KEPT:
                self._matches.clear()
            self._matches[key] = found
        return found[0], dict(found[1])

    def body_limit(self, path: str) -> int:
        return DATASET_BODY_LIMIT if path == DATASET_PATH else self.sandbox.config.max_body_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        incoming = Incoming(environ, self.body_limit(environ.get("PATH_INFO") or ""))
        call = Call(self.sandbox, incoming)
        plane = plane_of(incoming.path)
        token = context.enter(call)
        try:
            answer = self._answer(call, plane)
            for stage in self.after[plane]:
                try:
                    stage.run(self, call)  # type: ignore[arg-type]
                except Exception:  # an answer stage must never lose the answer
                    log.exception("the %s stage failed on %s %s", stage.name, call.method, call.path)
        finally:
            call.close()
            context.leave(token)
        start_response(status_line(answer.status), answer.headers)
        if isinstance(answer.body, bytes):
            return [] if incoming.method == "HEAD" else [answer.body]
        return answer.body

    def _answer(self, call: Call, plane: str) -> Answer:
        try:
            for stage in self.before[plane]:
                answer = stage.run(self, call)
                if answer is not None:
                    call.answer = answer
                    return answer
            raise AssertionError("the view stage always answers")
        except ApiError as err:
            call.answer = fail(err)
        except Exception:  # the traceback goes to the log for us, never into the body for the client
            log.exception("unexpected error on %s %s", call.method, call.path)
            call.answer = fail(InternalError("Internal server error; the sandbox log has the details"))
        return call.answer


# -- request stages ------------------------------------------------------------------------------


def _message(pipeline: Pipeline, call: Call) -> None:
    """What the HTTP server lets through but the RFCs refuse: it would otherwise be served as something else."""
    incoming = call.incoming
    if incoming.method != incoming.method.upper():
        raise EndpointNotFound(
            f"No endpoint {incoming.method} {incoming.path}: HTTP methods are case-sensitive",
            hint=f"Send {incoming.method.upper()}, in capitals (RFC 9110, section 9.1).",
        )
    host = incoming.environ.get("HTTP_HOST")
    if incoming.environ.get("SERVER_PROTOCOL") == "HTTP/1.1" and (not host or "," in host):
        problem = "several Host headers" if host else "no Host header (or an empty one)"
        raise InvalidParameter(
            f"An HTTP/1.1 request needs exactly one Host header; this one has {problem}",
            details={"header": "Host"},
            hint="RFC 9112, section 3.2: send one Host header naming the server, such as Host: localhost:8080.",
        )


def _preflight(pipeline: Pipeline, call: Call) -> Answer | None:
    return pipeline.cors.preflight(call.incoming)


def _identify(pipeline: Pipeline, call: Call) -> None:
    context.identify(call)


def _guard(pipeline: Pipeline, call: Call) -> None:
    """The control API's views only: its pages (console, documentation, description) hold no data."""
    try:
        endpoint, _ = pipeline.flask_rules.bind("localhost").match(call.path, call.method)
    except HTTPException:
        return  # not a control call: Flask answers 404 or 405
    if endpoint.startswith(CONTROL_ENDPOINTS):
        guard.check(call, pipeline.allowed_hosts)


def _refuse(pipeline: Pipeline, call: Call) -> None:
    if call.refusal is not None:
        raise call.refusal


def _switches(pipeline: Pipeline, call: Call) -> Answer | None:
    if not call.sandbox.config.control_api or call.method == "OPTIONS":  # --no-control-api: no test-double
        return None
    return switches.before_view(call, pipeline.budget)


def _route(pipeline: Pipeline, call: Call) -> Answer | None:
    try:
        name, call.route_args = pipeline.match(call.method, call.path)
    except MethodNotAllowed as exc:
        allowed = sorted(set(exc.valid_methods or ()) - {"HEAD"})
        if call.method == "OPTIONS":  # what Flask answers to a plain OPTIONS (not a CORS preflight)
            methods = ", ".join(sorted({*allowed, "HEAD", "OPTIONS"}))
            return Answer(200, b"", [("Content-Type", "text/html; charset=utf-8"), ("Allow", methods)])
        raise EndpointNotFound(
            f"No endpoint {call.method} {call.path}; allowed: {', '.join(allowed)}",
            hint=f"{call.path} takes {' or '.join(allowed)}, not {call.method}"
            + ("; POST /api/appointment creates an appointment." if "PUT" in allowed else "."),
            headers={"Allow": ", ".join(allowed)},
        ) from None
    except NotFound:
        raise EndpointNotFound(
            f"Endpoint not found: {call.method} {call.path}",
            hint=nearest_endpoint(call.path, api.ROUTES, pipeline.flask_rules),
        ) from None
    call.route = pipeline.routes[name]
    return None


def _authenticate(pipeline: Pipeline, call: Call) -> None:
    auth.guard(public=call.route.public, debug=call.debug, failure=call.auth_error)


def _cache(pipeline: Pipeline, call: Call) -> Answer | None:
    if not call.route.cached or call.method not in ("GET", "HEAD"):
        return None
    answer = cache.lookup(call)
    if answer is not None:
        call.cached_hit = True
        pipeline.hits += 1
    return answer


def _view(pipeline: Pipeline, call: Call) -> Answer:
    if call.route is not None:
        return call.route.view(**call.route_args)
    return _flask(pipeline, call)


def _flask(pipeline: Pipeline, call: Call) -> Answer:
    """A page Flask serves (control API, console, documentation, home): its answer, body as it streams."""
    head: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        head[:] = [status, headers]

    body = pipeline.flask(call.incoming.environ, start_response)
    return Answer(int(head[0].split(" ", 1)[0]), body, list(head[1]))


REQUEST_STAGES = (
    Stage("message", _message),  # type: ignore[arg-type]
    Stage("preflight", _preflight),
    Stage("identify", _identify),  # type: ignore[arg-type]
    Stage("guard", _guard, frozenset({CONTROL})),  # type: ignore[arg-type]
    Stage("refuse", _refuse),  # type: ignore[arg-type]
    Stage("switches", _switches, frozenset({API})),
    Stage("route", _route, frozenset({API})),
    Stage("authenticate", _authenticate, frozenset({API})),  # type: ignore[arg-type]
    Stage("cache", _cache, frozenset({API})),
    Stage("view", _view),
)


# -- answer stages -------------------------------------------------------------------------------


def _keep(pipeline: Pipeline, call: Call) -> None:
    if call.cache_key is not None and not call.cached_hit:
        cache.keep(call, call.answer)


def _damage(pipeline: Pipeline, call: Call) -> None:
    call.answer = switches.after_view(call, call.answer)


def _record(pipeline: Pipeline, call: Call) -> None:
    answer, incoming = call.answer, call.incoming
    duration_ms = call.elapsed_ms()
    # A fault that sends no HTTP answer at all is journaled with status 0: no status reached the client.
    status = 0 if call.fault in switches.SILENT_FAULTS else answer.status
    call.hint = call.hint or call.window_hint()
    call.request_id = call.sandbox.journal.record(
        tenant=call.tenant,
        method=incoming.method,
        path=incoming.path,
        query=incoming.args.pairs,
        headers=incoming.header_items(),
        body=incoming.recorded_body() if incoming.has_body else b"",
        status=status,
        error_code=call.error_code,
        rule_id=call.rule_id,
        duration_ms=duration_ms,
        hint=call.hint,
        fault=call.fault,
        answer_type=None if status == 0 else answer.content_type,
        answer=b"" if status == 0 else answer.data,
    )
    if pipeline.log.enabled:
        pipeline.log.write(
            {
                "method": incoming.method,
                "path": incoming.path,
                "status": status,
                "error_code": call.error_code,
                "duration_ms": round(duration_ms, 2),
                "tenant": call.tenant,
                "rule_id": call.rule_id,
                "fault": call.fault,
            }
        )


def _decorate(pipeline: Pipeline, call: Call) -> None:
    answer = call.answer
    if call.request_id is not None:
        answer.headers.append((protocol.REQUEST_ID_HEADER, str(call.request_id)))
    if call.hint and call.fault not in switches.SILENT_FAULTS:
        answer.headers.append((protocol.HINT_HEADER, header_text(call.hint)))
    pipeline.cors.decorate(call.incoming, answer)
    if isinstance(answer.body, bytes) and answer.header("Content-Length") is None:
        answer.headers.append(("Content-Length", str(len(answer.body))))


def header_text(text: str) -> str:
    """Text an HTTP header can carry as written: one line of printable ASCII (others escaped as \\uXXXX)."""
    ascii_text = text[:HINT_LIMIT].encode("ascii", "backslashreplace").decode("ascii")
    return "".join(ch if " " <= ch <= "~" else f"\\x{ord(ch):02x}" for ch in ascii_text)


ANSWER_STAGES = (
    Stage("keep", _keep, frozenset({API})),  # type: ignore[arg-type]
    Stage("damage", _damage, frozenset({API})),  # type: ignore[arg-type]
    Stage("record", _record, frozenset({API})),  # type: ignore[arg-type]
    Stage("decorate", _decorate),  # type: ignore[arg-type]
)
