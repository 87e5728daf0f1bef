"""The success and error answers of a call: the envelope, in the call's format, with the debug block."""

from __future__ import annotations

import time
from typing import Any

from mockserver import debuginfo, envelope, render
from mockserver.answer import Answer
from mockserver.call.context import Call, current_call, current_or_none
from mockserver.clock import iso
from mockserver.errors import ApiError


def _debug(call: Call) -> dict[str, Any]:
    return debuginfo.block(call.method, call.path, call.started, call.queries, call.hint)


def ok(
    data: Any,
    message: str,
    *,
    item: str = "item",
    columns: tuple[str, ...] = (),
    page: tuple[int, int, int] | None = None,
    meta: dict[str, Any] | None = None,
) -> Answer:
    """The success envelope in the call's format; ``page`` is (total, page, per_page) for lists."""
    call = current_call()
    body = envelope.success(
        data,
        message,
        timestamp=call.timestamp(),
        fmt=call.fmt,
        pagination=envelope.pagination(*page) if page else None,
        meta=meta,
    )
    if call.debug:
        call.hint = call.hint or call.window_hint()
        body["debug"] = _debug(call)
    call.error_code = "SUCCESS"
    return render.respond(body, call.fmt, 200, item=item, columns=columns)


def fail(err: ApiError, data: Any = None) -> Answer:
    """The error envelope in the call's format (JSON when the format itself was the problem).

    The error's hint goes to the journal and the ``X-Mock-Hint`` header always, and into the ``debug`` block in
    debug mode or with ``X-Mock-Explain: true``; never into the documented envelope.
    """
    call = current_or_none()
    fmt = call.fmt if call else "json"
    timestamp = call.timestamp() if call else iso(time.time())
    body = envelope.error(err, timestamp=timestamp, fmt=fmt, data=data)
    if call is not None:
        call.error_code = err.code
        call.hint = err.hint or call.hint
        if call.shows_hints:
            block = _debug(call)
            if not call.debug:
                block = {"hint": block.get("hint")} if "hint" in block else {}
            if block:
                body["debug"] = block
    answer = render.respond(body, fmt, err.status)
    answer.headers += err.headers.items()
    return answer
