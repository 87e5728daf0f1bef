"""Scenario switches at request time: the ``X-Mock-Scenario`` header, the ``__scenario`` parameter, and rules.

``before_view`` runs after the call context exists (so a forced error is rendered in the requested format
and tenant) and before authentication (so AUTH_* can be forced too). Network faults that need the real
response (a malformed or truncated body) are applied by ``after_view``. Faults that act on the connection
need the real server (``tap4book.server`` in the environ; techniques in ``mockserver/netfaults.py``); under
the Flask test client the sandbox answers with an empty 502 carrying ``X-Mock-Fault`` instead, so the rule
is still visible. Any answer that a rule
gave or delayed says so with ``X-Mock-Rule: <id>`` (the rule that answered, else the last that delayed it).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request

from mockserver import envelope, netfaults, requestlock
from mockserver.call import Call, fail
from mockserver.control import rules as rule_specs
from mockserver.errors import ALL_CODES, InvalidParameter, from_code
from mockserver.render import content_type

SCENARIO_HEADER = "X-Mock-Scenario"
SCENARIO_PARAM = "__scenario"
FAULT_HEADER = "X-Mock-Fault"
RULE_HEADER = "X-Mock-Rule"
#: Faults after which no HTTP answer reaches the client.
SILENT_FAULTS = frozenset({"connection_reset"})


def before_view(call: Call) -> Response | None:
    """A forced answer for this request, or None to let the API answer (after any delay rules).

    The delays of all the rules that match one request add up to at most ``MAX_TOTAL_DELAY_MS``.
    """
    forced = request.headers.get(SCENARIO_HEADER)
    source = f"the {SCENARIO_HEADER} header"
    if forced is None and SCENARIO_PARAM in request.args:
        forced, source = request.args.get(SCENARIO_PARAM), f"the {SCENARIO_PARAM} parameter"
    if forced:
        call.hint = f"Forced by {source} of this request; send it without {source.split()[1]} for a real answer."
        return _forced(call, forced.strip())
    snapshot = call.snapshot
    slept = 0.0
    for rule in snapshot.rules:
        if not rule_specs.matches(rule, request.method, request.path, request.args, call.tenant):
            continue
        seed = rule.get("seed", snapshot.seed)
        fired, evaluation = call.sandbox.control.fire(
            rule, lambda n, rule=rule, seed=seed: rule_specs.draw(seed, rule["id"], n)
        )
        if not fired:
            continue
        call.rule_id = rule["id"]
        pause = min(rule_specs.delay_seconds(rule, seed, evaluation), rule_specs.MAX_TOTAL_DELAY_MS / 1000 - slept)
        if pause > 0:
            requestlock.sleep(pause)  # lets other requests run meanwhile
            slept += pause
        if rule_specs.is_passthrough(rule):
            continue
        call.hint = _rule_hint(rule)
        return _respond(call, rule)
    return None


def _rule_hint(rule: dict[str, Any]) -> str:
    origin = f"rule {rule['id']}" + (f" of the {rule['preset']!r} preset" if rule.get("preset") else "")
    return f"Forced by {origin} (path {rule['path']}); DELETE /__mock/rules/{rule['id']} removes it."


def _forced(call: Call, value: str) -> Response | None:
    code = value.upper()
    if code in ALL_CODES:
        return _error(call, code, None)
    if value in rule_specs.FAULTS:
        return _fault(call, value)
    raise InvalidParameter(
        f"Unknown {SCENARIO_HEADER} {value!r}: use a documented error code ({', '.join(ALL_CODES)})"
        f" or a fault ({', '.join(rule_specs.FAULTS)})",
        details={"header": SCENARIO_HEADER},
    )


def _error(call: Call, code: str, message: str | None) -> Response:
    error = from_code(code, message or f"{ALL_CODES[code].default_message} (forced by the sandbox)", call.hint)
    if code == "INTERNAL_ERROR" and request.path.rstrip("/") == "/api/health":
        # The maintenance scenario: health says what is down, in the documented health fields.
        return fail(error, data=envelope.health(int(call.now()), call.debug, connected=False))
    return fail(error)


def _respond(call: Call, rule: dict[str, Any]) -> Response | None:
    if "error_code" in rule:
        return _error(call, rule["error_code"], rule.get("message"))
    if "fault" in rule:
        return _fault(call, rule["fault"])
    body = rule["body"]
    payload = body.encode() if isinstance(body, str) else json.dumps(body, ensure_ascii=False).encode()
    call.error_code = None
    return Response(payload, status=rule["status"], headers=rule["headers"], content_type=rule["content_type"])


def _fault(call: Call, fault: str) -> Response | None:
    call.fault = fault
    if fault == "connection_reset":
        if "tap4book.server" in request.environ:
            fd = netfaults.connection_fd(request.environ)
            if fd is not None:
                netfaults.reset(fd)  # RST: the client gets ECONNRESET
            # Either way the server will not send this head: the connection ends without a byte.
            silent = Response(b"", status=200)
            silent.headers["Content-Length"] = netfaults.INVALID_LENGTH  # after the body, which sets its own
            return silent
        return Response(b"", status=502, headers={FAULT_HEADER: fault})
    if fault == "empty_response":
        return Response(b"", status=200, headers={FAULT_HEADER: fault}, content_type=content_type(call.fmt))
    return None  # malformed_body / truncated_body damage the real response, in after_view


def after_view(call: Call, response: Response) -> Response:
    """Name the rule that answered or delayed the request; damage the real response for the body faults."""
    if call.rule_id is not None:
        response.headers[RULE_HEADER] = str(call.rule_id)
    fault = call.fault
    if fault not in ("malformed_body", "truncated_body"):
        return response
    body = response.get_data()
    half = body[: max(1, len(body) // 2)]
    if fault == "truncated_body" and "tap4book.server" in request.environ:
        # Promise the whole body, send half, hang up: the client's read fails mid-body.
        response.response = netfaults.short_body(half)
        response.headers["Content-Length"] = str(len(body))
        response.headers[FAULT_HEADER] = fault
        return response
    response.set_data(half)
    response.headers[FAULT_HEADER] = fault
    return response
