"""The one syntax for picking a value out of a JSON body and comparing it, shared by rules (``match_body``,
``match_headers``) and the journal's ``body.<path>=`` filter, so that a test writes the same thing in both.

* A path is dot notation: ``client_email``, ``items.0.name``. A segment of ASCII digits indexes an array (and
  is an ordinary key in an object); there is no escape, so a key holding a dot cannot be reached.
* An expected value is an exact JSON value (``1`` equals ``1.0``, never ``true``; arrays and objects compare
  whole), except a string, which is a glob for a string: ``*`` any run of characters, ``?`` one, every other
  character literal (``[`` included), case-sensitive.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

MAX_PATH = 200
MAX_SEGMENTS = 32
#: What ``lookup`` returns when the path leads nowhere (distinct from a JSON null).
MISSING = object()


def split(path: str) -> tuple[str, ...] | None:
    """The segments of a path, or None when it is not one (empty, an empty segment, too long)."""
    if not isinstance(path, str) or not path or len(path) > MAX_PATH:
        return None
    segments = tuple(path.split("."))
    if len(segments) > MAX_SEGMENTS or any(not segment for segment in segments):
        return None
    return segments


def lookup(document: Any, segments: tuple[str, ...]) -> Any:
    """The value at the path, or MISSING."""
    value = document
    for segment in segments:
        if isinstance(value, dict):
            if segment not in value:
                return MISSING
            value = value[segment]
        elif isinstance(value, list) and segment.isascii() and segment.isdigit():
            index = int(segment)
            if index >= len(value):
                return MISSING
            value = value[index]
        else:
            return MISSING
    return value


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    parts = ("." if char == "?" else ".*" if char == "*" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), re.DOTALL)


def glob(pattern: str, text: str) -> bool:
    """``*`` and ``?`` wildcards, the rest literal, the whole text."""
    if "*" not in pattern and "?" not in pattern:
        return pattern == text
    return _glob(pattern).fullmatch(text) is not None


def _kind(value: Any) -> str:
    if value is None or isinstance(value, bool | str | list | dict):
        return type(value).__name__
    return "number"


def equal(expected: Any, actual: Any) -> bool:
    """JSON equality: same kind (a boolean is not a number), numbers by value, containers element by element."""
    if _kind(expected) != _kind(actual):
        return False
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(equal(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, dict):
        return expected.keys() == actual.keys() and all(equal(value, actual[key]) for key, value in expected.items())
    return bool(expected == actual)


def matches(expected: Any, actual: Any) -> bool:
    """Whether a value found at a path (or MISSING) is what a rule or filter expects."""
    if actual is MISSING:
        return False
    if isinstance(expected, str):
        return isinstance(actual, str) and glob(expected, actual)
    return equal(expected, actual)
