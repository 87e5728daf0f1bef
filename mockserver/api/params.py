"""Query-string validation: every rule of the documentation's parameter tables, each with its error code.

Each function reads one parameter and either returns a clean value or raises the documented error with a
message naming the parameter and what it accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from mockserver import args as parse
from mockserver.errors import DateRangeTooLarge, InvalidParameter
from mockserver.statuses import STATUSES

MAX_RANGE_DAYS = 365
MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 50

PERIODS = ("today", "last7days", "last15days", "last30days", "specific_day", "custom")
PERIOD_DAYS = {"today": 1, "last7days": 7, "last15days": 15, "last30days": 30}


def integer(
    args: Mapping[str, str],
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    default: int | None = None,
) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    return parse_int(name, raw, minimum=minimum, maximum=maximum)


def parse_int(name: str, raw: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    return parse.integer(name, raw, minimum=minimum, maximum=maximum)


def identifier(name: str, raw: str) -> int:
    """An id from the URL: a positive integer, else INVALID_PARAMETER (not a 404: the URL is malformed)."""
    return parse_int(name, raw, minimum=1)


def paging(args: Mapping[str, str]) -> tuple[int, int]:
    page = integer(args, "page", minimum=1, default=1)
    per_page = integer(args, "per_page", minimum=1, maximum=MAX_PER_PAGE, default=DEFAULT_PER_PAGE)
    assert page is not None and per_page is not None
    return page, per_page


def day(args: Mapping[str, str], name: str, *, required: bool = False, why: str = "") -> date | None:
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        if required:
            raise InvalidParameter(f"{name} parameter is required{why}", details={"parameter": name})
        return None
    return parse_day(name, raw)


def parse_day(name: str, raw: str) -> date:
    return parse.day(name, raw)


def date_range(start: date | None, end: date | None, names: tuple[str, str]) -> None:
    """``start`` after ``end`` is INVALID_PARAMETER; more than 365 days apart is DATE_RANGE_TOO_LARGE."""
    if start is None or end is None:
        return
    if start > end:
        raise InvalidParameter(f"{names[0]} ({start}) is after {names[1]} ({end})")
    if (end - start).days > MAX_RANGE_DAYS:
        raise DateRangeTooLarge(
            f"Date range too large: {(end - start).days} days between {names[0]} and {names[1]} (max {MAX_RANGE_DAYS})",
            hint=f"Split the range: {names[0]}={start} to {names[1]}={start + timedelta(days=MAX_RANGE_DAYS)} first,"
            " then the rest (365 days at most per call).",
        )


def statuses(args: Mapping[str, str]) -> tuple[str, ...]:
    """``status``: one documented status, or several separated by commas."""
    raw = args.get("status")
    if raw is None or raw.strip() == "":
        return ()
    values = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    unknown = [value for value in values if value not in STATUSES]
    if unknown:
        raise InvalidParameter(
            f"Invalid status {unknown[0]!r}: use {', '.join(STATUSES)}",
            details={"parameter": "status", "allowed": list(STATUSES)},
        )
    return values


@dataclass(frozen=True)
class Period:
    name: str
    start: date
    end: date


def period(args: Mapping[str, str], today: date, allowed: tuple[str, ...] = PERIODS) -> Period:
    """The statistics period: ``lastNdays`` are the N days ending today, today included."""
    raw = args.get("period")
    if raw is None or raw.strip() == "":
        raise InvalidParameter(
            f"period parameter is required: {', '.join(allowed)}",
            details={"parameter": "period", "allowed": list(allowed)},
        )
    name = raw.strip().lower()
    if name not in allowed:
        raise InvalidParameter(
            f"Invalid period {raw!r}: use {', '.join(allowed)}",
            details={"parameter": "period", "allowed": list(allowed)},
        )
    if name in PERIOD_DAYS:
        return Period(name, today - timedelta(days=PERIOD_DAYS[name] - 1), today)
    if name == "specific_day":
        single = day(args, "date", required=True, why=" when period=specific_day")
        assert single is not None
        return Period(name, single, single)
    start = day(args, "start_date", required=True, why=" when period=custom")
    end = day(args, "end_date", required=True, why=" when period=custom")
    assert start is not None and end is not None
    date_range(start, end, ("start_date", "end_date"))
    return Period(name, start, end)


#: Calendar ids stay below this; client, slot and appointment ids start above it (see dataset.py).
CALENDAR_ID_LIMIT = 1000
SCOPES = ("calendar", "detail")


def scope(args: Mapping[str, str], number: int) -> str:
    """How to read ``/api/appointments/{n}`` and ``/api/clients/{n}``, which the documentation gives two meanings.

    ``scope=calendar`` or ``scope=detail`` decides; without it, a number below 1000 is a calendar id
    (calendar-scoped list) and any other number is an appointment or client id (detail).
    """
    raw = args.get("scope")
    if raw is None or raw.strip() == "":
        return "calendar" if number < CALENDAR_ID_LIMIT else "detail"
    value = raw.strip().lower()
    if value not in SCOPES:
        raise InvalidParameter(
            f"scope must be calendar or detail, got {raw!r}",
            details={"parameter": "scope", "allowed": list(SCOPES)},
        )
    return value
