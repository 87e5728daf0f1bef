"""A tenant's whole state as JSON, and back: fixtures for demos and for reproducing a bug report.

The export holds the stored columns of the four tables; derived columns (search keys, counters, local
slot times) are recomputed on import, so an edited export cannot contradict itself.

An import reads the document one record at a time (``_Reader``: the JSON decoder on one row, never on the
whole document) and inserts in batches, all in one transaction: the memory it takes is the body and a batch,
not a Python object per record (a 33 MB export used to peak at 600 MB). Every record is checked as it comes
(types, id ranges, text lengths, zones, statuses), references and capacities by SQL once all are in; any
refusal rolls everything back and names the table, the record and the field.
"""

from __future__ import annotations

import ctypes
import json
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from mockserver.clock import LATEST, zone
from mockserver.errors import InvalidJson, InvalidParameter
from mockserver.statuses import HOLDING, STATUSES
from mockserver.store.schema import (
    STORED,
    insert_appointments,
    insert_calendars,
    insert_clients,
    insert_slots,
    refresh_counters,
)
from mockserver.store.sqlite import transaction

FORMAT_VERSION = 1
TABLES = STORED
#: SQLite's integer range: a larger id cannot be stored.
MAX_INTEGER = 2**63 - 1
#: The API's text limit (a booking's names, e-mail, phone): longer text could never have come from it.
TEXT_LIMIT = 200
BATCH = 2000
#: The smallest id of each kind that the API can reach as a detail (docs/interpretation.md#ids): /api/clients/n
#: and /api/appointments/n read n < 1000 as a calendar id; calendars are the ids below 1000.
ID_RANGES = {
    "calendar_id": (1, 999),
    "client_id": (1000, MAX_INTEGER),
    "slot_id": (1, MAX_INTEGER),
    "appointment_id": (1000, MAX_INTEGER),
}
#: Each table's own id, and the tables whose records it refers to (loaded first).
KEYS = {"calendars": "calendar_id", "clients": "client_id", "slots": "slot_id", "appointments": "appointment_id"}
NEEDS = {"calendars": (), "clients": (), "slots": ("calendars",), "appointments": ("clients", "slots")}


def export(conn: sqlite3.Connection) -> dict[str, Any]:
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    tables = {
        table: [
            dict(zip(columns, row, strict=True))
            for row in conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1")
        ]
        for table, columns in TABLES.items()
    }
    for calendar in tables["calendars"]:
        calendar["is_active"] = bool(calendar["is_active"])
    return {"format_version": FORMAT_VERSION, "meta": meta, "tables": tables}


# -- reading the document ----------------------------------------------------------------------------

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _Reader:
    """Walks the outer levels of a JSON text (objects and arrays), decoding only the values asked for."""

    def __init__(self, text: str, position: int = 0) -> None:
        self.text = text
        self.position = position

    def _next(self) -> str:
        self.position = _SPACE.match(self.text, self.position).end()  # type: ignore[union-attr]
        return self.text[self.position : self.position + 1]

    def _expect(self, char: str, where: str) -> None:
        if self._next() != char:
            raise self.error(f"expected {char!r} {where}")
        self.position += 1

    def error(self, problem: str) -> InvalidJson:
        line = self.text.count("\n", 0, self.position) + 1
        return InvalidJson(
            f"Invalid JSON in the dataset: {problem} at character {self.position} (line {line})",
            details={"position": self.position, "line": line},
        )

    def value(self) -> Any:
        self._next()
        try:
            found, self.position = _DECODER.raw_decode(self.text, self.position)
        except json.JSONDecodeError as exc:
            self.position = exc.pos
            raise self.error(exc.msg) from None
        except (RecursionError, ValueError) as exc:  # nesting too deep, an integer of 4,300 digits or more
            raise self.error(str(exc) or "nested too deeply") from None
        return found

    def _items(self, opening: str, closing: str, where: str) -> Iterator[None]:
        """Stops at each item of an object or array; the caller reads the item before asking for the next."""
        self._expect(opening, where)
        if self._next() == closing:
            self.position += 1
            return
        while True:
            yield
            if self._next() == ",":
                self.position += 1
                continue
            self._expect(closing, where)
            return

    def members(self, where: str) -> Iterator[str]:
        """The keys of an object, in order; the caller reads (or skips) each value before the next key."""
        for _ in self._items("{", "}", where):
            key = self.value()
            if not isinstance(key, str):
                raise self.error(f"expected a key (a string) {where}")
            self._expect(":", f"after the key {key!r}")
            yield key

    def elements(self, where: str) -> Iterator[Any]:
        """The values of an array, decoded one at a time."""
        for _ in self._items("[", "]", where):
            yield self.value()

    def end(self) -> None:
        if self._next():
            raise self.error("text after the document")


# -- checking records ----------------------------------------------------------------------------------


def _field(table: str, number: int, record: Mapping[str, Any], column: str) -> str:
    key = KEYS[table]
    named = f" ({key} {record[key]})" if column != key and isinstance(record.get(key), int) else ""
    return f"dataset.tables.{table}[{number}]{named}.{column}"


