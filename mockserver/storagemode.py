"""How the stores keep what each caller opens (SQLite connections, the caches hung on them), and how work done
outside a request (the journal's writer, a stream's poll) takes its turn beside the requests.

Two modes, chosen by whoever serves the app and handed down (``create_app`` -> ``Sandbox`` -> each store), so
that no store has to know how it is served:

* ``THREADS`` (the default: the Flask test client, the pytest plugin's server): requests run side by side on
  threads, so each thread keeps its own connections, and work outside a request just runs.
* a *serialized* mode (``tap4book-mock serve``, mockserver/server.py): the app runs one request at a time
  per process under the serving lock, so one set of connections per process serves them all (64 threads
  would otherwise keep 64 copies of every page cache), and work outside a request queues for that same
  lock (``turn``), never fighting the requests over the GIL.
"""

from __future__ import annotations

import contextlib
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any


@contextlib.contextmanager
def _no_turn() -> Iterator[None]:
    yield


class Local:
    """Storage of one caller: per thread, or per process when the requests take turns."""

    def __init__(self, per_process: bool) -> None:
        self._storage: Any = types.SimpleNamespace() if per_process else threading.local()

    def get(self) -> Any:
        return self._storage


@dataclass(frozen=True)
class StorageMode:
    #: One storage per process (the requests take turns) rather than one per thread.
    per_process: bool = False
    #: A context manager factory: the turn that work outside a request takes beside the requests.
    turn: Callable[[], AbstractContextManager[None]] = field(default=_no_turn)
    #: No other connection writes the databases: one storage per process and one process (a single worker;
    #: --data-dir is locked against a second server), so a connection's own commits are all its changes.
    sole_writer: bool = False

    def local(self) -> Local:
        return Local(self.per_process)


THREADS = StorageMode()
