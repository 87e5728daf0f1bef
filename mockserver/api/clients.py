"""GET /api/clients, /api/clients/{id} and /api/clients/{calendarId} ("Endpoints Clients").

The last two share one URL: see ``params.scope`` and docs/interpretation.md#ids.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from mockserver.api import params
from mockserver.api.cache import cached
from mockserver.api.call import current_call, ok
from mockserver.store import queries

bp = Blueprint("clients", __name__)


def _filter() -> queries.ClientFilter:
    args = request.args
    created_from = params.day(args, "created_from")
    created_to = params.day(args, "created_to")
    params.date_range(created_from, created_to, ("created_from", "created_to"))
    return queries.ClientFilter(
        search=(args.get("search") or "").strip() or None,
        email=args.get("email") or None,
        phone=args.get("phone") or None,
        created_from=created_from,
        created_to=created_to,
    )


@bp.get("/clients")
@cached
def list_clients() -> Response:
    """GET /api/clients: clients with search (name, first name, e-mail; case- and accent-insensitive)."""
    where = _filter()
    page, per_page = params.paging(request.args)
    rows, total = queries.list_clients(current_call().db(), where, page, per_page)
    return ok(
        rows,
        "Clients retrieved successfully",
        item="client",
        columns=queries.CLIENT_FIELDS,
        page=(total, page, per_page),
    )


@bp.get("/clients/<number>")
@cached
def client_or_calendar(number: str) -> Response:
    """GET /api/clients/{id} (detail) or /api/clients/{calendarId} (clients with appointments there)."""
    value = params.identifier("id", number)
    conn = current_call().db()
    if params.scope(request.args, value) == "detail":
        return ok(queries.get_client(conn, value), "Client retrieved successfully", item="client")
    where = _filter()
    page, per_page = params.paging(request.args)
    rows, total = queries.list_clients(conn, where, page, per_page, calendar_id=value)
    return ok(
        rows,
        "Calendar clients retrieved successfully",
        item="client",
        columns=queries.CLIENT_FIELDS,
        page=(total, page, per_page),
        meta={"calendar_id": value},
    )
