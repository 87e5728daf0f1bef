"""Serving the app with granian (a Rust HTTP/1.1 server with a WSGI interface), from our own command line.

Chosen by measurement over gunicorn (sync and threaded), waitress, uvicorn and granian's other settings
(bench/README.md#serving-stack): keep-alive, slow clients that cannot hold a worker, delays and streams that
do not stall other requests, and the least memory.

* The listening socket is bound here, before granian starts: a port in use fails at once with a clear
  message, ``--port 0`` gets a free port we can report. TCP_NODELAY is set on it because accepted sockets
  inherit it on Linux and granian streams every Flask response (an iterator): without it each answer
  waits for the client's delayed ACK (40 ms).
* The app is built before any worker exists. With one worker (the default) there is no master: this
  process is the worker (one process, no fork). With N workers the master forks them (fork start method,
  forced: Python 3.14 defaults to forkserver on Linux and granian would then spawn, rebuilding the app);
  each worker gets its own SO_REUSEPORT listener, all bound and listening before the first fork, so the
  kernel balances connections and a connection that arrives early waits in a backlog (never refused).
* The ready line is printed once every worker has its app and enters granian's serve loop.
* Granian's WSGI adapter copies ``os.environ`` into every request's environ (an ``HTTP_X`` variable of
  the server's environment appears to the app as a request header ``X``): we use our own adapter.
* The app runs under ``requestlock`` (one request at a time runs Python; sleeps and slow uploads do not
  hold the lock): threads serve delays and streams, the GIL is not fought over. See that module.
* Worker crashes (a native crash, ``os._exit``) respawn the worker (N > 1; with one worker there is no
  supervisor: the process exits non-zero). SIGTERM/SIGINT stop gracefully: in-flight requests finish,
  streams are cut after ``KILL_TIMEOUT`` seconds.

Private granian APIs used (pinned ``granian>=2.8,<2.9``; tests/test_server_stack.py would catch a change):
``granian._granian.SocketHolder``, ``MPServer._spawn_wsgi_worker`` and its argument order,
``granian.server.mp._wsgi_call_wrap`` (replaced), ``AbstractServer._init_shared_socket`` / ``_spawn_worker``.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import Flask

from mockserver import requestlock
from mockserver.storagemode import StorageMode


def storage(workers: int) -> StorageMode:
    """How the stores of the app this module serves keep their connections: one request at a time per process;
    with one worker, that process is the only writer of its databases (--data-dir is locked against others)."""
    return replace(requestlock.SERIALIZED, sole_writer=workers == 1)


READY_EVENT = "ready"
HEADER_READ_TIMEOUT_MS = 10_000  # a client has 10 s to send a request's headers (granian's default: 30 s)
KILL_TIMEOUT = 5  # seconds in-flight requests and streams get at shutdown before the process exits anyway
BACKLOG = 2048
SWITCH_INTERVAL = 0.0001  # seconds; see serve()
MAX_CONNECTIONS = 4096  # per worker: granian's "backpressure" caps open connections (idle ones included)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or OSError (port in use, address not available) for the caller to report."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets (see above)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
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


def announce(line: str, ready_file: str | None) -> None:
    """Print the ready line, and write it to ``ready_file`` (atomically) for `tap4book-mock health`."""
    if ready_file:
        target = Path(ready_file)
        scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        scratch.write_text(line + "\n", encoding="utf-8")
        os.replace(scratch, target)
    print(line, flush=True)


def _wsgi_adapter(callback: Any, scope_opts: dict[str, Any], access_log_fmt: Any = None) -> Any:
    """Granian's WSGI glue (granian/wsgi.py) without ``os.environ`` in every request's environ."""
    from granian.wsgi import ResponseIterWrap

    base = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SCRIPT_NAME": "",
        "SERVER_SOFTWARE": "tap4book-mock (granian)",
        "wsgi.errors": sys.stderr,
        "wsgi.input_terminated": True,
        "wsgi.multiprocess": False,
        "wsgi.multithread": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        "tap4book.server": "granian",  # faults that act on the connection know they can (netfaults.py)
    }

    def runner(proto: Any, scope: dict[str, Any]) -> int:
        state: list[Any] = [200, []]

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            state[0] = int(status.split(" ", 1)[0])
            state[1] = headers

        environ = base | scope
        rv = callback(environ, start_response)
        if isinstance(rv, list):
            proto.response_bytes(state[0], state[1], b"".join(rv))
        else:
            proto.response_iter(state[0], state[1], ResponseIterWrap(rv))
        # The answer is on its way; a body read still pending (a body that timed out) must end before we return:
        # granian then takes the body's lock while holding the GIL, which would stop the whole process.
        requestlock.finish_body_read(environ)
        return state[0]

    return runner


def _reuseport_listeners(sock: socket.socket, count: int) -> list[socket.socket]:
    """``count`` SO_REUSEPORT listeners on sock's port; sock (bound without it) proved the port was free."""
    host, port = sock.getsockname()[:2]
    family = sock.family
    sock.close()  # the port is unbound from here to the next bind: microseconds, in this process
    listeners = []
    for _ in range(count):
        one = socket.socket(family, socket.SOCK_STREAM)
        one.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        one.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        one.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        one.bind((host, port))
        one.listen(BACKLOG)
        one.set_inheritable(True)
        listeners.append(one)
    return listeners


