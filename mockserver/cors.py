"""CORS for browsers on another origin (a front-end dev server): preflights and answer headers.

Small enough to own: a library here cost a tenth of a millisecond on every request, most of them from
clients that send no ``Origin`` at all, and the sandbox needs exactly one policy (docs/clients.md): any
origin (or the ``--cors-origins`` list) may call the API, only ``--control-origins`` the control plane.
"""

from __future__ import annotations

from mockserver import protocol
from mockserver.answer import Answer
from mockserver.call.incoming import Incoming

ALLOW_HEADERS = ", ".join((*protocol.REQUEST_HEADERS, "Content-Type", "Accept"))
EXPOSE_HEADERS = ", ".join(protocol.ANSWER_HEADERS)
ALLOW_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
MAX_AGE = "600"
SCOPES = (protocol.API_PREFIX, protocol.CONTROL_PREFIX)


class Cors:
    def __init__(self, origins: str, control_origins: tuple[str, ...] = ()) -> None:
        """Allow ``origins`` ('*' or a comma-separated list) to call the API, and only ``control_origins``
        (never '*') to call the control plane from a browser: a page anywhere must not reset a sandbox."""
        self.allowed = (
            None if origins.strip() == "*" else {o.strip().rstrip("/") for o in origins.split(",") if o.strip()}
        )
        self.control = set(control_origins)

    def permitted(self, incoming: Incoming) -> str | None:
        """The request's Origin when it may read the answer, else None."""
        origin = incoming.header("Origin")
        if not origin or not incoming.path.startswith(SCOPES):
            return None
        if incoming.path.startswith(protocol.CONTROL_PREFIX):
            return origin if origin.rstrip("/") in self.control else None
        return origin if self.allowed is None or origin.rstrip("/") in self.allowed else None

    def preflight(self, incoming: Incoming) -> Answer | None:
        """The answer to a browser's preflight from an allowed origin (before any credentials are asked for)."""
        if incoming.method != "OPTIONS" or "Access-Control-Request-Method" not in incoming.headers:
            return None
        origin = self.permitted(incoming)
        if origin is None:
            return None
        return Answer(
            204,
            b"",
            [
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Methods", ALLOW_METHODS),
                ("Access-Control-Allow-Headers", ALLOW_HEADERS),
                ("Access-Control-Max-Age", MAX_AGE),
                ("Vary", "Origin"),
            ],
        )

    def decorate(self, incoming: Incoming, answer: Answer) -> None:
        origin = self.permitted(incoming)
        if origin is not None and answer.header("Access-Control-Allow-Origin") is None:
            answer.headers += [
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Expose-Headers", EXPOSE_HEADERS),
                ("Vary", "Origin"),
            ]
