"""POST /__mock/reset: restore the seeded dataset (docs/control-api.md#reset)."""

from __future__ import annotations

import time

from flask import Blueprint

from mockserver.answer import Answer
from mockserver.args import SQLITE_MAX
from mockserver.call import ok
from mockserver.control.views import scope
from mockserver.errors import InvalidParameter

bp = Blueprint("reset", __name__)


@bp.post("/reset")
def reset() -> Answer:
    """POST /__mock/reset: restore the seeded dataset; clears rules and journal unless kept; keeps the clock
    unless ``keep_clock`` is false."""
    started = time.perf_counter()
    fields = scope.body(("tenant", "seed", "keep_rules", "keep_journal", "keep_clock"))
    seed = fields.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SQLITE_MAX):
        raise InvalidParameter(f"seed must be an integer from 0 to {SQLITE_MAX}", details={"field": "seed"})
    result = scope.sandbox().reset(
        scope.target(fields),
        seed,
        keep_rules=scope.flag(fields, "keep_rules"),
        keep_journal=scope.flag(fields, "keep_journal"),
        keep_clock=scope.flag(fields, "keep_clock", default=True),
    )
    return ok(
        {
            "tenants": result.tenants,
            "seed": result.seed,
            "rules_removed": result.rules_removed,
            "journal_cleared": result.journal_cleared,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        },
        "Sandbox reset",
    )
