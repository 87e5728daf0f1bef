"""The access log: one line per API request on stderr, as text or JSON, owned by one app.

Not the ``logging`` module's global loggers: two apps in one process (tests, the pytest plugin beside a
user's own app) each keep their own format, and neither silences the other.
"""

from __future__ import annotations

import json
import sys
from typing import Any


class AccessLog:
    def __init__(self, fmt: str) -> None:
        self.fmt = fmt

    @property
    def enabled(self) -> bool:
        return self.fmt != "off"

    def write(self, fields: dict[str, Any]) -> None:
        if self.fmt == "json":
            line = json.dumps(fields, ensure_ascii=False)
        else:
            extra = "".join(f" {key}={fields[key]}" for key in ("fault", "rule_id") if fields.get(key) is not None)
            line = "{method} {path} {status} {error_code} {duration_ms:.2f}ms tenant={tenant}".format(**fields) + extra
        # Whatever sys.stderr is at the time: test runners swap it.
        print(line, file=sys.stderr, flush=True)
