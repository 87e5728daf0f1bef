"""The fictitious dataset, built from (seed, anchor date, scale): the only module that draws random values.

Each record draws from its own generator, seeded with the dataset seed and the record's identity (a
client's number, a calendar's number, a calendar-day), never from one long shared sequence: adding a
calendar or moving the window by a day leaves every other record as it was. Faker (fr_FR) gives the
names; its output for a seed may change between releases, which is why it is pinned and fingerprinted
(tests/test_dataset.py).

The shape follows the "Mode Debug" section of the API documentation: 5 calendars (the first two as in
its examples, one inactive, one in La Réunion's time zone to show the UTC conversion), 50 clients, slots
over the 30 days before and after the anchor date, and appointments in the four statuses over both.
``scale`` multiplies calendars and clients for load tests.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from mockserver.clock import PARIS, day_bounds, iso, local_to_epoch

#: Bump when a change to this module changes the generated records (it is part of the template key).
DATASET_VERSION = 1

WINDOW_DAYS = 30
FIRST_CLIENT_ID = 1001
FIRST_SLOT_ID = 10001
FIRST_APPOINTMENT_ID = 100001
EMAIL_DOMAINS = ("example.fr", "example.com", "example.net", "example.org")  # RFC 2606: never delivered

# (name, widget id, created at, updated at) of the two calendars shown in the API documentation.
DOCUMENTED_CALENDARS = (
    ("Cabinet Principal", "widget_123_abc", "2024-01-15T09:00:00", "2025-06-01T14:30:00"),
    ("Cabinet Secondaire", "widget_456_def", "2024-02-20T10:00:00", "2025-06-01T14:30:00"),
)
# The clients the documentation's examples name, so that its curl examples (search=jean, search=martin)
# find someone: (first name, last name, e-mail, phone).
DOCUMENTED_CLIENTS = (
    ("Jean", "Dupont", "jean.dupont@example.com", "+33123456789"),
    ("Marie", "Martin", "marie.martin@example.com", "+33612345678"),
    ("Pierre", "Dubois", "pierre.dubois@example.com", "+33698765432"),
)
NAME_PATTERNS = (
    "Cabinet du Dr {last}",
    "Centre Médical de {city}",
    "Cabinet de Kinésithérapie {last}",
    "Studio Yoga {city}",
    "Cabinet d'Ostéopathie {last}",
)


@dataclass(frozen=True)
class DatasetSpec:
    seed: int
    anchor: date
    scale: int = 1

    @property
    def key(self) -> str:
        return f"v{DATASET_VERSION}-s{self.seed}-a{self.anchor.isoformat()}-x{self.scale}"

    @classmethod
    def from_key(cls, key: str) -> DatasetSpec | None:
        """The spec a ``key`` was made from, or None for a key of another dataset version (or an import)."""
        match = _KEY.fullmatch(key)
        if match is None or int(match["version"]) != DATASET_VERSION:
            return None
        return cls(int(match["seed"]), date.fromisoformat(match["anchor"]), int(match["scale"]))


_KEY = re.compile(r"v(?P<version>\d+)-s(?P<seed>\d+)-a(?P<anchor>\d{4}-\d{2}-\d{2})-x(?P<scale>\d+)")


def window(anchor: date) -> tuple[date, date]:
    """The first and last day that have slots in a dataset anchored on ``anchor``."""
    return anchor - timedelta(days=WINDOW_DAYS), anchor + timedelta(days=WINDOW_DAYS)


@lru_cache(maxsize=256)
def window_of(key: str) -> tuple[date, date] | None:
    """The window of the dataset a key names (None for a key this version cannot read)."""
    spec = DatasetSpec.from_key(key)
    return window(spec.anchor) if spec else None


@dataclass(slots=True)
class Calendar:
    calendar_id: int
    name: str
    widget_id: str
    is_active: bool
    timezone: str
    created_at: str
    updated_at: str


@dataclass(slots=True)
class Client:
    client_id: int
    firstname: str
    lastname: str
    email: str
    phone: str
    created_at: str = ""
    updated_at: str = ""


@dataclass(slots=True)
class Slot:
    slot_id: int
    calendar_id: int
    start_ts: int
    end_ts: int
    capacity: int
    created_at: str


@dataclass(slots=True)
class Appointment:
    appointment_id: int
    slot_id: int
    client_id: int
    status: str
    created_at: str
    updated_at: str


@dataclass
class Dataset:
    spec: DatasetSpec
    calendars: list[Calendar] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    calendar_timezones: dict[int, str] = field(default_factory=dict)


def rng(seed: int, *identity: Any) -> random.Random:
    """A generator owned by one record: seeded with the dataset seed and the record's identity."""
    return random.Random("|".join(map(str, (seed, *identity))))


@lru_cache(maxsize=1)
def _faker() -> Any:
    # Only the two fr_FR providers we use: building a full Faker("fr_FR") loads every provider.
    from faker import Generator
    from faker.providers.address.fr_FR import Provider as AddressProvider
    from faker.providers.person.fr_FR import Provider as PersonProvider

    generator = Generator()
    generator.add_provider(PersonProvider(generator))
    generator.add_provider(AddressProvider(generator))
    return generator


