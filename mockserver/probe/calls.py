"""What the probe sends and what it gets back: one call of the script, and one side's answer to it."""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.probe.fetch import Answer
from mockserver.probe.shapes import parse_json
from mockserver.protocol import FORMAT_PARAM

#: Reads a side's answer into its context (the ids later calls name).
Learn = Callable[[Any, dict[str, str]], None]
Body = Callable[[Mapping[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """One request of the script. ``path`` and ``query`` values may name context values: ``{calendar_id}``."""

    name: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    kind: str = "detail"  # info, health, list, detail, statistics, error, write
    auth: str = "token"  # token (header), param (access_token=), none, bad
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "GET"
    body: Body | None = None
    section: str | None = None
    values: tuple[str, ...] = ()  # JSON paths whose values must be equal on both sides
    learn: Learn | None = None
    scoped: bool = False  # a calendar-scoped list: meta.calendar_id is the calendar of the path
    uses: tuple[str, ...] = ()  # context values the body needs

    @property
    def fmt(self) -> str:
        """The format asked for: the format parameter, else the Accept header, else JSON."""
        for key, value in self.query:
            if key == FORMAT_PARAM:
                return value
        accept = dict(self.headers).get("Accept", "")
        if accept.startswith("application/xml"):
            return "xml"
        if accept.startswith("text/csv"):
            return "csv"
        return "json"

    def needs(self) -> set[str]:
        texts = [self.path, *(value for _, value in self.query)]
        names = {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}
        names.update(self.uses)
        if self.auth == "param":
            names.discard("token")
        return names


@dataclass
class Observation:
    """What one side answered to one call (or why the call was not sent)."""

    call: Call
    shown: str = ""  # "GET /api/calendars?per_page=20", secrets masked
    path: str = ""  # the path sent, below the API root: "/calendars/1"
    params: dict[str, str] = field(default_factory=dict)
    answer: Answer | None = None
    skipped: str | None = None
    _parsed: Any = None
    _parsed_done: bool = False

    def json(self) -> Any:
        """The JSON body, or None when the answer is not JSON."""
        if not self._parsed_done:
            self._parsed_done = True
            if self.answer is not None and self.answer.media_type.endswith("json"):
                try:
                    self._parsed = parse_json(self.answer.body)
                except ValueError:
                    self._parsed = None
        return self._parsed