class _IntendedThreads(logging.Filter):
    """Granian (with N workers) warns on every start that more threads than twice the cores "seems quite high".
    Ours are meant: they sleep through delays and hold streams, while requestlock runs one request at a time."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Python threads, which seems quite high" not in record.getMessage()


def _settings(threads: int) -> dict[str, Any]:
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    return {
        "target": "prebuilt",  # never imported: the loader returns our app
        "interface": Interfaces.WSGI,
        "blocking_threads": threads,
        "http": HTTPModes.http1,
        "websockets": False,
        "backlog": BACKLOG,
        "backpressure": MAX_CONNECTIONS,
        "http1_settings": HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS, keep_alive=True),
        "log_level": LogLevels.warning,
        "log_dictconfig": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"plain": {"()": "logging.Formatter", "fmt": "granian %(levelname)s: %(message)s"}},
            "filters": {"intended_threads": {"()": _IntendedThreads}},
            "handlers": {
                "stderr": {"formatter": "plain", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
            },
            "loggers": {
                "_granian": {
                    "handlers": ["stderr"],
                    "level": "WARNING",
                    "propagate": False,
                    "filters": ["intended_threads"],
                },
                "granian.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            },
        },
        "respawn_failed_workers": True,
        "respawn_interval": 0.5,
        "workers_kill_timeout": KILL_TIMEOUT,
    }


def serve(
    app: Flask,
    sock: socket.socket,
    workers: int,
    threads: int,
    ready_file: str | None = None,
    cpu_affinity: str = "auto",
) -> None:
    """Run until SIGINT/SIGTERM; print the ready line on stdout once every worker is about to serve."""
    import granian.server.mp as granian_mp

    line = ready_line(sock, workers, threads)
    granian_mp._wsgi_call_wrap = _wsgi_adapter  # our environ (see the module docstring)
    pipeline = app.wsgi_app  # its body limits: PUT /__mock/dataset's, --max-body-bytes for the rest
    config = pipeline.sandbox.config
    wsgi = requestlock.wrap(
        app,
        lambda environ: pipeline.body_limit(environ.get("PATH_INFO") or ""),
        cpu_affinity,
        threads=threads,
        body_timeout=config.body_timeout,
    )
    # Objects built before the fork stay shared with the workers only if nothing writes to their pages;
    # the collector would (it tracks every object), so it leaves the pre-fork heap alone.
    gc.collect()
    gc.freeze()
    gc.enable()
    # The app runs one request at a time under the request lock, on one of many threads. A cached answer
    # never blocks (no SQLite call releases the GIL), so the thread that ran it kept the GIL for the default
    # 5 ms switch interval while the next request's thread waited for it: p99 60-75 ms at 16 connections
    # (bench/run.sh). 100 us: p99 3 ms, the same throughput. Inherited by forked workers.
    sys.setswitchinterval(SWITCH_INTERVAL)
    if workers == 1:
        _serve_here(wsgi, sock, threads, lambda: announce(line, ready_file))
    else:
        _serve_forked(wsgi, sock, workers, threads, lambda: announce(line, ready_file))


def _exit_after_grace() -> None:
    """On SIGINT/SIGTERM: granian stops accepting and lets in-flight requests finish; a stream that does
    not end within KILL_TIMEOUT would keep the process alive, so it exits then (status 0: asked to stop)."""
    timer = threading.Timer(KILL_TIMEOUT, lambda: os._exit(0))
    timer.daemon = True
    timer.start()


def _serve_here(wsgi: Any, sock: socket.socket, threads: int, ready: Any) -> None:
    """One worker and no master: granian's worker body runs in this process."""
    import granian._signals as granian_signals
    from granian._granian import SocketHolder
    from granian._loops import loops
    from granian.constants import RuntimeModes
    from granian.log import configure_logging
    from granian.server.mp import MPServer

    make_signals = granian_signals.set_sync_signals

    def with_grace() -> Any:
        event = make_signals()
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)

            def handler(signum: int, frame: Any, previous: Any = previous) -> None:
                _exit_after_grace()
                previous(signum, frame)

            signal.signal(sig, handler)
        return event

    granian_signals.set_sync_signals = with_grace
    server = MPServer(workers=1, **_settings(threads))  # resolves granian's defaults as for its own workers
    configure_logging(server.log_level, server.log_config, server.log_enabled)
    holder = SocketHolder(sock.fileno(), False, BACKLOG)
    body = MPServer._spawn_wsgi_worker.__wrapped__  # the worker's body, without the subprocess wrapper
    ready()
    body(
        1, wsgi, (None, holder), None, loops.get(server.loop),
        RuntimeModes.mt, server.runtime_threads, server.runtime_blocking_threads,
        server.blocking_threads, server.blocking_threads_idle_timeout, server.backpressure,
        server.task_impl, server.http, server.http1_settings, server.http2_settings, False, None,
        None, server.ssl_ctx, {"url_path_prefix": None}, (None, None),
    )  # fmt: skip