def _fake(seed: int, *identity: Any) -> Any:
    fake = _faker()
    fake.seed_instance("|".join(map(str, (seed, *identity))))
    return fake


def ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum() or ch == "-").strip("-")


def build(spec: DatasetSpec) -> Dataset:
    data = Dataset(spec)
    anchor_start, _ = day_bounds(spec.anchor)
    for number in range(1, 5 * spec.scale + 1):
        data.calendars.append(_calendar(spec, number, anchor_start))
    data.calendar_timezones = {c.calendar_id: c.timezone for c in data.calendars}
    clients = [_client(spec, index) for index in range(50 * spec.scale)]
    _dedupe_emails(clients)
    for calendar in data.calendars:
        data.slots.extend(_slots(spec, calendar, FIRST_SLOT_ID + len(data.slots)))
    data.appointments = _appointments(spec, data, clients, anchor_start)
    _date_clients(spec, clients, data.appointments, anchor_start)
    data.clients = clients
    return data


def _calendar(spec: DatasetSpec, number: int, anchor_start: int) -> Calendar:
    draw = rng(spec.seed, "calendar", number)
    role = (number - 1) % 5
    tz = "Indian/Reunion" if role == 3 else "Europe/Paris"
    if number <= len(DOCUMENTED_CALENDARS):
        name, widget, created, updated = DOCUMENTED_CALENDARS[number - 1]
        created_at = iso(datetime.fromisoformat(created).replace(tzinfo=PARIS).timestamp())
        updated_ts = datetime.fromisoformat(updated).replace(tzinfo=PARIS).timestamp()
        updated_at = iso(min(updated_ts, anchor_start - 86400))
    else:
        fake = _fake(spec.seed, "calendar", number)
        name = draw.choice(NAME_PATTERNS).format(last=fake.last_name(), city=fake.city())
        widget = f"widget_{draw.randint(100, 999)}_{''.join(draw.choices('abcdefghijklmnopqrstuvwxyz', k=3))}"
        created_ts = anchor_start - draw.randint(200, 700) * 86400 + draw.randint(8, 18) * 3600
        created_at = iso(created_ts)
        updated_at = iso(min(created_ts + draw.randint(20, 180) * 86400, anchor_start - 86400))
    return Calendar(number, name, widget, role != 4, tz, created_at, updated_at)


@dataclass(frozen=True)
class _Hours:
    duration: int
    periods: tuple[tuple[int, int], ...]  # opening periods in minutes after midnight (lunch between)
    saturday: bool
    closed_afternoon: int  # weekday (0 = Monday) with no afternoon
    capacities: tuple[int, ...]


def _hours(spec: DatasetSpec, calendar: Calendar) -> _Hours:
    draw = rng(spec.seed, "hours", calendar.calendar_id)
    role = (calendar.calendar_id - 1) % 5
    duration = {0: 30, 1: 45, 2: draw.choice((60, 90)), 3: 30, 4: draw.choice((20, 30))}[role]
    morning = (draw.choice((480, 510, 540)), draw.choice((720, 750)))
    afternoon = (draw.choice((810, 840)), draw.choice((1020, 1080, 1110)))
    capacities = {0: (1,), 1: (1, 1, 1, 2), 2: (4, 6, 8), 3: (1,), 4: (1, 2)}[role]
    return _Hours(duration, (morning, afternoon), draw.random() < 0.5, draw.randrange(5), capacities)


def _slots(spec: DatasetSpec, calendar: Calendar, first_id: int) -> list[Slot]:
    hours = _hours(spec, calendar)
    last_offset = WINDOW_DAYS if calendar.is_active else -10  # an inactive calendar closed 10 days ago
    slots: list[Slot] = []
    for offset in range(-WINDOW_DAYS, last_offset + 1):
        day = spec.anchor + timedelta(days=offset)
        weekday = day.weekday()
        if weekday == 6 or (weekday == 5 and not hours.saturday):
            continue
        draw = rng(spec.seed, "day", calendar.calendar_id, day.isoformat())
        # Slots lie between 08:00 and 19:00, far from the night-time DST switch: one offset per day.
        midnight = local_to_epoch(day, (12, 0), calendar.timezone) - 12 * 3600
        # Published 45 days ahead at 10:00, as in the documentation's example slot.
        created_at = iso(local_to_epoch(day - timedelta(days=45), (10, 0), calendar.timezone))
        for index, (open_at, close_at) in enumerate(hours.periods):
            if index == 1 and weekday in (5, hours.closed_afternoon):
                continue
            for minute in range(open_at, close_at - hours.duration + 1, hours.duration):
                start = midnight + minute * 60
                capacity = hours.capacities[int(draw.random() * len(hours.capacities))]
                slots.append(
                    Slot(
                        first_id + len(slots),
                        calendar.calendar_id,
                        start,
                        start + hours.duration * 60,
                        capacity,
                        created_at,
                    )
                )
    return slots


