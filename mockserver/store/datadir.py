"""A kept data directory (``--data-dir``): one server at a time, and what a start finds in it checked first.

* **The lock.** ``claim`` takes an exclusive ``flock`` on ``server.lock`` in the directory and writes the
  holder's pid and port in it; the lock lives as long as the process's descriptor (and its forked workers'),
  so a server that died holds nothing. A second server on the directory gets ``DirectoryInUse`` naming the
  first. Only ``tap4book-mock serve`` claims: a temporary directory is private anyway.
* **Damaged files.** ``prepare`` checks every database of the directory before anything opens one (SQLite's
  ``quick_check`` and the tables each must hold). A damaged tenant database is moved aside as
  ``<name>.damaged-<UTC time>`` and the tenant is rebuilt from its seeded dataset on first use; a damaged
  journal file is moved aside. A damaged control file (which indexes the tenants: their datasets, seeds and
  settings) is moved aside too, with the tenant databases it indexed (``tenants.orphaned-<UTC time>``): every
  tenant starts again from its seeded data. Each is one warning line.
* **The seed.** A directory whose tenants were made with another seed than ``--seed`` is refused
  (``SeedMismatch``, a bad setting): serving them under another seed would be silently wrong, and rebuilding
  them would silently drop their bookings.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from mockserver.store.schema import STORED

LOCK_NAME = "server.lock"
CONTROL_NAME = "control.sqlite"
TENANTS_DIR = "tenants"
JOURNAL_DIR = "journal"
SQLITE_HEADER = b"SQLite format 3\x00"
#: The tables each kind of file must hold to be of use.
TENANT_TABLES = frozenset({"meta", *STORED})
CONTROL_TABLES = frozenset({"settings", "tenants"})
#: Descriptors of the locks this process holds: open until it exits (closing one would release its lock).
_HELD: list[int] = []


class DirectoryInUse(Exception):
    """Another live server holds the directory's lock."""


class SeedMismatch(ValueError):
    """The directory's data were made with another seed (a bad setting: exit status 2)."""


def claim(directory: str | Path, port: int) -> None:
    """Lock the directory for this process (and its forked workers) and say who holds it."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise DirectoryInUse(
            f"--data-dir {path} is in use by another tap4book-mock server ({holder}): stop it, or give this"
            " one another --data-dir"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "port": port}).encode() + b"\n", 0)
    _HELD.append(fd)


def _holder(fd: int) -> str:
    try:
        found = json.loads(os.pread(fd, 4096, 0))
        return f"pid {int(found['pid'])}, port {int(found['port'])}"
    except (OSError, ValueError, KeyError, TypeError):
        return "pid and port not written yet: it is starting"


def prepare(directory: Path, seed: int, warn: Callable[[str], None]) -> None:
    """Move damaged databases aside (one ``warn`` line each), then refuse data made with another seed."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    control = directory / CONTROL_NAME
    problem = _problem(control, CONTROL_TABLES) if control.exists() else None
    if problem is not None:
        moved = _quarantine(control, stamp)
        tenants = directory / TENANTS_DIR
        orphaned = ""
        if tenants.is_dir() and any(tenants.iterdir()):
            aside = tenants.rename(directory / f"{TENANTS_DIR}.orphaned-{stamp}")
            orphaned = f", and the tenant databases it indexed to {aside}"
        warn(
            f"{control} is damaged ({problem}): moved to {moved}{orphaned}; every tenant starts again from"
            " its seeded data (their bookings, seeds and settings are not carried over)"
        )
    for path in sorted((directory / TENANTS_DIR).glob("*.sqlite")):
        problem = _problem(path, TENANT_TABLES)
        if problem is not None:
            moved = _quarantine(path, stamp)
            warn(f"tenant database {path} is damaged ({problem}): moved to {moved}; rebuilt from its seeded dataset")
    for path in sorted((directory / JOURNAL_DIR).glob("*.sqlite")):
        # An empty journal file is one a writer made and has not written yet: a sound, empty database.
        problem = _problem(path, frozenset(), empty_ok=True)
        if problem is not None:
            moved = _quarantine(path, stamp)
            warn(f"journal file {path} is damaged ({problem}): moved to {moved}; its entries are not shown")
    _check_seed(control, seed, directory)


def _problem(path: Path, tables: frozenset[str], *, empty_ok: bool = False) -> str | None:
    """What is wrong with a database file, or None when it is sound and holds ``tables``."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        return exc.strerror or str(exc)
    if not head:
        return None if empty_ok else "an empty file"
    if head != SQLITE_HEADER:
        return "not an SQLite database"
    try:
        conn = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        verdict = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        if verdict != "ok":
            return f"quick_check: {verdict}"
        present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = sorted(tables - present)
        return f"no {missing[0]} table" if missing else None
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()


def _quarantine(path: Path, stamp: str) -> Path:
    """Move a database aside with its write-ahead log (a new file must not pick up the old log)."""
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while target.exists():  # damaged again within the second: keep both
        number += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    path.rename(target)
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        wal.rename(target.with_name(target.name + "-wal"))
    with contextlib.suppress(FileNotFoundError):
        path.with_name(path.name + "-shm").unlink()
    return target


def _check_seed(control: Path, seed: int, directory: Path) -> None:
    if not control.exists():
        return
    conn = sqlite3.connect(control, isolation_level=None)
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = 'seed'").fetchone()
        has_tenants = conn.execute("SELECT 1 FROM tenants LIMIT 1").fetchone() is not None
    except sqlite3.Error:
        return  # an older layout: nothing to compare
    finally:
        conn.close()
    if row is None or not has_tenants or str(row[0]) == str(seed):
        return
    raise SeedMismatch(
        f"--data-dir {directory} holds data made with seed {row[0]}, not --seed {seed}: start with --seed {row[0]}"
        f" to keep it, or with an empty or new --data-dir for seed {seed}"
    )
