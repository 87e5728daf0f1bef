"""tap4book-mockserver: a deterministic, stateful sandbox of the TAP4BOOK booking API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockserver.version import API_VERSION, __version__, fixtures_path

if TYPE_CHECKING:
    from mockserver.app import create_app

__all__ = ["API_VERSION", "__version__", "create_app", "fixtures_path"]


def __getattr__(name: str) -> Any:
    # Flask only when the app is asked for: `tap4book-mock health` (a container's health check, run every few
    # seconds), `token`, `tail` and `probe` import this package without needing it.
    if name == "create_app":
        from mockserver.app import create_app

        return create_app
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
