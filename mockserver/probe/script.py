"""The fixed script of calls the probe sends to both sides.

Every call is read-only except those in ``WRITES`` (only with ``--allow-writes``). Ids are never written
here: each side learns its own (``discovery``), and a call whose id a side could not learn is skipped on
that side. Unknown ids (999999999) and malformed values are the safe way to trigger documented errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.probe import sections
from mockserver.probe.calls import Call
from mockserver.probe.discovery import (
    PAGE_SIZE,
    UNKNOWN_ID,
    learn_booking,
    learn_calendar,
    learn_first,
    learn_pages,
    learn_slots,
)
from mockserver.protocol import DEBUG_HEADER, DEBUG_PARAM, FORMAT_PARAM, TOKEN_PARAM

#: What a booking made by the probe is made of; one client at most, matched by e-mail on every run.
PROBE_CLIENT = {
    "client_firstname": "Probe",
    "client_lastname": "Tap4book-mock",
    "client_email": "tap4book-mock-probe@example.com",
    "client_phone": "+33123456789",
}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

_S = sections
_JSON = (("Accept", "application/json"),)
_INFO_VALUES = (
    "data.name",
    "data.version",
    "data.status",
    "data.debug_mode",
    "data.supported_formats",
    "data.endpoints",
)
_HEALTH_VALUES = ("data.status", "data.version", "data.debug_mode", "data.database")


def _list(name: str, path: str, *query: tuple[str, str], **options: Any) -> Call:
    options.setdefault("section", _S.LISTS)
    return Call(name, path, tuple(query), kind="list", **options)


def _stats(name: str, path: str, *query: tuple[str, str], **options: Any) -> Call:
    return Call(name, path, tuple(query), kind="statistics", section=_S.STATISTICS, values=("data.period",), **options)


def _error(name: str, path: str, *query: tuple[str, str], section: str | None = _S.VALIDATION, **options: Any) -> Call:
    return Call(name, path, tuple(query), kind="error", section=section, **options)


def _formats(call: Call, *formats: str) -> list[Call]:
    """The call as it is (JSON), then once per other format with ``format=``."""
    variants = [call]
    for fmt in formats:
        variants.append(
            Call(
                f"{call.name}.{fmt}",
                call.path,
                (*call.query, (FORMAT_PARAM, fmt)),
                kind=call.kind,
                auth=call.auth,
                section=call.section,
                values=call.values,
                scoped=call.scoped,
            )
        )
    return variants


_PERIODS = (
    ("today", ()),
    ("last7days", ()),
    ("last15days", ()),
    ("last30days", ()),
    ("specific_day", (("date", "{today}"),)),
    ("custom", (("start_date", "{month_start}"), ("end_date", "{today}"))),
)
_CALENDAR_PERIODS = ("today", "last7days", "last30days", "custom")

READS: tuple[Call, ...] = (
    # Information and health answer without a token (interpretation: authentication).
    *_formats(Call("info", "/", kind="info", auth="none", section=_S.AUTH, values=_INFO_VALUES), "xml"),
    Call("health", "/health", kind="health", auth="none", section=_S.AUTH, values=_HEALTH_VALUES),
    # Calendars.
    *_formats(_list("calendars.list", "/calendars", learn=learn_calendar, headers=_JSON), "xml", "csv"),
    *_formats(Call("calendars.detail", "/calendars/{calendar_id}"), "xml"),
    # Slots of the next two weeks.
    *_formats(
        _list(
            "slots.list",
            "/slots",
            ("calendar_id", "{calendar_id}"),
            ("date_from", "{today}"),
            ("date_to", "{fortnight_end}"),
            learn=learn_slots,
        ),
        "csv",
    ),
    Call("slots.detail", "/slots/{slot_id}"),
    # Appointments, filtered, detailed and calendar-scoped.
    *_formats(
        _list(
            "appointments.list",
            "/appointments",
            ("per_page", "20"),
            learn=learn_first("appointment_id", "appointment_id"),
        ),
        "xml",
        "csv",
    ),
    _list(
        "appointments.filtered",
        "/appointments",
        ("calendar_id", "{calendar_id}"),
        ("status", "confirmed"),
        ("per_page", "10"),
    ),
    _list(
        "appointments.range", "/appointments", ("date_from", "{today}"), ("date_to", "{week_end}"), ("per_page", "10")
    ),
    Call("appointments.detail", "/appointments/{appointment_id}", section=_S.IDS),
    _list("appointments.calendar", "/appointments/{calendar_id}", ("per_page", "10"), section=_S.IDS, scoped=True),
    # Pagination edges, on the appointments (the longest list).
    _list("pages.first", "/appointments", ("per_page", str(PAGE_SIZE)), learn=learn_pages),
    _list("pages.last", "/appointments", ("page", "{last_page}"), ("per_page", str(PAGE_SIZE))),
    _list("pages.past_end", "/appointments", ("page", "{past_page}"), ("per_page", str(PAGE_SIZE))),
    _list("pages.max", "/appointments", ("per_page", "1000")),
    _error("pages.over_max", "/appointments", ("per_page", "1001"), section=_S.LISTS),
    _error("pages.zero", "/appointments", ("page", "0"), section=_S.LISTS),
    # Clients.
    *_formats(
        _list("clients.list", "/clients", ("per_page", "20"), learn=learn_first("client_id", "client_id")), "csv"
    ),
    _list("clients.search", "/clients", ("search", "jean"), ("per_page", "10")),
    Call("clients.detail", "/clients/{client_id}", section=_S.IDS),
    _list("clients.calendar", "/clients/{calendar_id}", ("per_page", "10"), section=_S.IDS, scoped=True),
    # Statistics, every period.
    *(
        _stats(f"statistics.appointments.{period}", "/statistics/appointments", ("period", period), *extra)
        for period, extra in _PERIODS
    ),
    *_formats(
        _stats("statistics.appointments.last7days", "/statistics/appointments", ("period", "last7days")), "xml", "csv"
    )[1:],
    _stats(
        "statistics.appointments.calendar",
        "/statistics/appointments",
        ("period", "last7days"),
        ("calendar_id", "{calendar_id}"),
    ),
    *(
        _stats(
            f"statistics.calendar.{period}",
            "/statistics/{calendar_id}",
            ("period", period),
            *(dict(_PERIODS)[period]),
        )
        for period in _CALENDAR_PERIODS
    ),
    Call("statistics.calendars", "/statistics/calendars", kind="statistics", section=_S.STATISTICS),
    Call("statistics.clients", "/statistics/clients", kind="statistics", section=_S.STATISTICS),
    # Format negotiation by the Accept header.
    _list("accept.xml", "/calendars", headers=(("Accept", "application/xml"),), section=_S.NEGOTIATION),
    _list("accept.csv", "/calendars", headers=(("Accept", "text/csv"),), section=_S.NEGOTIATION),
    _list("accept.browser", "/calendars", headers=(("Accept", BROWSER_ACCEPT),), section=_S.NEGOTIATION),
    # Authentication and debug mode.
    _list("auth.param", "/calendars", (TOKEN_PARAM, "{token}"), ("per_page", "2"), auth="param", section=_S.AUTH),
    *_formats(_error("auth.missing", "/calendars", auth="none", section=_S.AUTH), "xml", "csv"),
    _error("auth.invalid", "/calendars", auth="bad", section=_S.AUTH),
    _list("debug.param", "/calendars", (DEBUG_PARAM, "true"), ("per_page", "2"), auth="none", section=_S.AUTH),
    Call(
        "debug.header",
        "/statistics/calendars",
        kind="statistics",
        auth="none",
        headers=((DEBUG_HEADER, "true"),),
        section=_S.AUTH,
    ),
    # Documented errors, triggered safely.
    _error("errors.bad_date", "/appointments", ("date_from", "{bad_day}")),
    _error("errors.date_format", "/appointments", ("date_from", "07/06/2025")),
    _error("errors.range_too_large", "/appointments", ("date_from", "{too_far}"), ("date_to", "{today}")),
    _error("errors.missing_calendar_id", "/slots", ("date_from", "{today}")),
    _error("errors.missing_period", "/statistics/appointments"),
    _error("errors.unknown_period", "/statistics/appointments", ("period", "yesterday")),
    _error("errors.custom_without_dates", "/statistics/appointments", ("period", "custom")),
    _error("errors.not_an_id", "/calendars/abc"),
    _error("errors.unknown_format", "/calendars", (FORMAT_PARAM, "yaml")),
    _error("errors.unknown_calendar", "/calendars/{unknown}", section=None),
    _error("errors.unknown_slot", "/slots/{unknown}", section=None),
    _error("errors.unknown_appointment", "/appointments/{unknown}", section=_S.IDS),
    _error("errors.unknown_client", "/clients/{unknown}", section=_S.IDS),
    *_formats(_error("errors.unknown_endpoint", "/does-not-exist"), "csv"),
)


def _booking(context: Mapping[str, str]) -> dict[str, Any]:
    return {
        "calendar_id": int(context["calendar_id"]),
        "slot_id": int(context["free_slot_id"]),
        **PROBE_CLIENT,
        "status": "pending",
    }


#: Only with --allow-writes, in this order: two refused bookings, one booking, its cancellation.
WRITES: tuple[Call, ...] = (
    Call(
        "writes.missing_field",
        "/appointment",
        method="POST",
        kind="error",
        body=lambda context: {"calendar_id": int(context["calendar_id"])},
        uses=("calendar_id",),
        section=_S.BOOKING,
    ),
    Call(
        "writes.unknown_slot",
        "/appointment",
        method="POST",
        kind="error",
        body=lambda context: {**_booking(context), "slot_id": int(UNKNOWN_ID)},
        uses=("calendar_id", "free_slot_id"),
        section=_S.BOOKING,
    ),
    Call(
        "writes.book",
        "/appointment",
        method="POST",
        kind="write",
        body=_booking,
        uses=("calendar_id", "free_slot_id"),
        learn=learn_booking,
        section=_S.BOOKING,
    ),
    Call(
        "writes.cancel",
        "/appointment/{booked_id}",
        method="PUT",
        kind="write",
        body=lambda context: {"status": "cancelled"},
        section=_S.BOOKING,
    ),
)
