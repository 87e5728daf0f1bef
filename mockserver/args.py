"""How every plane reads a value from a request: one integer, one date and one boolean rule.

The API's parameters (api/params.py), the control API's (control/views/) and the ids in their paths all read
through these, so ``page=+1`` and ``limit=+1`` get the same answer (docs/interpretation.md#numbers-and-dates):

* an integer is ASCII digits, with a leading ``-`` allowed so that a negative value is told it is too small;
  no ``+``, no spaces, no other digits (``１``); at most 18 digits;
* a date is ``YYYY-MM-DD`` and a real calendar day;
* a boolean in a query is true/false/1/0/yes/no/on/off; in a JSON body, a JSON boolean.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from mockserver.errors import InvalidDateFormat, InvalidParameter

#: SQLite's largest integer: no id, seed, count or rule id can be larger.
SQLITE_MAX = 2**63 - 1
MAX_DIGITS = 18
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def integer(name: str, raw: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A whole number written in ASCII digits, within bounds, else INVALID_PARAMETER naming ``name``."""
    if not _INTEGER.fullmatch(raw):
        digits = raw.lstrip("-")
        if digits.isascii() and digits.isdigit():
            raise InvalidParameter(
                f"{name} is too large (at most {MAX_DIGITS} digits), got {raw!r}", details={"parameter": name}
            )
        raise InvalidParameter(
            f"{name} must be an integer written with the digits 0-9, got {raw!r}", details={"parameter": name}
        )
    value = int(raw)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise InvalidParameter(f"{name} must be {bounds}, got {value}", details={"parameter": name})
    return value


def day(name: str, raw: str) -> date:
    """A calendar day written YYYY-MM-DD, else INVALID_DATE_FORMAT with a hint at what was meant."""
    text = raw.strip()
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidDateFormat(
            f"{name} must be a date in YYYY-MM-DD format, got {raw!r}",
            details={"parameter": name},
            hint=_date_hint(name, text),
        ) from None


def _date_hint(name: str, text: str) -> str:
    """What is wrong with a date, in the words an integrator would use."""
    for pattern, order in (("%d/%m/%Y", "DD/MM/YYYY"), ("%d-%m-%Y", "DD-MM-YYYY"), ("%Y/%m/%d", "YYYY/MM/DD")):
        try:
            fixed = datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
        return f"{name} looks like {order}; the API takes YYYY-MM-DD: {name}={fixed}."
    if _DATE.fullmatch(text):
        return f"{text} has the right shape but is no calendar date (month 01-12, a day that exists in that month)."
    if "T" in text:
        return f"{name} is a day, not an instant: {name}={text.split('T')[0]}."
    return f"{name} takes a day written YYYY-MM-DD, such as 2025-06-15."


def boolean(name: str, value: Any, *, field: str = "parameter") -> bool:
    """A query's boolean (text), or a JSON body's (``field="field"``: a JSON boolean only)."""
    if isinstance(value, bool):
        return value
    if field == "parameter" and isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    allowed = "true or false" if field == "field" else "true/false, 1/0, yes/no or on/off"
    raise InvalidParameter(f"{name} must be {allowed}, got {value!r}", details={field: name})
