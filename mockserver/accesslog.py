"""The access log: one line per API request on stderr, as text or JSON, owned by one app.

Not the ``logging`` module's global loggers: two apps in one process (tests, the pytest plugin beside a
user's own app) each keep their own format, and neither silences the other. A path or a tenant is the client's
text: control characters are escaped (mockserver/printable.py), so that a request cannot forge a line.
"""

from __future__ import annotations

import sys
from typing import Any

from mockserver.printable import json_line, printable


class AccessLog:
    def __init__(self, fmt: str) -> None:
        self.fmt = fmt

    @property
    def enabled(self) -> bool:
        return self.fmt != "off"

    def write(self, fields: dict[str, Any]) -> None:
        if self.fmt == "json":
            line = json_line(fields)
        else:
            extra = "".join(f" {key}={fields[key]}" for key in ("fault", "rule_id") if fields.get(key) is not None)
            text = "{method} {path} {status} {error_code} {duration_ms:.2f}ms tenant={tenant}".format(**fields)
            line = printable(text + extra)
        # Whatever sys.stderr is at the time: test runners swap it.
        print(line, file=sys.stderr, flush=True)
