"""The envelope around every response, in the documented key order ("Réponses standardisées").

Success: success, data, [pagination, meta], message, error_code "SUCCESS", http_code 200, api_version,
timestamp, format, [debug]. Error (as in "Exemple de réponse d'erreur", plus http_code and format so that
both envelopes carry the same bookkeeping): success false, message, error_code, http_code, [details],
api_version, timestamp, format, [debug].
"""

from __future__ import annotations

from typing import Any

from mockserver.errors import ApiError
from mockserver.version import API_VERSION


def pagination(total: int, page: int, per_page: int) -> dict[str, Any]:
    """The documented pagination block; a page past the end is empty with has_more false, not an error."""
    total_pages = (total + per_page - 1) // per_page
    return {
        "total": total,
        "page": page,
        "per_page": per_page,
        "total_pages": total_pages,
        "has_more": page < total_pages,
    }


def success(
    data: Any,
    message: str,
    *,
    timestamp: str,
    fmt: str,
    pagination: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    envelope: dict[str, Any] = {"success": True, "data": data}
    if pagination is not None:
        envelope["pagination"] = pagination
        envelope["meta"] = meta if meta is not None else {}
    envelope.update(
        message=message,
        error_code="SUCCESS",
        http_code=200,
        api_version=API_VERSION,
        timestamp=timestamp,
        format=fmt,
    )
    return envelope


def error(err: ApiError, *, timestamp: str, fmt: str, data: Any = None) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "success": False,
        "message": err.message,
        "error_code": err.code,
        "http_code": err.status,
    }
    if err.details:
        envelope["details"] = err.details
    if data is not None:
        envelope["data"] = data
    envelope.update(api_version=API_VERSION, timestamp=timestamp, format=fmt)
    return envelope


def health(timestamp: int, debug_mode: bool, *, connected: bool) -> dict[str, Any]:
    """The data of GET /api/health, healthy or not ("Endpoints d'information")."""
    return {
        "status": "healthy" if connected else "unhealthy",
        "timestamp": timestamp,
        "version": API_VERSION,
        "debug_mode": debug_mode,
        "database": "connected" if connected else "disconnected",
    }
