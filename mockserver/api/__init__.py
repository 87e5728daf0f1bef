"""The TAP4BOOK API under /api/: one module per resource, each declaring its routes beside its views."""

from __future__ import annotations

from mockserver.api import appointments, booking, calendars, clients, info, slots, statistics
from mockserver.api.routes import Route, route_map

ROUTES: list[Route] = [
    route
    for module in (info, calendars, slots, appointments, booking, clients, statistics)
    for route in module.route.routes
]

__all__ = ["ROUTES", "Route", "route_map"]
