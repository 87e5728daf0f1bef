"""Answers to GET requests, kept until the tenant's data changes: a read is serialised once, not per request.

A cached answer is keyed by the request (path, query, format), the envelope's timestamp (to the second, so
anything that depends on the clock, slot availability or "today", is recomputed when the clock moves) and
the tenant database's version (``TenantConnection.version``: a commit by any thread or worker changes it).
Debug-mode answers carry live measurements and are never cached. Each connection holds its own few entries.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, request

from mockserver.api.call import current_call

ENTRIES = 32
LARGEST_BODY = 128 * 1024

F = TypeVar("F", bound=Callable[..., Response])


def cached(view: F) -> F:
    @wraps(view)
    def answer(*args: Any, **kwargs: Any) -> Response:
        call = current_call()
        if call.debug:
            return view(*args, **kwargs)
        conn = call.db()
        entries = getattr(conn, "responses", None)
        if entries is None:
            return view(*args, **kwargs)
        key = (request.full_path, call.fmt, call.timestamp(), conn.version())
        hit = entries.get(key)
        if hit is not None:
            entries.move_to_end(key)
            body, headers = hit
            call.error_code = "SUCCESS"
            return Response(body, status=200, headers=headers)
        response = view(*args, **kwargs)
        body = response.get_data()
        if response.status_code == 200 and len(body) <= LARGEST_BODY:
            entries[key] = (body, list(response.headers.items()))
            if len(entries) > ENTRIES:
                entries.popitem(last=False)
        return response

    return answer  # type: ignore[return-value]
