"""The appointment statuses of the documentation, which of them hold a place, and the strict lifecycle.

The one home of this vocabulary: the store, the parameter and body validation, the statistics and the
dataset import all read it from here.
"""

from __future__ import annotations

#: As listed by the documentation ("confirmed, pending, cancelled, completed"), in its order for the body.
STATUSES = ("pending", "confirmed", "cancelled", "completed")
CANCELLED = "cancelled"
COMPLETED = "completed"
#: Statuses that take a place in their slot: every status but cancelled.
HOLDING = frozenset(status for status in STATUSES if status != CANCELLED)

#: The opt-in strict lifecycle (--strict-lifecycle; docs/interpretation.md#status-transitions): pending <->
#: confirmed, either may be cancelled or completed (once the slot has ended), nothing leaves cancelled or
#: completed. By default every documented status may follow any other, as the documentation lists them.
STRICT_TRANSITIONS = {
    "pending": frozenset({"pending", "confirmed", "cancelled", "completed"}),
    "confirmed": frozenset({"confirmed", "pending", "cancelled", "completed"}),
    "cancelled": frozenset({"cancelled"}),
    "completed": frozenset({"completed"}),
}


def holds_place(status: str) -> bool:
    return status in HOLDING