def _row(table: str, number: int, record: Any) -> tuple[Any, ...]:
    """One record as a row of the stored columns, or INVALID_PARAMETER naming the record and the field."""
    columns = TABLES[table]
    if not isinstance(record, dict):
        raise InvalidParameter(f"dataset.tables.{table}[{number}]: a record is an object of {', '.join(columns)}")
    values = []
    for column in columns:
        if column not in record:
            raise InvalidParameter(
                f"{_field(table, number, record, column)}: missing (every record needs {', '.join(columns)})",
                details={"field": column},
            )
        value = record[column]
        problem = _problem(column, value)
        if problem:
            raise InvalidParameter(f"{_field(table, number, record, column)}: {problem}", details={"field": column})
        values.append(value)
    return tuple(values)


def _problem(column: str, value: Any) -> str | None:
    """What is wrong with a value of this column, or None."""
    if column == "is_active":
        return None if isinstance(value, bool | int) else f"expected a boolean, got {repr(value)[:80]}"
    if column in ID_RANGES or column in ("start_ts", "end_ts", "capacity"):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"expected an integer, got {repr(value)[:80]}"
        low, high = ID_RANGES.get(column, (0, MAX_INTEGER))
        if not low <= value <= high:
            reason = " (docs/interpretation.md#ids)" if column in ("client_id", "appointment_id", "calendar_id") else ""
            return f"must be from {low} to {high}{reason}, got {value}"
        return None
    if not isinstance(value, str):
        return f"expected a string, got {repr(value)[:80]}"
    if len(value) > TEXT_LIMIT:
        return f"at most {TEXT_LIMIT} characters, got {len(value)}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\\ud800": SQLite cannot store it
        return "Unicode text (no unpaired surrogates)"
    return None


def _calendar(number: int, row: tuple[Any, ...], zones: dict[int, str]) -> tuple[Any, ...]:
    try:
        zone(row[4])
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        raise InvalidParameter(
            f"dataset.tables.calendars[{number}] (calendar_id {row[0]}).timezone: unknown time zone {row[4]!r}",
            details={"field": "timezone"},
        ) from None
    zones[row[0]] = row[4]
    return row


def _slot(number: int, row: tuple[Any, ...], zones: dict[int, str]) -> tuple[Any, ...]:
    slot_id, calendar_id, start, end = row[:4]
    where = f"dataset.tables.slots[{number}] (slot_id {slot_id})"
    if calendar_id not in zones:
        raise InvalidParameter(f"{where}.calendar_id: unknown calendar {calendar_id}", details={"field": "calendar_id"})
    if not start <= end <= LATEST:
        raise InvalidParameter(
            f"{where}.end_ts: instants, start_ts first (up to {LATEST:.0f})", details={"field": "end_ts"}
        )
    return row


def _appointment(number: int, row: tuple[Any, ...], zones: dict[int, str]) -> tuple[Any, ...]:
    if row[3] not in STATUSES:
        raise InvalidParameter(
            f"dataset.tables.appointments[{number}] (appointment_id {row[0]}).status: one of {', '.join(STATUSES)},"
            f" got {row[3]!r}",
            details={"field": "status"},
        )
    return row


CHECKS: dict[str, Callable[[int, tuple[Any, ...], dict[int, str]], tuple[Any, ...]]] = {
    "calendars": _calendar,
    "clients": lambda number, row, zones: row,
    "slots": _slot,
    "appointments": _appointment,
}


# -- loading ---------------------------------------------------------------------------------------


def load(conn: sqlite3.Connection, document: bytes | Mapping[str, Any]) -> dict[str, int]:
    """Replace the tenant's data with an export (its JSON text, or the decoded value); INVALID_PARAMETER or
    INVALID_JSON, with nothing changed, if it does not fit."""
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"The dataset is not UTF-8 (byte {exc.start})") from None
    reader = _Reader(text)
    try:
        with transaction(conn):
            for table in ("appointments", "slots", "clients", "calendars"):
                conn.execute(f"DELETE FROM {table}")
            counts = _load_document(conn, reader)
            _check_capacities(conn)
            refresh_counters(conn)
    except (sqlite3.IntegrityError, sqlite3.InterfaceError, OverflowError) as exc:
        raise InvalidParameter(f"The dataset does not fit: {exc}") from None
    return counts


def _load_document(conn: sqlite3.Connection, reader: _Reader) -> dict[str, int]:
    version: Any = None
    counts: dict[str, int] | None = None
    for key in reader.members("at the start of the dataset (a JSON object)"):
        if key == "tables":
            if counts is not None:
                raise InvalidParameter("dataset: tables appears twice")
            counts = _load_tables(conn, reader)
        elif key == "format_version":
            version = reader.value()
            _check_version(version)
        else:
            reader.value()  # meta, tenant: recomputed or chosen by the call
    reader.end()
    _check_version(version)
    if counts is None:
        raise InvalidParameter("dataset.tables: missing (an object of calendars, clients, slots, appointments)")
    return counts


