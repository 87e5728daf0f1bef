"""Text for terminals and logs: every control character escaped, so that nothing a client sends can start a
line of its own or reach a terminal as an escape sequence (``GET /api/x%0aFAKE%1b]0;owned%07``).

Escaped: C0 and C1 controls and DEL (``\\n`` becomes ``\\x0a``), the Unicode line and paragraph separators, and
the bidirectional overrides that reorder what a terminal shows. Everything else, accents included, stays.
"""

from __future__ import annotations

import json
import re
from typing import Any

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """The text with its control characters written as ``\\xNN`` or ``\\uNNNN``."""
    return _UNSAFE.sub(_escaped, text)


def json_line(value: Any) -> str:
    """One line of JSON, readable (no ASCII escaping) yet with no control character as such: JSON escapes the
    C0 controls itself; DEL, the C1 controls and the others are written as ``\\uNNNN`` too."""
    return _UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", json.dumps(value, ensure_ascii=False))


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