def _serve_forked(wsgi: Any, sock: socket.socket, workers: int, threads: int, ready: Any) -> None:
    from granian._granian import SocketHolder
    from granian.server.mp import MPServer

    listeners = _reuseport_listeners(sock, workers)
    ready_r, ready_w = os.pipe()

    class Server(MPServer):  # type: ignore[misc]
        def _init_shared_socket(self) -> None:
            self._ssp, self._shd, self._sfd, self._sso = None, None, None, None

        def _drop_shared_socket(self) -> None:
            pass  # ours: closed when this process exits

        def _spawn_worker(self, idx: int, target: Any, callback_loader: Any) -> Any:
            requestlock.set_worker(idx)  # the forked child keeps this value: its CPU
            mine = listeners[idx]
            self._shd = SocketHolder(mine.fileno(), False, BACKLOG)
            self._sso = mine
            return super()._spawn_worker(idx, target, callback_loader)

    def loader() -> Any:  # in each worker, after the fork, just before it serves
        os.write(ready_w, b"1")
        return wsgi

    def watch() -> None:
        seen = 0
        while True:
            got = os.read(ready_r, 64)
            if not got:
                return
            seen += len(got)
            if seen == workers:
                ready()  # respawned workers write again later: read and ignored

    multiprocessing.set_start_method("fork", force=True)
    threading.Thread(target=watch, daemon=True).start()
    Server(workers=workers, **_settings(threads)).serve(target_loader=loader, wrap_loader=False)