def _check_version(version: Any) -> None:
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise InvalidParameter(f"Not a dataset export (expected format_version {FORMAT_VERSION})")


def _load_tables(conn: sqlite3.Connection, reader: _Reader) -> dict[str, int]:
    """Each table in document order, once the tables it refers to are in; one that comes before them is
    skipped and read again afterwards (an export lists them in the right order)."""
    counts: dict[str, int] = {}
    waiting: dict[str, int] = {}
    zones: dict[int, str] = {}
    for table in reader.members("for dataset.tables"):
        if table not in TABLES:
            reader.value()
            continue
        if table in counts or table in waiting:
            raise InvalidParameter(f"dataset.tables: {table} appears twice")
        if any(needed not in counts for needed in NEEDS[table]):
            waiting[table] = reader.position
            for _ in reader.elements(f"for dataset.tables.{table} (an array)"):
                pass
            continue
        counts[table] = _load_table(conn, reader, table, zones)
        counts.update(_load_waiting(conn, reader.text, waiting, counts, zones))
    missing = [table for table in TABLES if table not in counts]
    if missing:
        raise InvalidParameter(f"dataset.tables.{missing[0]}: missing (an array of records)")
    return {table: counts[table] for table in TABLES}


def _load_waiting(
    conn: sqlite3.Connection, text: str, waiting: dict[str, int], counts: dict[str, int], zones: dict[int, str]
) -> dict[str, int]:
    loaded: dict[str, int] = {}
    ready = [table for table in waiting if all(n in counts or n in loaded for n in NEEDS[table])]
    while ready:
        table = ready[0]
        loaded[table] = _load_table(conn, _Reader(text, waiting.pop(table)), table, zones)
        ready = [table for table in waiting if all(n in counts or n in loaded for n in NEEDS[table])]
    return loaded


def _load_table(conn: sqlite3.Connection, reader: _Reader, table: str, zones: dict[int, str]) -> int:
    check = CHECKS[table]
    batch: list[tuple[Any, ...]] = []
    count = 0
    for number, record in enumerate(reader.elements(f"for dataset.tables.{table} (an array)")):
        batch.append(check(number, _row(table, number, record), zones))
        if len(batch) == BATCH:
            _insert(conn, table, batch, count, zones)
            count += len(batch)
            batch = []
    _insert(conn, table, batch, count, zones)
    return count + len(batch)


def _insert(
    conn: sqlite3.Connection, table: str, batch: list[tuple[Any, ...]], first: int, zones: dict[int, str]
) -> None:
    if not batch:
        return
    try:
        if table == "calendars":
            insert_calendars(conn, batch)
        elif table == "clients":
            insert_clients(conn, batch)
        elif table == "slots":
            insert_slots(conn, batch, zones)
        elif insert_appointments(conn, batch) != len(batch):  # one whose slot or client is not in the document
            _name_orphan(conn, batch, first)
    except sqlite3.IntegrityError:
        raise InvalidParameter(
            f"dataset.tables.{table}: two records have the same {KEYS[table]}", details={"field": KEYS[table]}
        ) from None


def _name_orphan(conn: sqlite3.Connection, batch: list[tuple[Any, ...]], first: int) -> None:
    for offset, (appointment_id, slot_id, client_id, *_) in enumerate(batch):
        if conn.execute("SELECT 1 FROM appointments WHERE appointment_id = ?", (appointment_id,)).fetchone():
            continue
        known_slot = conn.execute("SELECT 1 FROM slots WHERE slot_id = ?", (slot_id,)).fetchone()
        field, value = ("client_id", client_id) if known_slot else ("slot_id", slot_id)
        raise InvalidParameter(
            f"dataset.tables.appointments[{first + offset}] (appointment_id {appointment_id}).{field}:"
            f" no {field.removesuffix('_id')} {value} in the dataset",
            details={"field": field},
        )


def _check_capacities(conn: sqlite3.Connection) -> None:
    holding = ", ".join(f"'{status}'" for status in sorted(HOLDING))
    row = conn.execute(
        "SELECT a.slot_id, COUNT(*), s.capacity FROM appointments a JOIN slots s ON s.slot_id = a.slot_id"
        f" WHERE a.status IN ({holding}) GROUP BY a.slot_id, s.capacity HAVING COUNT(*) > s.capacity"
        " ORDER BY a.slot_id LIMIT 1"
    ).fetchone()
    if row is not None:
        raise InvalidParameter(
            f"Slot {row[0]} would hold {row[1]} appointments for {row[2]} place(s): cancel some in the document,"
            " or raise the slot's capacity"
        )


def give_back_memory() -> None:
    """After a big import, once its body is released: glibc keeps freed heap memory mapped unless asked to trim
    it (a 36 MB import left RSS +90 MB without this, +6 MB with it; bench/dataset_import.py)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to ask
        return
    trim(0)
