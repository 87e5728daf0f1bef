"""Client reads: a filtered page of clients (all of them, or one calendar's), and one client."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Any

from mockserver.errors import ResourceNotFound
from mockserver.store.queries.calendars import calendar_row
from mockserver.store.queries.paging import one_page, where_clause
from mockserver.store.schema import fold, phone_key, search_indexed

CLIENT_FIELDS = (
    "client_id",
    "client_firstname",
    "client_lastname",
    "client_email",
    "client_phone",
    "created_at",
    "appointments_count",
    "last_appointment",
)


def _like(text: str) -> tuple[str, bool]:
    """A LIKE pattern matching ``text`` anywhere (folded), and whether it needed escapes."""
    folded = fold(text)
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%", escaped != folded


@dataclass(frozen=True)
class ClientFilter:
    search: str | None = None
    email: str | None = None
    phone: str | None = None
    created_from: date | None = None
    created_to: date | None = None

    def sql(self, alias: str = "c") -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.search:
            pattern, escaped = _like(self.search)
            like = "LIKE ? ESCAPE '\\'" if escaped else "LIKE ?"  # the trigram index cannot serve ESCAPE
            if search_indexed():
                clauses.append(f"{alias}.client_id IN (SELECT rowid FROM clients_search WHERE search_key {like})")
            else:
                clauses.append(f"{alias}.search_key {like}")
            params.append(pattern)
        if self.email is not None:
            clauses.append(f"{alias}.email_key = ?")
            params.append(self.email.strip().lower())
        if self.phone is not None:
            clauses.append(f"{alias}.phone_key = ?")
            params.append(phone_key(self.phone))
        if self.created_from is not None:
            clauses.append(f"{alias}.created_at >= ?")
            params.append(self.created_from.isoformat())
        if self.created_to is not None:
            # Every created_at of that Paris day sorts before "YYYY-MM-DDU" ("T" < "U"), including 9999-12-31.
            clauses.append(f"{alias}.created_at < ?")
            params.append(f"{self.created_to.isoformat()}U")
        return clauses, params


_CLIENT_COLUMNS = "c.client_id, c.firstname, c.lastname, c.email, c.phone, c.created_at, c.updated_at"


def _client(row: tuple[Any, ...], detail: bool) -> dict[str, Any]:
    cid, first, last, email, phone, created, updated, count, last_day = row
    record = {
        "client_id": cid,
        "client_firstname": first,
        "client_lastname": last,
        "client_email": email,
        "client_phone": phone,
        "created_at": created,
    }
    if detail:
        record["updated_at"] = updated
    record.update(appointments_count=count, last_appointment=last_day)
    return record


def list_clients(
    conn: sqlite3.Connection, where: ClientFilter, page: int, per_page: int, calendar_id: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """All clients, or (calendar_id) the clients with appointments there, counted in that calendar."""
    clauses, params = where.sql()
    if calendar_id is None:
        rows, total = one_page(
            conn,
            f"{_CLIENT_COLUMNS}, c.appointments_count, c.last_appointment",
            "clients c",
            where_clause(clauses),
            "c.client_id",
            params,
            page,
            per_page,
        )
    else:
        calendar_row(conn, calendar_id)
        scoped = (
            "(SELECT client_id, COUNT(*) AS n, MAX(local_date) AS last_day FROM appointments"
            " WHERE calendar_id = ? GROUP BY client_id) AS agg JOIN clients c ON c.client_id = agg.client_id"
        )
        rows, total = one_page(
            conn,
            f"{_CLIENT_COLUMNS}, agg.n, agg.last_day",
            scoped,
            where_clause(clauses),
            "c.client_id",
            [calendar_id, *params],
            page,
            per_page,
        )
    return [_client(row, detail=False) for row in rows], total


def get_client(conn: sqlite3.Connection, client_id: int) -> dict[str, Any]:
    row = conn.execute(
        f"SELECT {_CLIENT_COLUMNS}, c.appointments_count, c.last_appointment FROM clients c WHERE c.client_id = ?",
        (client_id,),
    ).fetchone()
    if row is None:
        raise ResourceNotFound(f"Client {client_id} not found")
    return _client(row, detail=True)
