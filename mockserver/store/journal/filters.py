"""Which journal entries a read selects, as SQL over the entries table (every worker's file has the same table).

The filters and their syntax are the control API's (docs/control-api.md#journal); mockserver/control/
journal_args.py reads them from a query string. A body filter takes a JSON path in dot notation (``items.0.name``)
and a value: an exact JSON value (``1``, ``true``, ``"text"``, ``null``), or a text, which is a glob (``*`` any
run of characters, ``?`` one) over string values; a bare number or word is both (``75001`` matches ``75001``
and ``"75001"``). A header filter is a glob over the header's value, its name in any case.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import orjson

_STATUS_CLASSES = {"2xx": (200, 299), "3xx": (300, 399), "4xx": (400, 499), "5xx": (500, 599)}
#: A numeric segment is an array index, or an object's key: both are tried, up to this many numeric segments.
NUMERIC_SEGMENTS_TRIED = 3

BodyFilter = tuple[tuple[str, ...], str]  # (path segments, value as written)


@dataclass(frozen=True)
class Filters:
    method: str | None = None
    path: str | None = None
    tenant: str | None = None
    status_class: str | None = None
    error_code: str | None = None
    id: int | None = None
    #: True: only the calls that carried no valid credentials (no tenant); False: only the others.
    unauthenticated: bool | None = None
    body: tuple[BodyFilter, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()  # (name, value glob)

    def sql(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if self.method:
            clauses.append("method = ?")
            params.append(self.method.upper())
        if self.path:
            # GLOB: '*', '?' and '[...]' as in a shell pattern, case-sensitive like the paths themselves.
            clauses.append("(path GLOB ? OR rtrim(path, '/') GLOB ?)")
            params += [self.path, self.path]
        if self.tenant:
            clauses.append("tenant = ?")
            params.append(self.tenant)
        if self.status_class:
            low, high = _STATUS_CLASSES[self.status_class]
            clauses.append("status BETWEEN ? AND ?")
            params += [low, high]
        if self.error_code:
            clauses.append("error_code = ?")
            params.append(self.error_code.upper())
        if self.id is not None:
            clauses.append("id = ?")
            params.append(self.id)
        if self.unauthenticated is not None:
            clauses.append("tenant IS NULL" if self.unauthenticated else "tenant IS NOT NULL")
        for segments, value in self.body:
            clause, values = _body_clause(segments, value)
            clauses.append(clause)
            params += values
        for name, value in self.headers:
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(entries.headers) AS h WHERE lower(h.key) = ? AND h.value GLOB ?)"
            )
            params += [name.lower(), glob(value)]
        return " AND ".join(clauses) or "1", params


def glob(text: str) -> str:
    """SQLite's GLOB pattern for a glob of ``*`` and ``?`` only: a ``[`` is the character itself."""
    return text.replace("[", "[[]")


def _json_paths(segments: tuple[str, ...]) -> list[str]:
    """SQLite JSON paths for a dot path: each numeric segment as an index and as a key (the first few)."""
    choices = []
    numeric = 0
    for segment in segments:
        key = f'."{segment}"'
        if segment.isascii() and segment.isdigit() and numeric < NUMERIC_SEGMENTS_TRIED:
            numeric += 1
            choices.append((f"[{int(segment)}]", key))
        elif segment.isascii() and segment.isdigit():
            choices.append((f"[{int(segment)}]",))
        else:
            choices.append((key,))
    return ["$" + "".join(parts) for parts in itertools.product(*choices)]


def _body_clause(segments: tuple[str, ...], value: str) -> tuple[str, list[Any]]:
    """One body filter: any of the path's spellings holds a matching value. The body is read only when it is
    JSON (a body cut at the journal's limit, or not JSON at all, matches nothing)."""
    try:
        exact = orjson.loads(value)
        parsed = True
    except orjson.JSONDecodeError:
        exact, parsed = None, False
    tests, params = [], []
    for path in _json_paths(segments):
        if parsed and isinstance(exact, str):
            tests.append("(json_type(body, ?) = 'text' AND json_extract(body, ?) = ?)")
            params += [path, path, exact]
            continue  # a quoted string is that string exactly, not a glob
        tests.append("(json_type(body, ?) = 'text' AND json_extract(body, ?) GLOB ?)")
        params += [path, path, glob(value)]
        if not parsed:
            continue
        if exact is None or isinstance(exact, bool):
            tests.append("json_type(body, ?) = ?")
            params += [path, {None: "null", True: "true", False: "false"}[exact]]
        elif isinstance(exact, int | float):
            if isinstance(exact, int) and not -(2**63) <= exact < 2**63:
                exact = float(exact)  # past SQLite's integers: compared as the float it reads there too
            tests.append("(json_type(body, ?) IN ('integer', 'real') AND json_extract(body, ?) = ?)")
            params += [path, path, exact]
        else:  # an array or an object, compared as written (minified)
            tests.append("(json_type(body, ?) = ? AND json_extract(body, ?) = json(?))")
            params += [path, "array" if isinstance(exact, list) else "object", path, value]
    return f"(CASE WHEN json_valid(body) THEN ({' OR '.join(tests)}) ELSE 0 END)", params
