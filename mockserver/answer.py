"""What the sandbox sends back: a status, headers and a body, as plain values.

The request pipeline (mockserver/pipeline.py) builds, decorates, records and caches answers without a web
framework's response object in the way; the pages Flask serves come back into the pipeline as answers too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from werkzeug.http import HTTP_STATUS_CODES


@dataclass(slots=True)
class Answer:
    status: int
    #: The whole body, or an iterable of chunks that is sent as it comes (a stream; never read by the pipeline).
    body: bytes | Iterable[bytes] = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def streamed(self) -> bool:
        return not isinstance(self.body, bytes)

    @property
    def data(self) -> bytes:
        """The body of an answer that is not a stream (b"" for one that is)."""
        return self.body if isinstance(self.body, bytes) else b""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    def set_header(self, name: str, value: str) -> None:
        lowered = name.lower()
        self.headers = [(key, old) for key, old in self.headers if key.lower() != lowered]
        self.headers.append((name, value))

    @property
    def content_type(self) -> str | None:
        return self.header("Content-Type")


_LINES: dict[int, str] = {}


def status_line(status: int) -> str:
    """``200 OK``; a status HTTP has no name for (a rule's 299) gets ``UNKNOWN``, as werkzeug writes it."""
    line = _LINES.get(status)
    if line is None:
        line = _LINES[status] = f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}"
    return line
