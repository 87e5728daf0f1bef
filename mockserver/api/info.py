"""GET /api/ and GET /api/health ("Endpoints d'information")."""

from __future__ import annotations

import sqlite3

from mockserver import envelope
from mockserver.answer import Answer
from mockserver.api.routes import Routes
from mockserver.call import current_call, ok
from mockserver.render import FORMATS
from mockserver.version import API_VERSION

route = Routes()

ENDPOINTS = {
    "calendars": "/api/calendars",
    "slots": "/api/slots",
    "appointments": "/api/appointments",
    "statistics": "/api/statistics",
    "clients": "/api/clients",
}


@route.get("/", public=True, cached=False)
def api_info() -> Answer:
    """GET /api/: general information and the list of endpoints."""
    data = {
        "name": "TAP4BOOK API",
        "version": API_VERSION,
        "status": "operational",
        "debug_mode": current_call().debug,
        "supported_formats": list(FORMATS),
        "endpoints": ENDPOINTS,
    }
    return ok(data, "API information retrieved successfully")


@route.get("/health", public=True, cached=False)
def health() -> Answer:
    """GET /api/health: API status and database connection."""
    call = current_call()
    try:
        call.db().execute("SELECT 1 FROM calendars LIMIT 1").fetchall()
        connected = True
    except sqlite3.Error:
        connected = False
    return ok(envelope.health(int(call.now()), call.debug, connected=connected), "Health check successful")
