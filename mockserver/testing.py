"""A sandbox server in a background thread, for test suites (the pytest plugin uses it).

It serves the real app on a real socket (port 0: a free one), with werkzeug's threaded server: no extra
process to manage, and faults that need a socket behave as under the real server only where noted in
docs/control-api.md. ``SandboxTenant`` is the handle a test uses: URL, token, HTTP calls and control operations
on its own tenant.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from mockserver.app import create_app
from mockserver.client import SandboxClient


class SandboxServer:
    """``with SandboxServer({"now": ...}) as server: server.url``"""

    def __init__(self, settings: Mapping[str, Any] | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.settings = {"log_format": "off", **(settings or {})}
        self.host, self.port = host, port
        self.app = create_app(self.settings)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox server is not started")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> SandboxServer:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request lines in test output
        self._server = make_server(self.host, self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="tap4book-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def default_token(self) -> str:
        return self.app.extensions["tap4book"].accounts.default.token


class SandboxTenant(SandboxClient):
    """What a test gets: a client bound to one tenant of a running sandbox, plus its URL and token."""

    def __init__(self, url: str, token: str, tenant: str | None = None, admin_token: str | None = None) -> None:
        super().__init__(url, token=token, tenant=tenant, admin_token=admin_token)

    @property
    def headers(self) -> dict[str, str]:
        """The headers your own HTTP client should send to land in this test's tenant."""
        return self.identity_headers()
