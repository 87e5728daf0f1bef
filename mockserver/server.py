"""Serving the app with gunicorn, from our own command line.

The listening socket is bound here, before gunicorn starts, so that a port in use fails at once with a
clear message (gunicorn alone would retry for seconds) and ``--port 0`` gets a free port we can report.
The app is built in the master before the workers fork (``preload_app``): the dataset is generated once,
and the ready line is printed only when it exists and the workers are serving.
"""

from __future__ import annotations

import gc
import json
import os
import socket
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

READY_EVENT = "ready"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or OSError (port in use, address not available) for the caller to report."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


#: What to open in a browser for a server listening on every address.
_OPENABLE = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def ready_line(sock: socket.socket, workers: int, threads: int) -> str:
    host, port = sock.getsockname()[:2]
    openable = _OPENABLE.get(host, host)
    shown = f"[{openable}]" if ":" in openable else openable
    return json.dumps(
        {
            "event": READY_EVENT,
            "url": f"http://{shown}:{port}",
            "host": host,
            "port": port,
            "workers": workers,
            "threads": threads,
        }
    )


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def announce(line: str, ready_file: str | None) -> None:
    """Print the ready line, and write it to ``ready_file`` (atomically) for `tap4book-mock health`."""
    if ready_file:
        target = Path(ready_file)
        scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        scratch.write_text(line + "\n", encoding="utf-8")
        os.replace(scratch, target)
    print(line, flush=True)


def serve(app: Flask, sock: socket.socket, workers: int, threads: int, ready_file: str | None = None) -> None:
    """Run until SIGINT/SIGTERM; print the ready line on stdout once the socket listens and data is loaded.

    Gunicorn calls ``when_ready`` after the preloaded app exists and just before it forks the workers;
    a request arriving in between waits in the socket's backlog, it is not refused.
    """
    line = ready_line(sock, workers, threads)  # gunicorn takes the descriptor over: read the port now
    options = {
        "bind": [f"fd://{sock.fileno()}"],
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "preload_app": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "keepalive": 5,
        "timeout": 120,
        "graceful_timeout": 5,
        "control_socket_disable": True,
        "when_ready": lambda _server: announce(line, ready_file),
    }
    # Objects built before the fork stay shared with the workers only if nothing writes to their pages;
    # the collector would (it tracks every object), so it leaves the pre-fork heap alone.
    gc.collect()
    gc.freeze()
    gc.enable()
    _Gunicorn(app, options).run()
