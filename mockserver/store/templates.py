"""Template databases: one generated dataset (seed, anchor date, scale) as a ready SQLite image.

An image is built once per process and kept in memory; it is also kept on disk (the cache directory,
``--cache-dir``), so that a later start with the same dataset loads it instead of importing Faker and
generating again: that is most of a cold start. The disk key covers everything that shapes the records:
the dataset spec, the source of the dataset and schema modules, and the installed Faker release.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sqlite3
import threading
from collections import OrderedDict
from functools import cache
from pathlib import Path

from mockserver import dataset
from mockserver.dataset import DatasetSpec, build
from mockserver.store import schema

_IMAGES: OrderedDict[str, bytes] = OrderedDict()
_IMAGES_LOCK = threading.Lock()
IMAGES_KEPT = 8
SQLITE_HEADER = b"SQLite format 3\x00"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tap4book-mock"


@cache
def _code_fingerprint() -> str:
    """Changes with the code that generates records and with the Faker release that names them."""
    digest = hashlib.sha256()
    for module in (dataset, schema):
        digest.update(Path(module.__file__ or "").read_bytes())
    faker = importlib.util.find_spec("faker")  # locates Faker without importing it
    if faker and faker.origin:
        site = Path(faker.origin).parent.parent
        digest.update(" ".join(sorted(p.name for p in site.glob("[Ff]aker-*.dist-info"))).encode())
    return digest.hexdigest()[:16]


def _disk_path(spec: DatasetSpec, cache_dir: Path) -> Path:
    return cache_dir / f"{spec.key}-{_code_fingerprint()}.sqlite"


def _load(spec: DatasetSpec, cache_dir: Path) -> bytes | None:
    path = _disk_path(spec, cache_dir)
    try:
        data = path.read_bytes()
        os.utime(path)  # most recently used: the last to be pruned
    except OSError:
        return None
    if not data.startswith(SQLITE_HEADER):
        return None
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(data)
        row = conn.execute("SELECT value FROM meta WHERE key = 'dataset'").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return data if row and row[0] == spec.key else None


def _save(spec: DatasetSpec, cache_dir: Path, data: bytes, keep: int) -> None:
    """Best effort: a read-only or full disk (or a cache path that is a file) only costs the next start a
    rebuild. The directory keeps the ``keep`` most recently used datasets (docs/limits.md)."""
    target = _disk_path(spec, cache_dir)
    scratch = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        scratch.write_bytes(data)
        os.replace(scratch, target)
        _prune(cache_dir, keep)
    except OSError:
        with contextlib.suppress(OSError):
            scratch.unlink(missing_ok=True)


def _prune(cache_dir: Path, keep: int) -> None:
    """Drop all but the ``keep`` most recently used images (a load touches its file)."""
    images = []
    for path in cache_dir.glob("v*-s*-a*-x*-*.sqlite"):
        with contextlib.suppress(OSError):
            images.append((path.stat().st_mtime, path))
    for _, path in sorted(images, reverse=True)[keep:]:
        with contextlib.suppress(OSError):
            path.unlink()


def template_image(spec: DatasetSpec, cache_dir: Path | None = None, keep: int = 8) -> bytes:
    """The database file image of a dataset (immutable bytes, so forked workers may share it)."""
    with _IMAGES_LOCK:
        data = _IMAGES.get(spec.key)
        if data is None:
            data = _load(spec, cache_dir) if cache_dir else None
            if data is None:
                conn = sqlite3.connect(":memory:", isolation_level=None)
                schema.create(conn, build(spec))
                data = conn.serialize()
                conn.close()
                if cache_dir:
                    _save(spec, cache_dir, data, keep)
            _IMAGES[spec.key] = data
            if len(_IMAGES) > IMAGES_KEPT:  # a long session of seed changes must not grow forever
                _IMAGES.popitem(last=False)
        else:
            _IMAGES.move_to_end(spec.key)
        return data


class Templates:
    """Template databases by dataset key, opened from the images on first use.

    The in-memory databases opened from the images are per process, since an SQLite connection must not
    cross a fork.
    """

    def __init__(self, cache_dir: Path | None = None, keep: int = 8) -> None:
        self.cache_dir = cache_dir
        self.keep = keep
        self._lock = threading.Lock()
        self._databases: OrderedDict[str, sqlite3.Connection] = OrderedDict()
        self._pid = os.getpid()

    def image(self, spec: DatasetSpec) -> bytes:
        return template_image(spec, self.cache_dir, self.keep)

    def copy_into(self, spec: DatasetSpec, target: sqlite3.Connection) -> None:
        data = self.image(spec)
        with self._lock:
            if self._pid != os.getpid():
                self._databases, self._pid = OrderedDict(), os.getpid()
            source = self._databases.get(spec.key)
            if source is None:
                source = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
                source.deserialize(data)
                self._databases[spec.key] = source
                if len(self._databases) > IMAGES_KEPT:
                    self._databases.popitem(last=False)[1].close()
            source.backup(target)
