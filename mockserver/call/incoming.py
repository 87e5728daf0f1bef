"""One request as plain values read from the WSGI environ: method, path, query, headers and body.

Read the way werkzeug reads them (so the API answers exactly as it did under Flask's request object), but each
part only when a stage asks for it: a repeated read that the answer cache serves never parses its body.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" codec error handler used below)
from werkzeug.datastructures import EnvironHeaders, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from mockserver import jsonbody
from mockserver.errors import InvalidJson, PayloadTooLarge

Environ = dict[str, Any]


class Incoming:
    __slots__ = ("_args", "_body", "body_limit", "environ", "headers", "method", "path", "query_string")

    def __init__(self, environ: Environ, body_limit: int) -> None:
        self.environ = environ
        # As sent: HTTP methods are case-sensitive (RFC 9110 9.1), so ``get`` is no GET.
        self.method: str = environ.get("REQUEST_METHOD") or "GET"
        raw = (environ.get("PATH_INFO") or "").encode("latin-1").decode("utf-8", "replace")
        self.path = "/" + raw.lstrip("/")
        self.query_string: str = environ.get("QUERY_STRING") or ""
        self.headers = EnvironHeaders(environ)
        self.body_limit = body_limit
        self._args: MultiDict[str, str] | None = None
        self._body: bytes | None = None

    @property
    def args(self) -> MultiDict[str, str]:
        if self._args is None:
            text = self.query_string.encode("latin-1").decode("utf-8", "replace")
            self._args = MultiDict(parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"))
        return self._args

    @property
    def has_body(self) -> bool:
        environ = self.environ
        return environ.get("CONTENT_LENGTH") not in (None, "", "0") or "HTTP_TRANSFER_ENCODING" in environ

    @property
    def full_path(self) -> str:
        return f"{self.path}?{self.query_string}"

    def body(self) -> bytes:
        """The request body, read once; over ``body_limit`` it is PAYLOAD_TOO_LARGE."""
        if self._body is None:
            try:
                self._body = get_input_stream(self.environ, max_content_length=self.body_limit).read()
            except RequestEntityTooLarge:
                raise PayloadTooLarge(f"Request body too large (limit {self.body_limit} bytes)") from None
            # Whoever reads the body after us (Flask, for a control call) finds it whole.
            self.environ["wsgi.input"] = io.BytesIO(self._body)
            self.environ["CONTENT_LENGTH"] = str(len(self._body))
        return self._body

    def release_body(self) -> None:
        """Drop the body once a view is done with it (a 100 MB dataset import must not stay in memory until the
        thread's next request)."""
        self._body = None
        self.environ["wsgi.input"] = io.BytesIO()
        self.environ["CONTENT_LENGTH"] = "0"

    def recorded_body(self) -> bytes:
        """The body for the journal: one over the limit is noted, not read."""
        try:
            return self.body()
        except PayloadTooLarge:
            length = self.environ.get("CONTENT_LENGTH") or "?"
            return f"<body of {length} bytes, over the limit: not recorded>".encode()

    def json(self) -> Any:
        """The body's JSON value, or None when there is no body or it is not JSON (for rules that match it)."""
        try:
            raw = self.body()
            return jsonbody.parse(raw) if raw.strip() else None
        except (InvalidJson, PayloadTooLarge):
            return None
