"""GET /api/ and GET /api/health ("Endpoints d'information")."""

from __future__ import annotations

import sqlite3

from flask import Blueprint, Response

from mockserver import API_VERSION
from mockserver.api.call import current_call, ok, public
from mockserver.render import FORMATS

bp = Blueprint("info", __name__)

ENDPOINTS = {
    "calendars": "/api/calendars",
    "slots": "/api/slots",
    "appointments": "/api/appointments",
    "statistics": "/api/statistics",
    "clients": "/api/clients",
}


@bp.get("/")
@public
def api_info() -> Response:
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


@bp.get("/health")
@public
def health() -> Response:
    """GET /api/health: API status and database connection."""
    call = current_call()
    try:
        call.db().execute("SELECT 1 FROM calendars LIMIT 1").fetchall()
        database = "connected"
    except sqlite3.Error:
        database = "disconnected"
    data = {
        "status": "healthy" if database == "connected" else "unhealthy",
        "timestamp": int(call.now()),
        "version": API_VERSION,
        "debug_mode": call.debug,
        "database": database,
    }
    return ok(data, "Health check successful")
