"""One request as plain values read from the WSGI environ: method, path, query, headers and body.

Read the way werkzeug reads them (so the API answers exactly as it did under Flask's request object), but each
part only when a stage asks for it: a repeated read that the answer cache serves never parses its body.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" codec error handler used below)
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from mockserver import jsonbody
from mockserver.errors import InvalidJson, PayloadTooLarge

Environ = dict[str, Any]
#: Header name -> its WSGI environ key (``X-Debug`` -> ``HTTP_X_DEBUG``), made once per name.
_ENVIRON_KEYS: dict[str, str] = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


class Query(dict[str, str]):
    """A query string's parameters: each name maps to its first value (as werkzeug's ``MultiDict.get``), and
    ``pairs`` keeps every (name, value) in order. A plain dict underneath: ``get`` costs a C call, where
    ``MultiDict.get`` raised and caught an exception for every parameter that was absent."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__()
        for name, value in pairs:
            self.setdefault(name, value)
        self.pairs = pairs

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]


_NO_QUERY = Query([])


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
        self._args: Query | None = None
        self._body: bytes | None = None

    def header(self, name: str) -> str | None:
        """One request header, read straight from the environ (what ``headers.get`` does, without its
        case-folding on every call: the pipeline reads a handful of headers on every request)."""
        key = _ENVIRON_KEYS.get(name)
        if key is None:
            lowered = name.lower()
            key = _ENVIRON_KEYS.get(lowered) or "HTTP_" + name.upper().replace("-", "_")
            _ENVIRON_KEYS[name] = key
        return self.environ.get(key)

    def header_items(self) -> list[tuple[str, str]]:
        """Every request header as werkzeug lists them (``EnvironHeaders``), for the journal."""
        found = []
        for key, value in self.environ.items():
            if key.startswith("HTTP_"):
                if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                    found.append((key[5:].replace("_", "-").title(), value))
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                found.append((key.replace("_", "-").title(), value))
        return found

    @property
    def args(self) -> Query:
        if self._args is None:
            if not self.query_string:
                self._args = _NO_QUERY
            else:
                text = self.query_string.encode("latin-1").decode("utf-8", "replace")
                self._args = Query(parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"))
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
