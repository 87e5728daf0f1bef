"""Pagination shared by the list queries: one page and its total under the same filter, in the database."""

from __future__ import annotations

import sqlite3
from functools import lru_cache
from typing import Any

from mockserver.store.tenants import TenantConnection


def one_page(
    conn: sqlite3.Connection,
    columns: str,
    source: str,
    where: str,
    order: str,
    params: list[Any],
    page: int,
    per_page: int,
    count_source: str | None = None,
    json_fields: tuple[str, ...] | None = None,
) -> tuple[Any, int]:
    """One page of rows and the total, both under the same WHERE (``count_source`` may skip joins).

    With ``json_fields``, the page is instead the JSON array the API sends, each row an object of those fields,
    assembled by SQLite: the rows never become Python objects (for a 50-item page, most of what a request that
    misses the answer cache costs). ``columns`` is then a plain comma-separated list, one per field; SQLite
    writes the bytes orjson would for the texts and integers of these tables (tests/test_formats.py compares
    them)."""
    total = count_rows(conn, f"SELECT COUNT(*) FROM {count_source or source} {where}", params)
    bounds = [*params, per_page, rows_skipped(page, per_page)]
    if json_fields is not None:
        return conn.execute(_json_sql(json_fields, columns, source, where, order), bounds).fetchone()[0], total
    rows = conn.execute(f"SELECT {columns} FROM {source} {where} ORDER BY {order} LIMIT ? OFFSET ?", bounds)
    return rows.fetchall(), total


@lru_cache(maxsize=256)  # one per list and combination of filters
def _json_sql(fields: tuple[str, ...], columns: str, source: str, where: str, order: str) -> str:
    named = ", ".join(f"{column.strip()} AS c{i}" for i, column in enumerate(columns.split(",")))
    pairs = ", ".join(f"'{field}', c{i}" for i, field in enumerate(fields))
    return (
        f"SELECT json_group_array(json_object({pairs})) FROM"
        f" (SELECT {named} FROM {source} {where} ORDER BY {order} LIMIT ? OFFSET ?)"
    )


def count_rows(conn: sqlite3.Connection, sql: str, params: list[Any]) -> int:
    """A list's total; a tenant connection remembers it until the data changes."""
    if isinstance(conn, TenantConnection):
        return conn.count(sql, params)
    return int(conn.execute(sql, params).fetchone()[0])


def rows_skipped(page: int, per_page: int) -> int:
    """Rows to skip; a page far past the end must not overflow SQLite's 64-bit integers (it is just empty)."""
    return min((page - 1) * per_page, 2**62)


def where_clause(clauses: list[str]) -> str:
    return ("WHERE " + " AND ".join(clauses)) if clauses else ""
