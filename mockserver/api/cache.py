"""The answer cache: a read is rendered once and kept until the tenant's data or clock changes.

A cached answer is keyed by the request (path, query, format), the envelope's timestamp (to the second, so
anything that depends on the clock, slot availability or "today", is recomputed when the clock moves) and
the tenant database's version (``TenantConnection.version``: a commit by any thread or worker changes it).
It is one stage of the request pipeline (mockserver/pipeline.py), after every switch: a forced error, a rule
or a fault answers before the cache is asked, and ``tests/test_cache.py`` holds that each switch of
``pipeline.SWITCHES`` does. Debug-mode answers carry live measurements and are never kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.answer import Answer
from mockserver.call import Call
from mockserver.store.tenants import TenantConnection

LARGEST_BODY = 128 * 1024


@dataclass(frozen=True, slots=True)
class Kept:
    body: bytes
    headers: tuple[tuple[str, str], ...]
    hint: str | None


def _key(call: Call, conn: TenantConnection) -> tuple[str, str, str, int]:
    return (call.incoming.full_path, call.fmt, call.timestamp(), conn.version())


def _connection(call: Call) -> TenantConnection | None:
    if call.debug:
        return None
    conn = call.db()
    return conn if isinstance(conn, TenantConnection) else None


def lookup(call: Call) -> Answer | None:
    """The kept answer to this read, or None."""
    conn = _connection(call)
    if conn is None:
        return None
    call.cache_key = _key(call, conn)  # kept under the key it missed with: the clock may tick meanwhile
    kept = conn.answer(call.cache_key)
    if not isinstance(kept, Kept):
        return None
    call.error_code, call.hint = "SUCCESS", kept.hint
    return Answer(200, kept.body, list(kept.headers))


def keep(call: Call, answer: Answer) -> None:
    """Keep a successful answer of a cacheable read (not a stream, not too large)."""
    if answer.status != 200 or answer.streamed or len(answer.data) > LARGEST_BODY:
        return
    conn = _connection(call)
    if conn is not None and call.cache_key is not None:
        conn.keep_answer(call.cache_key, Kept(answer.data, tuple(answer.headers), call.hint))
