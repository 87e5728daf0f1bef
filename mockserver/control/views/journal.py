"""The request journal: GET|DELETE /__mock/journal, /journal/count and /journal/stream (docs/control-api.md#journal)."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint

from mockserver import args
from mockserver.answer import Answer
from mockserver.call import current_call, ok
from mockserver.control import journal_args, stream
from mockserver.control.views import scope

bp = Blueprint("journal", __name__)

PAGE_LIMIT = 1000


def _filters() -> dict[str, Any]:
    return {**journal_args.parse(current_call().args), "tenant": scope.target()}


@bp.get("/journal")
def journal() -> Answer:
    """GET /__mock/journal?method=&path=&tenant=&status=&error_code=&limit=&before=: the newest matching API
    requests, oldest first (``before``: only entries older than that id, to page back)."""
    limit = scope.query_int("limit", 100, 1, PAGE_LIMIT)
    before = scope.query_int("before", 0, 0, 2**62) or None
    return ok(scope.sandbox().journal_entries(_filters(), limit=limit, before=before), "Journal")


@bp.get("/journal/stream")
def journal_stream() -> Answer:
    """GET /__mock/journal/stream: Server-Sent Events of new journal entries (the same filters as the journal);
    ``Last-Event-ID`` (or ``last_event_id``) resumes after an entry, ``since`` starts that many seconds back."""
    filters = _filters()
    since = scope.query_int("since", 0, 0, 86400)
    call = current_call()
    resume = call.incoming.headers.get("Last-Event-ID") or call.args.get("last_event_id")
    if resume is not None:
        after = args.integer("Last-Event-ID", resume, minimum=0, maximum=2**62)
    else:
        after = int((time.time() - since) * 1_000_000)
    return stream.answer(stream.follow(scope.sandbox().journal, filters, after))


@bp.get("/journal/count")
def journal_count() -> Answer:
    """GET /__mock/journal/count: how many journal entries match."""
    return ok({"count": scope.sandbox().journal_count(_filters())}, "Journal count")


@bp.delete("/journal")
def clear_journal() -> Answer:
    """DELETE /__mock/journal: forget the recorded requests (of one tenant when scoped)."""
    return ok({"removed": scope.sandbox().clear_journal(scope.target())}, "Journal cleared")
