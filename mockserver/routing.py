"""Which documented route a mistyped path meant: the hint of ENDPOINT_NOT_FOUND, for both planes."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from werkzeug.routing import Map

from mockserver.api.routes import Route
from mockserver.protocol import API_PREFIX, CONTROL_PREFIX


def all_routes(api_routes: Iterable[Route], flask_rules: Map) -> dict[str, str]:
    """Every route template of the API and the control plane -> its methods (``GET, POST``)."""
    found: dict[str, set[str]] = {}
    for route in api_routes:
        found.setdefault(route.rule, set()).update(route.methods)
    for rule in flask_rules.iter_rules():
        if rule.rule.startswith((API_PREFIX, CONTROL_PREFIX)):
            found.setdefault(rule.rule, set()).update((rule.methods or set()) - {"HEAD", "OPTIONS"})
    return {
        template.replace("<", "{").replace(">", "}"): ", ".join(sorted(methods)) for template, methods in found.items()
    }


def nearest_endpoint(path: str, api_routes: Iterable[Route], flask_rules: Map) -> str:
    """The documented route closest to the path asked for, by spelling."""
    routes = all_routes(api_routes, flask_rules)
    shape = re.sub(r"/\d+(?=/|$)", "/{id}", path.rstrip("/") or "/")
    shape = re.sub(r"\{(id|number|calendar_id|appointment_id|slot_id)\}", "{id}", shape)
    candidates = {re.sub(r"\{[a-z_]+\}", "{id}", template): template for template in sorted(routes)}
    close = difflib.get_close_matches(shape, list(candidates), n=1, cutoff=0.6)
    if not close:
        return "No such endpoint: GET /api/ lists the API's endpoints, GET /__mock/ the control API's."
    return f"The nearest endpoint is {routes[candidates[close[0]]]} {close[0]}."
