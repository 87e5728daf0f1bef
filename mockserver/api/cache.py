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

from mockserver.call import current_call
from mockserver.store.tenants import TenantConnection

LARGEST_BODY = 128 * 1024

F = TypeVar("F", bound=Callable[..., Response])


def cached(view: F) -> F:
    @wraps(view)
    def answer(*args: Any, **kwargs: Any) -> Response:
        call = current_call()
        if call.debug:
            return view(*args, **kwargs)
        conn = call.db()
        if not isinstance(conn, TenantConnection):
            return view(*args, **kwargs)
        key = (request.full_path, call.fmt, call.timestamp(), conn.version())
        hit = conn.answer(key)
        if hit is not None:
            body, headers = hit
            call.error_code = "SUCCESS"
            return Response(body, status=200, headers=headers)
        response = view(*args, **kwargs)
        body = response.get_data()
        if response.status_code == 200 and len(body) <= LARGEST_BODY:
            conn.keep_answer(key, body, list(response.headers.items()))
        return response

    return answer  # type: ignore[return-value]
