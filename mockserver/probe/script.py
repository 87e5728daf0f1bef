"""The fixed script of calls the probe sends to both sides, and the ids each side discovers.

Every call is read-only except those in ``WRITES`` (only with ``--allow-writes``). Ids are never written
here: each side learns its own from its lists (the first active calendar, the first slot, appointment
and client), and its own "today" from the envelope's timestamp; a call whose id a side could not learn
is skipped on that side, and the report says why. Unknown ids (999999999) and malformed values are the
safe way to trigger documented errors.
"""

from __future__ import annotations

import json
import string
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from mockserver.probe import sections
from mockserver.probe.fetch import Answer, Fetcher
from mockserver.probe.shapes import parse_json

TOKEN_HEADER = "Access-Token"
TOKEN_PARAM = "access_token"
#: 64 hex characters that are nobody's HMAC: the documented AUTH_INVALID.
BAD_TOKEN = "0" * 64
UNKNOWN_ID = "999999999"
#: What a booking made by the probe is made of; one client at most, matched by e-mail on every run.
PROBE_CLIENT = {
    "client_firstname": "Probe",
    "client_lastname": "Tap4book-mock",
    "client_email": "tap4book-mock-probe@example.com",
    "client_phone": "+33123456789",
}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
MASK = "***"

Learn = Callable[[Any, dict[str, str]], None]
Body = Callable[[Mapping[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """One request of the script. ``path`` and ``query`` values may name context values: ``{calendar_id}``."""

    name: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    kind: str = "detail"  # info, health, list, detail, statistics, error, write
    auth: str = "token"  # token (header), param (access_token=), none, bad
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "GET"
    body: Body | None = None
    section: str | None = None
    values: tuple[str, ...] = ()  # JSON paths whose values must be equal on both sides
    learn: Learn | None = None
    scoped: bool = False  # a calendar-scoped list: meta.calendar_id is the calendar of the path
    uses: tuple[str, ...] = ()  # context values the body needs

    @property
    def fmt(self) -> str:
        """The format asked for: the format parameter, else the Accept header, else JSON."""
        for key, value in self.query:
            if key == "format":
                return value
        accept = dict(self.headers).get("Accept", "")
        if accept.startswith("application/xml"):
            return "xml"
        if accept.startswith("text/csv"):
            return "csv"
        return "json"

    def needs(self) -> set[str]:
        texts = [self.path, *(value for _, value in self.query)]
        names = {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}
        names.update(self.uses)
        if self.auth == "param":
            names.discard("token")
        return names


@dataclass
class Observation:
    """What one side answered to one call (or why the call was not sent)."""

    call: Call
    shown: str = ""  # "GET /api/calendars?per_page=20", secrets masked
    path: str = ""  # the path sent, below the API root: "/calendars/1"
    params: dict[str, str] = field(default_factory=dict)
    answer: Answer | None = None
    skipped: str | None = None
    _parsed: Any = None
    _parsed_done: bool = False

    def json(self) -> Any:
        """The JSON body, or None when the answer is not JSON."""
        if not self._parsed_done:
            self._parsed_done = True
            if self.answer is not None and self.answer.media_type.endswith("json"):
                try:
                    self._parsed = parse_json(self.answer.body)
                except ValueError:
                    self._parsed = None
        return self._parsed


# --- discovery -----------------------------------------------------------------------------------


def _an_id(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.isdigit():
        return value
    return None


def _records(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _learn_first(key: str, field_name: str) -> Learn:
    def learn(body: Any, context: dict[str, str]) -> None:
        for record in _records(body):
            found = _an_id(record.get(field_name))
            if found:
                context[key] = found
                return

    return learn


def _learn_calendar(body: Any, context: dict[str, str]) -> None:
    records = _records(body)
    active = [r for r in records if r.get("is_active") is True] or records
    for record in active:
        found = _an_id(record.get("calendar_id"))
        if found:
            context["calendar_id"] = found
            return


def _learn_slots(body: Any, context: dict[str, str]) -> None:
    _learn_first("slot_id", "slot_id")(body, context)
    for record in _records(body):
        found = _an_id(record.get("slot_id"))
        if found and record.get("is_available") is True:
            context["free_slot_id"] = found
            context["free_slot_label"] = f"{record.get('date')} {record.get('start_time')}"
            return


PAGE_SIZE = 7


def _learn_pages(body: Any, context: dict[str, str]) -> None:
    pagination = body.get("pagination") if isinstance(body, dict) else None
    total = pagination.get("total") if isinstance(pagination, dict) else None
    if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        last = max(1, -(-total // PAGE_SIZE))
        context["last_page"] = str(last)
        context["past_page"] = str(last + 1)


def _learn_booking(body: Any, context: dict[str, str]) -> None:
    data = body.get("data") if isinstance(body, dict) else None
    appointment = data.get("appointment") if isinstance(data, dict) else None
    found = _an_id(appointment.get("appointment_id")) if isinstance(appointment, dict) else None
    if found:
        context["booked_id"] = found


#: Which call teaches which context value, for the reason a dependent call is skipped.
TAUGHT_BY = {
    "calendar_id": "calendars.list",
    "slot_id": "slots.list",
    "free_slot_id": "slots.list (a slot with is_available true)",
    "appointment_id": "appointments.list",
    "client_id": "clients.list",
    "last_page": "pages.first",
    "past_page": "pages.first",
    "booked_id": "writes.book",
}


def dates(today: date) -> dict[str, str]:
    """The context values a side derives from its own date."""
    return {
        "today": today.isoformat(),
        "week_end": (today + timedelta(days=6)).isoformat(),
        "fortnight_end": (today + timedelta(days=13)).isoformat(),
        "month_start": (today - timedelta(days=29)).isoformat(),
        "too_far": (today - timedelta(days=400)).isoformat(),
        "bad_day": f"{today.year}-02-30",
        "unknown": UNKNOWN_ID,
    }


# --- the script ----------------------------------------------------------------------------------

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
                (*call.query, ("format", fmt)),
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
    *_formats(_list("calendars.list", "/calendars", learn=_learn_calendar, headers=_JSON), "xml", "csv"),
    *_formats(Call("calendars.detail", "/calendars/{calendar_id}"), "xml"),
    # Slots of the next two weeks.
    *_formats(
        _list(
            "slots.list",
            "/slots",
            ("calendar_id", "{calendar_id}"),
            ("date_from", "{today}"),
            ("date_to", "{fortnight_end}"),
            learn=_learn_slots,
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
            learn=_learn_first("appointment_id", "appointment_id"),
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
    _list("pages.first", "/appointments", ("per_page", str(PAGE_SIZE)), learn=_learn_pages),
    _list("pages.last", "/appointments", ("page", "{last_page}"), ("per_page", str(PAGE_SIZE))),
    _list("pages.past_end", "/appointments", ("page", "{past_page}"), ("per_page", str(PAGE_SIZE))),
    _list("pages.max", "/appointments", ("per_page", "1000")),
    _error("pages.over_max", "/appointments", ("per_page", "1001"), section=_S.LISTS),
    _error("pages.zero", "/appointments", ("page", "0"), section=_S.LISTS),
    # Clients.
    *_formats(
        _list("clients.list", "/clients", ("per_page", "20"), learn=_learn_first("client_id", "client_id")), "csv"
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
    _list("auth.param", "/calendars", ("access_token", "{token}"), ("per_page", "2"), auth="param", section=_S.AUTH),
    *_formats(_error("auth.missing", "/calendars", auth="none", section=_S.AUTH), "xml", "csv"),
    _error("auth.invalid", "/calendars", auth="bad", section=_S.AUTH),
    _list("debug.param", "/calendars", ("debug", "true"), ("per_page", "2"), auth="none", section=_S.AUTH),
    Call(
        "debug.header",
        "/statistics/calendars",
        kind="statistics",
        auth="none",
        headers=(("X-Debug", "true"),),
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
    _error("errors.unknown_format", "/calendars", ("format", "yaml")),
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
        learn=_learn_booking,
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


# --- running it against one side -----------------------------------------------------------------


class Side:
    """One side of the comparison: its fetcher, its token, its context, and what it answered."""

    def __init__(self, label: str, fetcher: Fetcher, token: str, today: date) -> None:
        self.label = label
        self.fetcher = fetcher
        self.token = token
        self.today = today
        self.context: dict[str, str] = {**dates(today), "token": token}
        self.observations: dict[str, Observation] = {}

    def observe(self, call: Call, *, refuse: str | None = None) -> Observation:
        """Send one call (or record why not: ``refuse``, or a context value this side lacks)."""
        observation = Observation(call)
        self.observations[call.name] = observation
        missing = sorted(call.needs() - set(self.context))
        if refuse or missing:
            observation.skipped = refuse or "; ".join(
                f"no {{{name}}}: {TAUGHT_BY.get(name, 'an earlier call')} gave none on the {self.label}"
                for name in missing
            )
            return observation
        query = [(key, value.format_map(self.context)) for key, value in call.query]
        path = observation.path = call.path.format_map(self.context)
        headers = dict(call.headers)
        if call.auth == "token":
            headers[TOKEN_HEADER] = self.token
        elif call.auth == "bad":
            headers[TOKEN_HEADER] = BAD_TOKEN
        body = None
        if call.body is not None:
            body = _json_bytes(call.body(self.context))
            headers["Content-Type"] = "application/json"
        shown_query = [(key, MASK if key == TOKEN_PARAM else value) for key, value in query]
        observation.params = dict(shown_query)
        observation.shown = f"{call.method} {self.api_path(path)}" + (
            "?" + urllib.parse.urlencode(shown_query, safe="*/") if shown_query else ""
        )
        observation.answer = self.fetcher.request(call.method, path, query, headers, body)
        if call.learn is not None:
            body_value = observation.json()
            if body_value is not None:
                call.learn(body_value, self.context)
        return observation

    def api_path(self, path: str) -> str:
        return urllib.parse.urlsplit(self.fetcher.root).path + path


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
