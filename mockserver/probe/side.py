"""One side of the comparison: it sends the script's calls with its own token and ids, and keeps the answers."""

from __future__ import annotations

import json
import urllib.parse
from datetime import date
from typing import Any

from mockserver.probe.calls import Call, Observation
from mockserver.probe.discovery import TAUGHT_BY, dates
from mockserver.probe.fetch import Fetcher
from mockserver.protocol import TOKEN_HEADER, TOKEN_PARAM

#: 64 hex characters that are nobody's HMAC: the documented AUTH_INVALID.
BAD_TOKEN = "0" * 64
MASK = "***"


class Side:
    """One side of the comparison: its fetcher, its token, its context, and what it answered."""

    def __init__(self, label: str, fetcher: Fetcher, token: str, today: date) -> None:
        self.label = label
        self.fetcher = fetcher
        self.token = token
        self.today = today
        self.context: dict[str, str] = {**dates(today), "token": token}
        self.observations: dict[str, Observation] = {}

    def observe(self, call: Call, *, refuse: str | None = None) -> Observation:
        """Send one call (or record why not: ``refuse``, or a context value this side lacks)."""
        observation = Observation(call)
        self.observations[call.name] = observation
        missing = sorted(call.needs() - set(self.context))
        if refuse or missing:
            observation.skipped = refuse or "; ".join(
                f"no {{{name}}}: {TAUGHT_BY.get(name, 'an earlier call')} gave none on the {self.label}"
                for name in missing
            )
            return observation
        query = [(key, value.format_map(self.context)) for key, value in call.query]
        path = observation.path = call.path.format_map(self.context)
        headers = dict(call.headers)
        if call.auth == "token":
            headers[TOKEN_HEADER] = self.token
        elif call.auth == "bad":
            headers[TOKEN_HEADER] = BAD_TOKEN
        body = None
        if call.body is not None:
            body = _json_bytes(call.body(self.context))
            headers["Content-Type"] = "application/json"
        shown_query = [(key, MASK if key == TOKEN_PARAM else value) for key, value in query]
        observation.params = dict(shown_query)
        observation.shown = f"{call.method} {self.api_path(path)}" + (
            "?" + urllib.parse.urlencode(shown_query, safe="*/") if shown_query else ""
        )
        observation.answer = self.fetcher.request(call.method, path, query, headers, body)
        if call.learn is not None:
            body_value = observation.json()
            if body_value is not None:
                call.learn(body_value, self.context)
        return observation

    def api_path(self, path: str) -> str:
        return urllib.parse.urlsplit(self.fetcher.root).path + path


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
