"""The parts of our reading of the documentation that a difference can touch.

Each constant is a link into docs/interpretation.md (or docs/formats.md for layouts), by the heading's
explicit ``{#id}`` or its GitHub anchor; tests/test_probe.py checks that every one still exists.
"""

from __future__ import annotations

INTERPRETATION = "docs/interpretation.md"
FORMATS = "docs/formats.md"

IDS = f"{INTERPRETATION}#ids"
TIMES = f"{INTERPRETATION}#times-and-time-zones"
LISTS = f"{INTERPRETATION}#lists-and-pagination"
VALIDATION = f"{INTERPRETATION}#validation"
AUTH = f"{INTERPRETATION}#authentication-and-debug-mode"
STATISTICS = f"{INTERPRETATION}#statistics"
BOOKING = f"{INTERPRETATION}#status-transitions"

NEGOTIATION = f"{FORMATS}#output-formats"
XML = f"{FORMATS}#xml"
CSV = f"{FORMATS}#csv"

ALL = (IDS, TIMES, LISTS, VALIDATION, AUTH, STATISTICS, BOOKING, NEGOTIATION, XML, CSV)

# A field that is one of our readings, wherever it appears: the last name of a body path -> its section.
_FIELDS = {
    "pagination": LISTS,
    "meta": LISTS,
    "total": LISTS,
    "page": LISTS,
    "per_page": LISTS,
    "total_pages": LISTS,
    "has_more": LISTS,
    "timezone": TIMES,
    "details": VALIDATION,
    "debug": AUTH,
}
# Fields whose meaning depends on the envelope: only an error's http_code and format are our additions.
_ERROR_FIELDS = {"http_code": VALIDATION, "format": VALIDATION}


def for_field(where: str, *, error: bool = False) -> str | None:
    """The section a body path belongs to by itself (``data[].timezone`` -> times), or None."""
    name = where.replace("[]", "").rsplit(".", 1)[-1]
    if error and name in _ERROR_FIELDS:
        return _ERROR_FIELDS[name]
    return _FIELDS.get(name)


def short(section: str | None) -> str:
    """``docs/interpretation.md#statistics`` -> ``interpretation.md#statistics`` for the table."""
    return section.removeprefix("docs/") if section else ""
