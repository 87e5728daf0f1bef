"""The TAP4BOOK API under /api/: one blueprint per resource, registered by ``register``."""

from __future__ import annotations

from flask import Blueprint, Flask

from mockserver.api import appointments, booking, calendars, clients, info, slots, statistics


def register(app: Flask) -> None:
    api = Blueprint("api", __name__, url_prefix="/api")
    for module in (info, calendars, slots, appointments, booking, clients, statistics):
        api.register_blueprint(module.bp)
    app.register_blueprint(api)
