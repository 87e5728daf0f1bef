"""The steps of tests/test_integrity.py: what each draws, and how a draw becomes a request.

Each rule of the machine takes one of these dataclasses, whose fields name their own strategies (hypothesis
prefers rules with fewer arguments, so one argument each keeps the rules on an equal footing; it then prefers
the first by name, ``book``). The choices aim at a few slots and appointments that the steps meet again and
again (full slots, cancelled appointments in full slots, returning clients), where integrity defects hide.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from hypothesis import strategies as st
from integrity_model import STATUSES, TenantModel, holds_place, iso

TENANTS = 3
HOUR, DAY = 3600, 86400
#: Where a freeze puts a tenant's clock, in hours from the server's: around the anchor, outside the data
#: (where the statistics' "last 30 / 90 days" reach other appointments), and before it.
FREEZE_HOURS = (-30, -2, 0, 1, 20, 70, 24 * 9, 24 * 35, 24 * 70, -24 * 45)
#: What an advance moves it by, as sent and in seconds.
ADVANCES: tuple[tuple[str | int, int], ...] = (
    ("90m", 90 * 60),
    ("1d", DAY),
    ("-PT3H", -3 * HOUR),
    (7200, 2 * HOUR),
    ("P1DT2H", DAY + 2 * HOUR),
)
FIRST_NAMES = ("Jean", "Élodie", "Zoë", "=Chloé", "Anne-Marie")
LAST_NAMES = ("Dupont", "Le Gall", 'Müller, "fils"', "+Martin", "d'Arc")
#: How a transferred dataset is edited before the import; "overfill" must be refused.
EDITS = ("as exported", "cancel", "drop", "capacity", "client", "overfill")
LISTS = ("appointments", "calendar appointments", "clients", "calendar clients", "slots")
TENANT = st.integers(0, TENANTS - 1)
#: An index into a short list of candidates (sampled_from draws them more evenly than integers does).
CANDIDATE = st.sampled_from(range(12))
#: Which kind of slot a booking or a move aims at, then which one of that kind (slot_for). The kind is
#: drawn on its own, not as an index into one list, so that every seed reaches full and past slots.
SLOT = st.tuples(st.sampled_from(("free", "free", "full", "past")), CANDIDATE)
#: A move aims at a free slot more often: most moves must succeed for the later steps to meet them.
MOVE = st.tuples(st.sampled_from(("free", "free", "free", "free", "full", "past")), CANDIDATE)


def _s(strategy: st.SearchStrategy[Any]) -> Any:
    return field(metadata={"s": strategy})


def draws(kind: type) -> st.SearchStrategy[Any]:
    """A step dataclass, each field drawn from the strategy it names."""
    return st.builds(kind, **{f.name: f.metadata["s"] for f in fields(kind)})


@dataclass(frozen=True)
class Booking:
    t: int = _s(TENANT)
    calendar_id: int = _s(st.integers(1, 5))
    #: Which of the calendar's slots (slot_for).
    slot: tuple[str, int] = _s(SLOT)
    #: Who books (person).
    who: int = _s(st.integers(0, 9))
    status: str | None = _s(st.sampled_from((None, *STATUSES)))
    #: One time in ten, a slot of another calendar.
    stray: bool = _s(st.sampled_from((False,) * 9 + (True,)))


@dataclass(frozen=True)
class Change:
    t: int = _s(TENANT)
    #: Which appointment (appointment_for).
    which: tuple[str, int] = _s(st.tuples(st.sampled_from(("mine", "mine", "blocked", "near", "last")), CANDIDATE))
    #: Confirming first (hypothesis's simplest): it takes a place back from a cancelled appointment.
    status: str | None = _s(st.sampled_from(("confirmed", None, "pending", "cancelled", "completed")))
    #: None: stay; else which of the calendar's slots (slot_for).
    move: tuple[str, int] | None = _s(st.none() | MOVE)
    #: One time in ten each, an id no appointment has, or a move to another calendar's slot.
    stray: str | None = _s(st.sampled_from((None,) * 8 + ("id", "calendar")))


@dataclass(frozen=True)
class ClockMove:
    t: int = _s(TENANT)
    kind: str = _s(st.sampled_from(("freeze", "advance")))
    #: A freeze's instant, in hours from the server's clock.
    hours: int = _s(st.sampled_from(FREEZE_HOURS))
    #: An advance's step (as sent, in seconds).
    by: tuple[str | int, int] = _s(st.sampled_from(ADVANCES))
    rebase: bool = _s(st.booleans())


@dataclass(frozen=True)
class Reset:
    t: int = _s(TENANT)
    keep_clock: bool = _s(st.booleans())


@dataclass(frozen=True)
class Transfer:
    source: int = _s(TENANT)
    into: int = _s(TENANT)
    edit: str = _s(st.sampled_from(EDITS))
    #: Which row the edit changes (modulo the table's length).
    pick: int = _s(st.integers(0, 10**6))


@dataclass(frozen=True)
class ListRead:
    t: int = _s(TENANT)
    kind: str = _s(st.sampled_from(LISTS))
    calendar_id: int = _s(st.integers(1, 5))
    statuses: frozenset[str] = _s(st.frozensets(st.sampled_from(STATUSES), max_size=2))
    #: None, or (first day, from the clock's, and how many days after it).
    days: tuple[int, int] | None = _s(st.none() | st.tuples(st.integers(-4, 3), st.integers(0, 5)))
    by_client: bool = _s(st.booleans())
    per_page: int = _s(st.sampled_from((1, 2, 5, 20, 50)))
    #: The first page, the second, the last, or the one after the last (empty).
    page: str = _s(st.sampled_from(("first", "second", "last", "after")))


# -- from a draw to a request ------------------------------------------------------------------------


def pick(candidates: list[int], index: int) -> int:
    return candidates[index % len(candidates)]


#: An id no slot has: what a booking gets when a calendar has no slot at all (after an edited import).
NO_SLOT = 9_999_999


def slot_for(model: TenantModel, calendar_id: int, choice: tuple[str, int]) -> int:
    """A slot of a calendar, of the kind chosen: "free" (one of the next with a place, then further, up to
    days ahead), "full" (one of its 3 next full ones) or "past" (one of its 3 last): a few slots that
    bookings and moves meet again and again. A kind the calendar has none of gives another kind; a calendar
    without slots, an id no slot has."""
    ordered = sorted((s["start_ts"], sid) for sid, s in model.slots.items() if s["calendar_id"] == calendar_id)
    booked = model.booked()
    ahead = [sid for start, sid in ordered if start > model.now]
    free = [sid for sid in ahead if booked[sid] < model.slots[sid]["capacity"]]
    kinds = {
        "free": [free[i] for i in (0, 1, 2, 8, 24, 60) if i < len(free)],
        "full": [sid for sid in ahead if booked[sid] >= model.slots[sid]["capacity"]][:3],
        "past": [sid for start, sid in ordered if start <= model.now][-3:],
    }
    kind, index = choice
    return pick(kinds[kind] or kinds["free"] + kinds["full"] + kinds["past"] or [NO_SLOT], index)


def appointment_for(model: TenantModel, choice: tuple[str, int]) -> int:
    """An appointment of the kind chosen: "mine" (one this run made or changed, the newest first), "blocked"
    (a cancelled one in a full slot: reviving it must find no room), "near" (one within two days of the
    clock) or "last" (a client's last one, ahead: moving it to a nearer slot changes the client's
    ``last_appointment``). A kind the tenant has none of gives another kind."""
    mine = sorted(model.seen["a"] & set(model.appointments), reverse=True)
    last: dict[int, str] = {}
    for a in model.appointments.values():
        last[a["client_id"]] = max(last.get(a["client_id"], ""), model.day_of(a))
    ahead_last = [
        (model.slots[a["slot_id"]]["start_ts"], aid)
        for aid, a in model.appointments.items()
        if model.day_of(a) == last[a["client_id"]] and model.slots[a["slot_id"]]["start_ts"] > model.now
    ]
    booked = model.booked()
    near = [
        aid
        for aid, a in sorted(model.appointments.items())
        if abs(model.slots[a["slot_id"]]["start_ts"] - model.now) <= 2 * DAY and aid not in mine
    ]
    kinds = {
        "mine": mine,
        "blocked": [
            aid
            for aid in near
            if model.appointments[aid]["status"] == "cancelled"
            and booked[model.appointments[aid]["slot_id"]]
            >= model.slots[model.appointments[aid]["slot_id"]]["capacity"]
        ],
        "near": near,
        "last": [aid for _, aid in sorted(ahead_last)],
    }
    kind, index = choice
    return pick(kinds[kind] or mine + near or sorted(model.appointments) or [100000], index)


def person(model: TenantModel, who: int) -> dict[str, str]:
    """0-5: one of three new clients (each e-mail twice, so that they come back, as repeat clients do);
    6-9: a client of the dataset, by e-mail (in upper case for odd numbers), under another name."""
    person = {
        "firstname": FIRST_NAMES[who % len(FIRST_NAMES)],
        "lastname": LAST_NAMES[(who // 2) % len(LAST_NAMES)],
        "email": f"integrite.{who % 3}@example.org",
        "phone": ("+33612345678", "06 12 34 56 78")[who % 2],
    }
    if who >= 6 and model.clients:
        email = model.clients[pick(sorted(model.clients), who * 13)]["email"]
        person["email"] = email.upper() if who % 2 else email
    return person


def edit_dataset(document: dict[str, Any], how: str, row: int, target: TenantModel) -> bool:
    """Edit an export before its import, marking what changed in the target's model; True if it must be refused."""
    tables = document["tables"]
    appointments, slots = tables["appointments"], tables["slots"]
    holding = [a for a in appointments if holds_place(a["status"])]
    if how == "cancel" and holding:
        chosen = holding[row % len(holding)]
        chosen["status"] = "cancelled"
        target.mark("a", chosen["appointment_id"])
        target.mark("s", chosen["slot_id"])
    elif how == "drop" and appointments:
        dropped = appointments.pop(row % len(appointments))
        target.mark("a", dropped["appointment_id"])
        target.mark("c", dropped["client_id"])
    elif how == "capacity" and slots:
        chosen = slots[row % len(slots)]
        chosen["capacity"] += 3
        target.mark("s", chosen["slot_id"])
    elif how == "client":
        client_id = max((c["client_id"] for c in tables["clients"]), default=1000) + 1
        stamp = iso(target.now)
        tables["clients"].append(
            {
                "client_id": client_id,
                "firstname": "Importé",
                "lastname": f"Nouveau {row % 100}",
                "email": f"import.{row % 100}@example.org",
                "phone": "+33700000000",
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
        target.mark("c", client_id)
    elif how == "overfill" and holding:
        slot_id = holding[row % len(holding)]["slot_id"]
        taken = sum(1 for a in holding if a["slot_id"] == slot_id)
        next(s for s in slots if s["slot_id"] == slot_id)["capacity"] = taken - 1
        return True
    return False
