"""Rules every envelope satisfies, whatever the call: ``http_code``, ``success``, each date-time's offset."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from mockserver.probe import sections
from mockserver.probe.rulebook import ALL_KINDS, Facts, NotApplicable, Rule, get, integer, registrar
from mockserver.probe.shapes import DATETIME_OFFSET, walk_strings

PARIS = ZoneInfo("Europe/Paris")
RULES: list[Rule] = []
rule = registrar(RULES)


@rule("envelope.http_code", "http_code", "http_code is the HTTP status", kinds=ALL_KINDS)
def _http_code(facts: Facts) -> str | None:
    code = integer(facts.body, "http_code")
    return None if code == facts.status else f"http_code {code}, HTTP status {facts.status}"


@rule("envelope.success", "success", "success is true exactly when error_code is SUCCESS", kinds=ALL_KINDS)
def _success(facts: Facts) -> str | None:
    success, code = get(facts.body, "success"), get(facts.body, "error_code")
    if not isinstance(success, bool):
        raise NotApplicable
    return None if success == (code == "SUCCESS") else f"success {str(success).lower()} with error_code {code}"


@rule(
    "times.paris_offset",
    "(date-times)",
    "every date-time carries the Europe/Paris offset in force at its instant",
    sections.TIMES,
    kinds=ALL_KINDS,
)
def _paris_offset(facts: Facts) -> str | None:
    seen = False
    for where, text in walk_strings(facts.body):
        if not DATETIME_OFFSET.match(text):
            continue
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            continue
        seen = True
        paris = moment.astimezone(PARIS).strftime("%z")
        given = moment.strftime("%z")
        if given != paris:
            return f"{where} at {_offset(given)} where Europe/Paris is {_offset(paris)}"
    if not seen:
        raise NotApplicable
    return None


def _offset(compact: str) -> str:
    return f"{compact[:3]}:{compact[3:]}"


@rule(
    "health.timestamp",
    "data.timestamp",
    "data.timestamp is the Unix time of the envelope's timestamp (within 5 minutes)",
    kinds=("health",),
)
def _health_time(facts: Facts) -> str | None:
    epoch = integer(facts.body, "data.timestamp")
    try:
        stamp = datetime.fromisoformat(str(get(facts.body, "timestamp"))).timestamp()
    except ValueError:
        raise NotApplicable from None
    return None if abs(epoch - stamp) <= 300 else f"{epoch - stamp:+.0f} s from the envelope's timestamp"
