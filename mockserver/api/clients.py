"""GET /api/clients, /api/clients/{id} and /api/clients/{calendarId} ("Endpoints Clients").

The last two share one URL: see ``params.scope`` and docs/interpretation.md#ids.
"""

from __future__ import annotations

from typing import Any

from mockserver.answer import Answer
from mockserver.api import params
from mockserver.api.routes import Routes
from mockserver.call import current_call, ok
from mockserver.store.queries import clients

route = Routes()


def _filter() -> clients.ClientFilter:
    args = current_call().args
    created_from = params.day(args, "created_from")
    created_to = params.day(args, "created_to")
    params.date_range(created_from, created_to, ("created_from", "created_to"))
    return clients.ClientFilter(
        search=(args.get("search") or "").strip() or None,
        email=args.get("email") or None,
        phone=args.get("phone") or None,
        created_from=created_from,
        created_to=created_to,
    )


def _listing(calendar_id: int | None, message: str, meta: dict[str, Any] | None = None) -> Answer:
    """A page of clients: all of them, or those with appointments in one calendar (counted there)."""
    where = _filter()
    page, per_page = params.paging(current_call().args)
    rows, total = clients.list_clients(current_call().db(), where, page, per_page, calendar_id=calendar_id)
    return ok(rows, message, item="client", columns=clients.CLIENT_FIELDS, page=(total, page, per_page), meta=meta)


@route.get("/clients")
def list_clients() -> Answer:
    """GET /api/clients: clients with search (name, first name, e-mail; case- and accent-insensitive)."""
    return _listing(None, "Clients retrieved successfully")


@route.get("/clients/<number>")
def client_or_calendar(number: str) -> Answer:
    """GET /api/clients/{id} (detail) or /api/clients/{calendarId} (clients with appointments there)."""
    value = params.identifier("id", number)
    if params.scope(current_call().args, value) == "detail":
        return ok(clients.get_client(current_call().db(), value), "Client retrieved successfully", item="client")
    return _listing(value, "Calendar clients retrieved successfully", meta={"calendar_id": value})
