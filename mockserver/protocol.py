"""The sandbox's protocol vocabulary: every header and parameter name a client or the server uses, in one place.

The API documentation's own names (``Access-Token``, ``access_token``, ``X-Debug``, ``debug``, ``format``) and
the sandbox's additions (``X-Mock-*``, ``__scenario``). The pipeline, CORS, the client, ``tail``, the pytest
plugin and the probe import them from here, so that renaming one, or adding a switch, is one edit.
"""

from __future__ import annotations

API_PREFIX = "/api"
CONTROL_PREFIX = "/__mock"

# -- the documented API's names ("Authentification", "Mode Debug", "Formats de sortie") --------------
TOKEN_HEADER = "Access-Token"
TOKEN_PARAM = "access_token"
DEBUG_HEADER = "X-Debug"
DEBUG_PARAM = "debug"
FORMAT_PARAM = "format"

# -- the sandbox's request switches ------------------------------------------------------------------
TENANT_HEADER = "X-Mock-Tenant"
SCENARIO_HEADER = "X-Mock-Scenario"
SCENARIO_PARAM = "__scenario"
EXPLAIN_HEADER = "X-Mock-Explain"
ADMIN_HEADER = "X-Mock-Admin-Token"

# -- what the sandbox adds to its answers ------------------------------------------------------------
REQUEST_ID_HEADER = "X-Request-Id"
HINT_HEADER = "X-Mock-Hint"
RULE_HEADER = "X-Mock-Rule"
FAULT_HEADER = "X-Mock-Fault"
PAGINATION_HEADERS = tuple(f"X-Pagination-{name}" for name in ("Total", "Page", "Per-Page", "Total-Pages", "Has-More"))

#: Headers a browser page may send (CORS preflight), and read from an answer.
REQUEST_HEADERS = (TOKEN_HEADER, DEBUG_HEADER, TENANT_HEADER, SCENARIO_HEADER, EXPLAIN_HEADER, ADMIN_HEADER)
ANSWER_HEADERS = (*PAGINATION_HEADERS, REQUEST_ID_HEADER, HINT_HEADER, RULE_HEADER, FAULT_HEADER, "Allow")


def environ_key(header: str) -> str:
    """A request header's key in a WSGI environ: ``X-Mock-Tenant`` -> ``HTTP_X_MOCK_TENANT``."""
    return "HTTP_" + header.upper().replace("-", "_")
