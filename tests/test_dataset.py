"""The generated dataset: its fingerprint, its determinism, and records that depend only on themselves."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date, timedelta

from mockserver import dataset
from mockserver.dataset import DatasetSpec, build

DEFAULT = DatasetSpec(seed=42, anchor=date(2025, 6, 7))
# Changes when the generated records change: a Faker release, a code change in dataset.py. If the
# change is intended, bump dataset.DATASET_VERSION and update this value.
FINGERPRINT = "cc28ffece209d8a4eb7d360d5b1e1ff5c72cfe295cb85ba159212b34dccff684"


def fingerprint(data: dataset.Dataset) -> str:
    doc = {
        name: [dataclasses.astuple(r) for r in getattr(data, name)]
        for name in ("calendars", "clients", "slots", "appointments")
    }
    return hashlib.sha256(json.dumps(doc, ensure_ascii=False).encode()).hexdigest()


def test_default_dataset_fingerprint_is_pinned():
    assert fingerprint(build(DEFAULT)) == FINGERPRINT


def test_same_spec_same_records_and_another_seed_other_records():
    assert fingerprint(build(DEFAULT)) == fingerprint(build(DEFAULT))
    other = build(dataclasses.replace(DEFAULT, seed=43))
    assert [c.lastname for c in other.clients[3:]] != [c.lastname for c in build(DEFAULT).clients[3:]]


def test_records_depend_on_their_own_identity_not_on_the_others():
    small, large = build(DEFAULT), build(dataclasses.replace(DEFAULT, scale=2))
    assert small.clients == large.clients[:50]
    assert small.calendars == large.calendars[:5]
    assert small.slots == large.slots[: len(small.slots)]
    assert small.appointments == large.appointments[: len(small.appointments)]
    # Moving the window by a day keeps the slots of the days both windows share.
    moved = build(dataclasses.replace(DEFAULT, anchor=DEFAULT.anchor + timedelta(days=1)))
    by_identity = {(s.calendar_id, s.start_ts): s.capacity for s in moved.slots}
    shared = [
        (s.calendar_id, s.start_ts, s.capacity) for s in small.slots if (s.calendar_id, s.start_ts) in by_identity
    ]
    assert len(shared) > 1000
    assert all(by_identity[(cid, start)] == capacity for cid, start, capacity in shared)


def test_shape_matches_the_documented_debug_dataset():
    data = build(DEFAULT)
    assert len(data.calendars) == 5 and len(data.clients) == 50
    assert [c.name for c in data.calendars[:2]] == ["Cabinet Principal", "Cabinet Secondaire"]
    assert [c.widget_id for c in data.calendars[:2]] == ["widget_123_abc", "widget_456_def"]
    assert sum(not c.is_active for c in data.calendars) == 1
    assert {a.status for a in data.appointments} == {"pending", "confirmed", "cancelled", "completed"}
    seats: dict[int, int] = {}
    for appointment in data.appointments:
        if appointment.status != "cancelled":
            seats[appointment.slot_id] = seats.get(appointment.slot_id, 0) + 1
    capacity = {s.slot_id: s.capacity for s in data.slots}
    assert all(taken <= capacity[slot_id] for slot_id, taken in seats.items())
    assert all(a.created_at <= a.updated_at or a.updated_at[:10] >= a.created_at[:10] for a in data.appointments)


def test_scale_multiplies_calendars_and_clients():
    data = build(dataclasses.replace(DEFAULT, scale=3))
    assert (len(data.calendars), len(data.clients)) == (15, 150)
    assert data.calendars[-1].calendar_id < 1000
    assert len({c.email for c in data.clients}) == 150


def test_templates_are_kept_on_disk_and_checked_before_use(tmp_path, monkeypatch):
    from mockserver.store import templates

    spec = dataclasses.replace(DEFAULT, seed=4242)
    built = templates.template_image(spec, tmp_path)
    files = list(tmp_path.glob("*.sqlite"))
    assert len(files) == 1 and files[0].read_bytes() == built
    monkeypatch.setattr(templates, "_IMAGES", templates.OrderedDict())
    monkeypatch.setattr(templates, "build", lambda _spec: (_ for _ in ()).throw(AssertionError("rebuilt")))
    assert templates.template_image(spec, tmp_path) == built  # loaded from disk, not generated
    files[0].write_bytes(b"garbage")
    monkeypatch.undo()
    monkeypatch.setattr(templates, "_IMAGES", templates.OrderedDict())
    assert templates.template_image(spec, tmp_path) == built  # a damaged file is rebuilt and replaced
    assert files[0].read_bytes() == built
