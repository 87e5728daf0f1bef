"""The /__mock/ control API: one module per resource, each a blueprint, all under one ``control`` blueprint.

JSON in and out, in the same envelope as the API. Every operation can be scoped to one tenant: a ``tenant``
field (body or query, ``space/name`` or just ``name`` within the caller's space), or the same headers as the
API (``Access-Token`` / ``X-Debug`` and ``X-Mock-Tenant``); with no credentials at all it acts on the whole
server (``scope.target``). Who may call it at all is the pipeline's guard stage (control/guard.py).
docs/control-api.md has a curl example for each. Views call the sandbox runtime, never a store.
"""

from __future__ import annotations

from flask import Blueprint

from mockserver.control.views import (
    about,
    clock,
    datasets,
    domain,
    journal,
    presets,
    reset,
    rules,
    settings,
    tenants,
)
from mockserver.protocol import CONTROL_PREFIX

MODULES = (about, reset, tenants, settings, clock, rules, presets, journal, domain, datasets)


def blueprint() -> Blueprint:
    """The whole control API (each call makes a new blueprint: two apps in one process never share one)."""
    control = Blueprint("control", __name__, url_prefix=CONTROL_PREFIX)
    for module in MODULES:
        control.register_blueprint(module.bp)
    return control


def readiness() -> Blueprint:
    """Only ``/__mock/ready``, for a server without the control API (--no-control-api): health checks."""
    ready = Blueprint("control", __name__, url_prefix=CONTROL_PREFIX)
    ready.add_url_rule("/ready", "ready", about.ready)
    return ready
