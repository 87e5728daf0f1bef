"""The OpenAPI description of the sandbox, served under /__mock/, and an interactive documentation page.

``GET /__mock/openapi.yaml`` is ``mockserver/openapi.yaml`` as shipped; ``GET /__mock/openapi.json`` is the
same document as JSON (YAML anchors expanded). Both are read and converted once per process, on first
use, and answered with an ETag. ``GET /__mock/docs`` is Swagger UI, whose files come from the
``flask-swagger-ui`` package (its ``dist`` folder): the page loads nothing from the network, and its "Try it
out" calls this same server, since the description's first server is the relative URL ``/``; like the console,
the page has a Content-Security-Policy (this server only, Swagger UI's start-up script allowed by its hash) and
cannot be framed. ``GET /__mock/postman.json`` is the Postman collection (mockserver/postman.py), its ``baseUrl``
set to the address the request came to.

The blueprint lives under /__mock/ with the control API and is registered only when the control API is
on (``--no-control-api`` removes all of /__mock/, this included). It is not behind ``--admin-token``: the
description holds no secret, and the page must be able to read it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, render_template_string, request, url_for
from markupsafe import Markup

bp = Blueprint("openapi", __name__, url_prefix="/__mock")

SOURCE = "openapi.yaml"
YAML_TYPE = "application/yaml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
#: The Swagger UI files the page uses, and their types; anything else under /__mock/docs/ is a 404.
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "index.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}


@cache
def source() -> bytes:
    """The description as shipped (YAML)."""
    return resources.files("mockserver").joinpath(SOURCE).read_bytes()


@cache
def document() -> dict[str, Any]:
    """The description as a mapping (parsed once; do not modify it)."""
    import yaml  # on first use: most servers never serve the description

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(source(), Loader=loader)  # a safe loader: the C one when PyYAML has it


@cache
def as_json() -> bytes:
    """The description as JSON, converted once."""
    return json.dumps(document(), ensure_ascii=False).encode()


@cache
def _etag(kind: str) -> str:
    return hashlib.blake2b(source() if kind == "yaml" else as_json(), digest_size=12).hexdigest()


def _dist() -> Path:
    """Swagger UI's distribution files, as shipped in the flask-swagger-ui package."""
    return Path(str(resources.files("flask_swagger_ui").joinpath("dist")))


def _document_response(body: bytes, mimetype: str, kind: str) -> Response:
    response = Response(body, content_type=mimetype)
    response.set_etag(_etag(kind))
    response.headers["Cache-Control"] = "no-cache"  # revalidate: a newer sandbox may describe more
    return response.make_conditional(request)


@bp.get("/openapi.json")
def spec_json() -> Response:
    """GET /__mock/openapi.json: the OpenAPI 3.1 description, as JSON."""
    return _document_response(as_json(), JSON_TYPE, "json")


@bp.get("/openapi.yaml")
def spec_yaml() -> Response:
    """GET /__mock/openapi.yaml: the OpenAPI 3.1 description, as written."""
    return _document_response(source(), YAML_TYPE, "yaml")


#: Swagger UI's start-up, the page's only inline script: the policy allows it by its hash, nothing else inline.
SCRIPT = """
    window.onload = function () {
      window.ui = SwaggerUIBundle({
        url: {{ spec_url | tojson }},
        dom_id: "#swagger-ui",
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        plugins: [SwaggerUIBundle.plugins.DownloadUrl],
        layout: "StandaloneLayout",
        deepLinking: true,
        displayRequestDuration: true,
        persistAuthorization: true,
        validatorUrl: null
      });
    };
  """

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{ title }}</title>
  <link rel="stylesheet" href="{{ asset('swagger-ui.css') }}">
  <link rel="stylesheet" href="{{ asset('index.css') }}">
  <link rel="icon" type="image/png" href="{{ asset('favicon-32x32.png') }}" sizes="32x32">
  <link rel="icon" type="image/png" href="{{ asset('favicon-16x16.png') }}" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{{ asset('swagger-ui-bundle.js') }}"></script>
  <script src="{{ asset('swagger-ui-standalone-preset.js') }}"></script>
  <script>{{ script }}</script>
</body>
</html>
"""


#: This server only, as the console's: no other origin, no inline script but Swagger UI's start-up (by hash), no
#: framing (a page that calls the API must not be clickjacked). Swagger UI sets inline style attributes and
#: draws its icons as data: images.
POLICY = (
    "default-src 'none'; script-src 'self' '{script}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
    " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@bp.get("/docs")
def docs() -> Response:
    """GET /__mock/docs: Swagger UI over the description; "Try it out" calls this server."""
    script = Markup(render_template_string(SCRIPT, spec_url=url_for("openapi.spec_json")))
    html = render_template_string(
        PAGE,
        title=document()["info"]["title"],
        script=script,
        asset=lambda name: url_for("openapi.docs_asset", asset=name),
    )
    digest = base64.b64encode(hashlib.sha256(str(script).encode()).digest()).decode()
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = POLICY.format(script=f"sha256-{digest}")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/postman.json")
def postman_collection() -> Response:
    """GET /__mock/postman.json: the Postman collection, its baseUrl set to this server's address."""
    from mockserver import postman  # here: 2 ms of every start, for a page few ask for

    collection = json.loads(postman.shipped())
    for variable in collection["variable"]:
        if variable["key"] == "baseUrl":
            variable["value"] = request.host_url.rstrip("/") + request.script_root
    body = postman.render(collection)
    response = Response(body, content_type=JSON_TYPE)
    response.headers["Content-Disposition"] = 'inline; filename="tap4book-sandbox.postman_collection.json"'
    response.set_etag(hashlib.blake2b(body, digest_size=12).hexdigest())
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


@bp.get("/docs/<asset>")
def docs_asset(asset: str) -> Response:
    """GET /__mock/docs/{asset}: one of Swagger UI's files, from the installed package."""
    if asset not in ASSETS:
        abort(404)
    body = _asset(asset)
    response = Response(body, content_type=ASSETS[asset])
    response.set_etag(hashlib.blake2b(body, digest_size=12).hexdigest())
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(request)


@cache
def _asset(name: str) -> bytes:
    return (_dist() / name).read_bytes()