def _client(spec: DatasetSpec, index: int) -> Client:
    if index < len(DOCUMENTED_CLIENTS):
        return Client(FIRST_CLIENT_ID + index, *DOCUMENTED_CLIENTS[index])
    fake = _fake(spec.seed, "client", index)
    draw = rng(spec.seed, "client", index)
    first, last = fake.first_name(), fake.last_name()
    email = f"{ascii_slug(first)}.{ascii_slug(last)}@{draw.choice(EMAIL_DOMAINS)}"
    prefix = draw.choice("6677123459")
    phone = "+33" + prefix + "".join(str(draw.randrange(10)) for _ in range(8))
    return Client(FIRST_CLIENT_ID + index, first, last, email, phone)


def _dedupe_emails(clients: list[Client]) -> None:
    seen: set[str] = set()
    for client in clients:
        if client.email in seen:
            local, domain = client.email.split("@")
            client.email = f"{local}{client.client_id}@{domain}"
        seen.add(client.email)


def has_history(seed: int, client_index: int) -> bool:
    """About one client in eight never booked: they exist for the 'clients without appointments' paths."""
    return client_index < len(DOCUMENTED_CLIENTS) or rng(seed, "history", client_index).random() >= 0.12


def _appointments(spec: DatasetSpec, data: Dataset, clients: list[Client], anchor_start: int) -> list[Appointment]:
    # Each block of 5 calendars has its own 50 clients (a practice and its patients), so that a larger
    # --scale adds blocks without changing who booked what in the first one.
    regulars = [
        [clients[i].client_id for i in range(block * 50, block * 50 + 50) if has_history(spec.seed, i)]
        for block in range(spec.scale)
    ]
    appointments: list[Appointment] = []
    day_seconds = 86400
    draw = random.Random()
    day_key = None
    for slot in data.slots:
        days = (slot.start_ts - anchor_start) // day_seconds
        if (slot.calendar_id, days) != day_key:
            # One generator per calendar-day: its bookings depend on nothing outside that day.
            day_key = (slot.calendar_id, days)
            draw = rng(spec.seed, "bookings", slot.calendar_id, days + spec.anchor.toordinal())
        past = days < 0
        # Near days are fuller than far ones; group sessions fill seat by seat, less often.
        fill = 0.3 if past else max(0.06, 0.45 - 0.013 * days)
        if slot.capacity > 1:
            fill *= 0.4
        random_ = draw.random
        statuses = [
            _past_status(random_()) if past else ("confirmed" if random_() < 0.65 else "pending")
            for _ in range(slot.capacity)
            if random_() < fill
        ]
        if random_() < 0.06:
            statuses.append("cancelled")
        for status in statuses:
            pool = regulars[(slot.calendar_id - 1) // 5]
            client_id = pool[int(len(pool) * random_() ** 1.2)]
            created = min(
                slot.start_ts - int(1 + random_() * 21) * day_seconds - int(random_() * 4 * 3600),
                anchor_start - 3600 - int(random_() * 47 * 3600),
            )
            updated = _updated(random_(), status, created, slot, anchor_start)
            appointments.append(
                Appointment(
                    FIRST_APPOINTMENT_ID + len(appointments),
                    slot.slot_id,
                    client_id,
                    status,
                    iso(created),
                    iso(updated),
                )
            )
    return appointments


def _past_status(roll: float) -> str:
    return "completed" if roll < 0.80 else "confirmed" if roll < 0.94 else "pending"


def _updated(roll: float, status: str, created: int, slot: Slot, anchor_start: int) -> int:
    if status == "pending":
        return created
    if status == "completed":
        return slot.end_ts + 3600
    changed = created + 600 + int(roll * 3 * 86400)
    return max(created, min(changed, slot.start_ts - 600, anchor_start - 600))


def _date_clients(spec: DatasetSpec, clients: list[Client], appointments: list[Appointment], anchor_start: int) -> None:
    """A client signs up before their first booking; clients who never booked signed up recently."""
    first_booking: dict[int, str] = {}
    for appointment in appointments:
        known = first_booking.get(appointment.client_id)
        if known is None or appointment.created_at < known:
            first_booking[appointment.client_id] = appointment.created_at
    for index, client in enumerate(clients):
        draw = rng(spec.seed, "signup", index)
        if client.client_id in first_booking:
            first = int(datetime.fromisoformat(first_booking[client.client_id]).timestamp())
            created = first - draw.randint(1, 120) * 86400 - draw.randint(0, 36000)
        else:
            created = anchor_start - draw.randint(1, 60) * 86400 + draw.randint(8, 19) * 3600
        updated = min(created + draw.randint(0, 90) * 86400, anchor_start - 3600)
        client.created_at, client.updated_at = iso(created), iso(max(created, updated))


def fill_plan(seed: int, free_seats: list[tuple[int, int]], client_ids: list[int]) -> list[tuple[int, int]]:
    """(slot_id, client_id) bookings that take every free seat: the 'fully-booked' scenario's data."""
    plan: list[tuple[int, int]] = []
    for slot_id, free in free_seats:
        draw = rng(seed, "fill", slot_id)
        plan.extend((slot_id, client_ids[draw.randrange(len(client_ids))]) for _ in range(free))
    return plan
