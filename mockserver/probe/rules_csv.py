"""Rules of a CSV answer: the rows its ``X-Pagination-*`` headers promise, every row as wide as the header."""

from __future__ import annotations

from typing import Any

from mockserver.probe import sections
from mockserver.probe.rulebook import ALL_KINDS, Facts, NotApplicable, Rule, registrar
from mockserver.probe.shapes import csv_shape
from mockserver.protocol import PAGINATION_HEADERS

RULES: list[Rule] = []
rule = registrar(RULES)
#: The headers that promise a page: Total, Page, Per-Page (lower-cased, as ``fetch`` stores them).
_PROMISE = tuple(name.lower() for name in PAGINATION_HEADERS[:3])


def _csv(facts: Facts) -> Any:
    answer = facts.observation.answer
    if answer is None or "csv" not in answer.media_type:
        raise NotApplicable
    try:
        return csv_shape(answer.body)
    except ValueError:
        raise NotApplicable from None


@rule(
    "csv.rows",
    "(rows)",
    "a CSV page has the rows its X-Pagination-* headers promise",
    sections.CSV,
    kinds=("list",),
    fmt="csv",
)
def _csv_rows(facts: Facts) -> str | None:
    headers = facts.observation.answer.headers if facts.observation.answer else {}
    try:
        total, page, per_page = (int(headers[name]) for name in _PROMISE)
    except (KeyError, ValueError):
        raise NotApplicable from None
    shape = _csv(facts)
    expected = max(0, min(per_page, total - (page - 1) * per_page))
    return None if len(shape.rows) == expected else f"{len(shape.rows)} rows, the headers say {expected}"


@rule("csv.width", "(rows)", "every row has as many cells as the header", sections.CSV, kinds=ALL_KINDS, fmt="csv")
def _csv_width(facts: Facts) -> str | None:
    shape = _csv(facts)
    odd = sorted(width for width in shape.widths if width != len(shape.header))
    return None if not odd else f"rows of {odd[0]} cells under a header of {len(shape.header)}"
