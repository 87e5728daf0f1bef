"""How a self-consistency rule is written: what it may look at, how it says "not applicable", how it is listed.

A rule is a function of ``Facts`` that returns None when it holds and a short text when it fails; it raises
``NotApplicable`` when it has nothing to check (``consistency`` says why that is not a failure). The readers
below raise it for the rule, so that a rule reads as its arithmetic. Each ``rules_*`` module lists its rules
with its own ``registrar``; ``consistency`` joins the lists in a fixed order, the order of the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from mockserver.probe.calls import Observation
from mockserver.probe.side import Side

#: Rates are rounded to 2 decimals; PHP and Python round halves differently, so allow half a cent.
ROUNDING = 0.0051
ALL_KINDS = ("info", "health", "list", "detail", "statistics", "error", "write")


class NotApplicable(Exception):
    """The rule has nothing to say about this answer."""


@dataclass(frozen=True)
class Facts:
    """What a rule may look at: one observation and the side it came from."""

    observation: Observation
    side: Side

    @property
    def body(self) -> Any:
        value = self.observation.json()
        if value is None:
            raise NotApplicable
        return value

    @property
    def status(self) -> int:
        assert self.observation.answer is not None
        return self.observation.answer.status

    @property
    def params(self) -> dict[str, str]:
        return self.observation.params

    def other(self, name: str) -> Any:
        """The JSON body of another call of the same side (NotApplicable when it has none)."""
        found = self.side.observations.get(name)
        value = found.json() if found is not None and found.answer is not None else None
        if value is None or found is None or found.answer is None or found.answer.status != 200:
            raise NotApplicable
        return value


Check = Callable[[Facts], str | None]


@dataclass(frozen=True)
class Rule:
    id: str
    where: str
    text: str
    section: str | None
    kinds: tuple[str, ...]
    calls: tuple[str, ...]
    fmt: str
    check: Check

    def applies(self, observation: Observation) -> bool:
        call = observation.call
        if observation.answer is None or call.fmt != self.fmt:
            return False
        return call.name in self.calls if self.calls else call.kind in self.kinds


def registrar(into: list[Rule]) -> Callable[..., Callable[[Check], Check]]:
    """The ``@rule(...)`` decorator of one module: it appends each rule to ``into``, in the order written."""

    def rule(
        rule_id: str,
        where: str,
        text: str,
        section: str | None = None,
        *,
        kinds: tuple[str, ...] = (),
        calls: tuple[str, ...] = (),
        fmt: str = "json",
    ) -> Callable[[Check], Check]:
        def register(check: Check) -> Check:
            into.append(Rule(rule_id, where, text, section, kinds, calls, fmt, check))
            return check

        return register

    return rule


# --- reading values ------------------------------------------------------------------------------


def get(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise NotApplicable
        value = value[part]
    return value


def integer(value: Any, path: str) -> int:
    found = get(value, path)
    if isinstance(found, bool) or not isinstance(found, int):
        raise NotApplicable
    return found


def number(value: Any, path: str) -> float:
    found = get(value, path)
    if isinstance(found, bool) or not isinstance(found, int | float):
        raise NotApplicable
    return float(found)


def records(value: Any, path: str) -> list[dict[str, Any]]:
    found = get(value, path)
    if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
        raise NotApplicable
    return found


def ints(items: Iterable[dict[str, Any]], key: str) -> list[int]:
    found = [item.get(key) for item in items]
    if any(isinstance(x, bool) or not isinstance(x, int) for x in found):
        raise NotApplicable
    return found  # type: ignore[return-value]


def day(text: Any) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise NotApplicable from None


def rounded(part: float, whole: float) -> float:
    return round(part / whole, 2) if whole else 0.0


def close(a: float, b: float) -> bool:
    return abs(a - b) <= ROUNDING
