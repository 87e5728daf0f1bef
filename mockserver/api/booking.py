"""POST /api/appointment and PUT /api/appointment/{id} ("Gestion des rendez-vous")."""

from __future__ import annotations

from mockserver.answer import Answer
from mockserver.api import body, params
from mockserver.api.routes import Routes
from mockserver.call import current_call, ok
from mockserver.store import writes

route = Routes()


@route.post("/appointment")
def create_appointment() -> Answer:
    """POST /api/appointment: book a place in a slot for a client (matched by e-mail, or created)."""
    new = body.new_appointment()
    call = current_call()
    conn = call.db()
    record = writes.create_appointment(conn, new, call.now(), strict=call.strict_lifecycle())
    return ok({"appointment": record}, "Appointment created successfully", item="appointment")


@route.put("/appointment/<appointment_id>")
def update_appointment(appointment_id: str) -> Answer:
    """PUT /api/appointment/{id}: change the status and/or move to another slot of the same calendar."""
    value = params.identifier("id", appointment_id)
    status, slot_id = body.appointment_change()
    call = current_call()
    conn = call.db()
    record = writes.update_appointment(
        conn, value, call.now(), status=status, slot_id=slot_id, strict=call.strict_lifecycle()
    )
    return ok({"appointment": record}, "Appointment updated successfully", item="appointment")
