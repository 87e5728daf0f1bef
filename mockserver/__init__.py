"""tap4book-mockserver: a deterministic, stateful sandbox of the TAP4BOOK booking API."""

from __future__ import annotations

from mockserver.app import create_app
from mockserver.version import API_VERSION, __version__, fixtures_path

__all__ = ["API_VERSION", "__version__", "create_app", "fixtures_path"]
