"""A tenant's whole state: GET /__mock/dataset (export) and PUT /__mock/dataset (import)."""

from __future__ import annotations

from flask import Blueprint

from mockserver.answer import Answer
from mockserver.call import current_call, ok
from mockserver.control.views import scope
from mockserver.protocol import CONTROL_PREFIX

bp = Blueprint("datasets", __name__)

DATASET_PATH = f"{CONTROL_PREFIX}/dataset"
#: The import's body limit (the pipeline reads bodies; every other body is --max-body-bytes): the largest
#: export, --scale 199, is about 104 MB (docs/limits.md).
DATASET_BODY_LIMIT = 128 * 1024 * 1024


@bp.get("/dataset")
def export_dataset() -> Answer:
    """GET /__mock/dataset: a tenant's full state as JSON."""
    tenant = scope.one_tenant()
    return ok({"tenant": tenant, **scope.sandbox().export_dataset(tenant)}, "Dataset exported")


@bp.put("/dataset")
def import_dataset() -> Answer:
    """PUT /__mock/dataset?tenant=: replace a tenant's state with an export.

    The target comes from the query or the headers, never from the document: an export names the tenant
    it came from, and loading it elsewhere is the point.
    """
    incoming = current_call().incoming
    tenant = scope.one_tenant()
    runtime = scope.sandbox()
    try:
        loaded = runtime.import_dataset(tenant, incoming.body())  # read one record at a time
    finally:
        incoming.release_body()
        runtime.give_back_memory()
    return ok({"tenant": tenant, "loaded": loaded}, "Dataset loaded")
