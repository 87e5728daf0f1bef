"""What the journal keeps of a request, and what it hides: the masking policy.

Secrets are masked before anything is stored, in every part of an entry: the path, the query's names and
values, the headers' names and values, the body, the hint and the answer. A secret is the value of any token
header or parameter (whatever its spelling) and every known account token and the admin token, wherever it
appears and in any letter case (a header name comes back title-cased; a token is hexadecimal, so its upper-case
spelling is the token). Each part is cut to its limit after masking, never before: a cut through a token would
leave most of it readable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import NamedTuple

import orjson

SECRET_NAMES = frozenset({"access-token", "x-mock-admin-token", "authorization", "cookie", "proxy-authorization"})
SHORTEST_SECRET = 8  # shorter values are not tokens, and masking them would hide ordinary words
BODY_LIMIT = 65536
#: How much of each answer's body is kept (enough to read an envelope's message and first records).
ANSWER_LIMIT = 2048
PATH_LIMIT = 2048
HEADER_BYTES = 8192
HEADER_VALUE_LIMIT = 1024
MEMO_SIZE = 256  # calls remembered (their kept parts: a few KiB each)
MEMO_BODY = 1024  # larger bodies are not remembered (hashing them would cost what it saves)

Hide = Callable[[str], str]
Pairs = list[tuple[str, str]]
Clean = Callable[[bytes], bool]


def mask(value: str) -> str:
    """Enough of a secret to tell two apart in a journal, not enough to reuse it."""
    return value[:4] + "…" if len(value) > SHORTEST_SECRET else "…"


@lru_cache(maxsize=1024)  # the same few header and parameter names, on every request
def secret_name(name: str) -> bool:
    return name.lower().replace("_", "-") in SECRET_NAMES


class Kept(NamedTuple):
    """The parts of a request as the journal stores them, secrets masked and each cut to its limit."""

    path: str
    query: str  # JSON object
    headers: str  # JSON object
    body: str | None
    hint: str | None
    answer: str | None

    @property
    def size(self) -> int:
        """What the entry weighs against --journal-bytes (its text, and a fixed part for the other columns)."""
        texts = (self.path, self.query, self.headers, self.body or "", self.answer or "")
        return sum(map(len, texts)) + 200


class Masking:
    """The secrets a journal knows (the accounts' tokens and the admin token), matched in any case."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = _longest_first({secret.lower() for secret in secrets if len(secret) >= SHORTEST_SECRET})
        self._known = set(self.secrets)
        self._default = _hider_of(self.secrets)  # the masking of a call that sends no secret of its own
        # The same call again (a client polling, a cached answer) is kept the same way: remembered, it costs a
        # dictionary lookup instead of a masking pass over every part.
        self._recent: dict[tuple[object, ...], Kept] = {}
        self._longest = len(self.secrets[0]) if self.secrets else 0

    def keep(
        self,
        *,
        path: str,
        query: list[tuple[str, str]],
        headers: list[tuple[str, str]],
        body: bytes,
        hint: str | None,
        answer: bytes,
    ) -> Kept:
        if len(body) > MEMO_BODY:
            return self._keep(path, query, headers, body, hint, answer)[0]
        # Only what _keep reads of the answer is in the key (its start, and whether there is more), when the
        # call sent no secret longer than the known ones (it never does, unless it sends a made-up token).
        seen = answer[: ANSWER_LIMIT + 4 * self._longest + 1]
        key = (path, tuple(query), tuple(headers), body, hint, seen, len(answer) > ANSWER_LIMIT)
        kept = self._recent.get(key)
        if kept is None:
            kept, longest = self._keep(path, query, headers, body, hint, answer)
            if longest <= self._longest:
                if len(self._recent) >= MEMO_SIZE:
                    self._recent.clear()
                self._recent[key] = kept
        return kept

    def _keep(
        self, path: str, query: Pairs, headers: Pairs, body: bytes, hint: str | None, answer: bytes
    ) -> tuple[Kept, int]:
        hide, longest, clean = self._hider(query, headers)

        def text(value: str, limit: int) -> str:
            return hide(value[: limit + longest])[:limit]

        shown_query: dict[str, str] = {}
        for name, value in query:
            shown = mask(value) if secret_name(name) else text(value, HEADER_VALUE_LIMIT)
            shown_query.setdefault(text(name, HEADER_VALUE_LIMIT), shown)
        shown_headers: dict[str, str] = {}
        budget = HEADER_BYTES
        for number, (name, value) in enumerate(headers):
            shown = mask(value) if secret_name(name) else text(value, HEADER_VALUE_LIMIT)
            shown_name = text(name, HEADER_VALUE_LIMIT)
            budget -= len(shown_name) + len(shown)
            if budget < 0:
                shown_headers["…"] = f"{len(headers) - number} more headers not recorded ({HEADER_BYTES} bytes kept)"
                break
            shown_headers[shown_name] = shown
        kept = Kept(
            path=text(path, PATH_LIMIT),
            query=orjson.dumps(shown_query).decode(),
            headers=orjson.dumps(shown_headers).decode(),
            body=_bytes_kept(body, BODY_LIMIT, hide, longest, clean),
            hint=hide(hint) if hint else hint,
            answer=_bytes_kept(answer, ANSWER_LIMIT, hide, longest, clean),
        )
        return kept, longest

    def _hider(self, query: Pairs, headers: Pairs) -> tuple[Hide, int, Clean]:
        """A function that masks every secret in a text (the known tokens, and the values this request sent
        under a secret name), the length of the longest, and a test that some bytes hold none of them. Most
        texts hold none: a substring test of the lower-cased text is much cheaper than the pattern over it."""
        found = {
            value.lower() for name, value in [*query, *headers] if len(value) >= SHORTEST_SECRET and secret_name(name)
        }
        if found <= self._known:
            return self._default
        return _hider_of(_longest_first({*self.secrets, *found}))


def _hider_of(secrets: list[str]) -> tuple[Hide, int, Clean]:
    """What masks ``secrets`` (longest first): see Masking._hider."""
    pattern = _alternation(secrets)
    if not secrets:
        return (lambda text: text), 0, lambda data: True

    shortest = len(secrets[-1])

    def hide(text: str) -> str:
        if len(text) < shortest:  # most texts (header names and values, paths): no secret fits in them
            return text
        lowered = text.lower()
        if any(secret in lowered for secret in secrets):
            return pattern.sub(lambda match: mask(match.group()), text)
        return text

    return hide, len(secrets[0]), _clean_test(secrets)


def _longest_first(secrets: set[str]) -> list[str]:
    return sorted(secrets, key=len, reverse=True)


def _alternation(secrets: list[str]) -> re.Pattern[str]:
    """One pattern for many secrets, the longest first (a secret inside another must not win)."""
    return re.compile("|".join(re.escape(secret) for secret in secrets) or "(?!)", re.IGNORECASE)


def _clean_test(secrets: list[str]) -> Clean:
    """Whether some bytes hold none of the secrets, tested on the bytes (lower-casing and searching bytes costs
    a fraction of decoding and lower-casing text: an answer is 2 KiB). Tokens are ASCII, whose case bytes
    lower; a secret that is not ASCII leaves the test to the text."""
    if not all(secret.isascii() for secret in secrets):
        return lambda data: False
    encoded = [secret.encode() for secret in secrets]

    def clean(data: bytes) -> bool:
        lowered = data.lower()
        return not any(secret in lowered for secret in encoded)

    return clean


def _bytes_kept(data: bytes, limit: int, hide: Hide, longest: int, clean: Clean) -> str | None:
    """A body as text, masked, then cut to ``limit`` bytes of UTF-8."""
    if not data:
        return None
    seen = data[: limit + 4 * longest]
    text = seen.decode("utf-8", "replace")
    shown = text if clean(seen) else hide(text)
    if len(data) <= limit:
        return shown
    return shown.encode()[:limit].decode("utf-8", "ignore")
