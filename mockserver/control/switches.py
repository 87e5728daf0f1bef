"""Scenario switches at request time: the ``X-Mock-Scenario`` header, the ``__scenario`` parameter, and rules.

Two stages of the request pipeline (mockserver/pipeline.py). ``before_view`` runs once the caller is known (so
a forced error is rendered in the requested format and tenant) and before authentication (so AUTH_* can be
forced too). Network faults that need the real answer (a malformed or truncated body) are applied by
``after_view``. Faults that act on the connection need the real server (``tap4book.server`` in the environ;
techniques in ``mockserver/netfaults.py``); under the Flask test client the sandbox answers with an empty 502
carrying ``X-Mock-Fault`` instead, so the rule is still visible. Any answer that a rule gave or delayed says
so with ``X-Mock-Rule: <id>`` (the rule that answered, else the last that delayed it).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from mockserver import envelope, netfaults, requestlock
from mockserver.answer import Answer
from mockserver.call import Call, fail
from mockserver.control import rules as rule_specs
from mockserver.errors import ALL_CODES, InvalidParameter, from_code
from mockserver.protocol import FAULT_HEADER, RULE_HEADER, SCENARIO_HEADER, SCENARIO_PARAM
from mockserver.render import content_type

#: Faults after which no HTTP answer reaches the client.
SILENT_FAULTS = frozenset({"connection_reset"})


class DelayBudget:
    """How many requests may sleep in ``delay_ms`` rules at once, in this process.

    A sleeping request holds one of the server's ``--threads``: one tenant's delays must not take them all
    (issue: 64 delayed calls of one tenant made every other tenant wait the whole delay). A tenant may have
    half the threads asleep, all tenants together all but an eighth (at least 4); a delay past that is
    skipped, and the answer's hint says so (docs/limits.md).
    """

    def __init__(self, threads: int) -> None:
        self.per_tenant = max(1, threads // 2)
        self.total = max(1, threads - max(4, threads // 8))
        self._lock = threading.Lock()
        self._asleep: Counter[str | None] = Counter()

    def take(self, tenant: str | None) -> bool:
        with self._lock:
            if self._asleep[tenant] >= self.per_tenant or sum(self._asleep.values()) >= self.total:
                return False
            self._asleep[tenant] += 1
            return True

    def give_back(self, tenant: str | None) -> None:
        with self._lock:
            self._asleep[tenant] -= 1
            if not self._asleep[tenant]:
                del self._asleep[tenant]


def before_view(call: Call, budget: DelayBudget) -> Answer | None:
    """A forced answer for this request, or None to let the API answer (after any delay rules).

    The delays of all the rules that match one request add up to at most ``MAX_TOTAL_DELAY_MS``.
    """
    incoming = call.incoming
    forced = incoming.header(SCENARIO_HEADER)
    source = f"the {SCENARIO_HEADER} header"
    if forced is None and SCENARIO_PARAM in incoming.args:
        forced, source = incoming.args.get(SCENARIO_PARAM), f"the {SCENARIO_PARAM} parameter"
    if forced:
        call.hint = f"Forced by {source} of this request; send it without {source.split()[1]} for a real answer."
        return _forced(call, forced.strip())
    snapshot = call.snapshot
    slept = 0.0
    body = rule_specs.lazy_json(incoming.body)  # parsed only if a rule with match_body gets that far
    for rule in snapshot.rules_for(call.tenant):
        if not rule_specs.matches(
            rule, incoming.method, incoming.path, incoming.args, call.tenant, incoming.headers, body
        ):
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
            slept += _sleep(call, budget, pause)
        if rule_specs.is_passthrough(rule):
            continue
        call.hint = _rule_hint(rule)
        return _respond(call, rule)
    return None


def _sleep(call: Call, budget: DelayBudget, pause: float) -> float:
    if not budget.take(call.tenant):
        call.hint = (
            f"A delay of {pause * 1000:.0f} ms was skipped: {budget.per_tenant} requests of this tenant (or"
            f" {budget.total} in all) already sleep in delay rules, and a sleeping request holds one of the"
            " server's --threads (docs/limits.md)."
        )
        return 0.0
    try:
        requestlock.sleep(pause)  # lets other requests run meanwhile
    finally:
        budget.give_back(call.tenant)
    return pause


def _rule_hint(rule: dict[str, Any]) -> str:
    origin = f"rule {rule['id']}" + (f" of the {rule['preset']!r} preset" if rule.get("preset") else "")
    return f"Forced by {origin} (path {rule['path']}); DELETE /__mock/rules/{rule['id']} removes it."


def _forced(call: Call, value: str) -> Answer | None:
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


def _error(call: Call, code: str, message: str | None) -> Answer:
    error = from_code(code, message or f"{ALL_CODES[code].default_message} (forced by the sandbox)", call.hint)
    if code == "INTERNAL_ERROR" and call.path.rstrip("/") == "/api/health":
        # The maintenance scenario: health says what is down, in the documented health fields.
        return fail(error, data=envelope.health(int(call.now()), call.debug, connected=False))
    return fail(error)


def _respond(call: Call, rule: dict[str, Any]) -> Answer | None:
    if "error_code" in rule:
        return _error(call, rule["error_code"], rule.get("message"))
    if "fault" in rule:
        return _fault(call, rule["fault"])
    body = rule["body"]
    payload = body.encode() if isinstance(body, str) else json.dumps(body, ensure_ascii=False).encode()
    call.error_code = None
    return Answer(rule["status"], payload, [("Content-Type", rule["content_type"]), *rule["headers"].items()])


def _fault(call: Call, fault: str) -> Answer | None:
    call.fault = fault
    if fault == "connection_reset":
        environ = call.incoming.environ
        if "tap4book.server" in environ:
            fd = netfaults.connection_fd(environ)
            if fd is not None:
                netfaults.reset(fd)  # RST: the client gets ECONNRESET
            # Either way the server will not send this head: the connection ends without a byte.
            return Answer(200, b"", [("Content-Length", netfaults.INVALID_LENGTH)])
        return Answer(502, b"", [(FAULT_HEADER, fault)])
    if fault == "empty_response":
        return Answer(200, b"", [(FAULT_HEADER, fault), ("Content-Type", content_type(call.fmt))])
    return None  # malformed_body / truncated_body damage the real answer, in after_view


def after_view(call: Call, answer: Answer) -> Answer:
    """Name the rule that answered or delayed the request; damage the real answer for the body faults."""
    if call.rule_id is not None:
        answer.set_header(RULE_HEADER, str(call.rule_id))
    fault = call.fault
    if fault not in ("malformed_body", "truncated_body"):
        return answer
    body = answer.data
    half = body[: max(1, len(body) // 2)]
    answer.set_header(FAULT_HEADER, fault)
    if fault == "truncated_body" and "tap4book.server" in call.incoming.environ:
        # Promise the whole body, send half, hang up: the client's read fails mid-body.
        answer.body = netfaults.short_body(half)
        answer.set_header("Content-Length", str(len(body)))
        return answer
    answer.body = half
    return answer
