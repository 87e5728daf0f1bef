"""The journal's table and its rows, by name: a row as the writer stores it and a row as the readers get it."""

from __future__ import annotations

from typing import Any, NamedTuple

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, tenant TEXT, method TEXT NOT NULL, path TEXT NOT NULL,
    query TEXT NOT NULL, headers TEXT NOT NULL, body TEXT, status INTEGER NOT NULL, error_code TEXT,
    rule_id INTEGER, duration_ms REAL NOT NULL, hint TEXT, fault TEXT, answer_type TEXT, answer_id INTEGER,
    size INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS answers (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
"""


#: The columns every entry has, written and read alike.
_COLUMNS: list[tuple[str, Any]] = [
    ("id", int),
    ("at", float),
    ("tenant", str | None),
    ("method", str),
    ("path", str),
    ("query", str),  # a JSON object
    ("headers", str),  # a JSON object
    ("body", str | None),
    ("status", int),
    ("error_code", str | None),
    ("rule_id", int | None),
    ("duration_ms", float),
    ("hint", str | None),
    ("fault", str | None),
    ("answer_type", str | None),
]
#: An entry as written: its answer is the id of a text stored once per file (answers repeat), and its size is
#: what it weighs against --journal-bytes.
Written = NamedTuple("Written", [*_COLUMNS, ("answer_id", int | None), ("size", int)])  # type: ignore[misc]
#: An entry as read back, with its answer's text.
Stored = NamedTuple("Stored", [*_COLUMNS, ("answer", str | None)])  # type: ignore[misc]

# OR IGNORE: a batch retried after a failed COMMIT whose rows reached the file after all must not fail forever.
INSERT = "INSERT OR IGNORE INTO entries ({}) VALUES ({})".format(
    ", ".join(Written._fields), ", ".join("?" * len(Written._fields))
)
INSERT_ANSWER = "INSERT OR IGNORE INTO answers (id, text) VALUES (?, ?)"
#: The columns of a Stored row, in order.
READ = ", ".join(Stored._fields[:-1]) + ", (SELECT text FROM answers WHERE answers.id = entries.answer_id)"
