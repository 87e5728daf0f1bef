"""tap4book-mockserver: a deterministic, stateful sandbox of the TAP4BOOK booking API."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
API_VERSION = "1.0"

if TYPE_CHECKING:
    from flask import Flask


def fixtures_path(*parts: str) -> Path:
    """A file shipped in fixtures/: inside the installed package, or at the top of a source checkout."""
    packaged = Path(__file__).parent / "fixtures"
    base = packaged if packaged.is_dir() else Path(__file__).parent.parent / "fixtures"
    return base.joinpath(*parts)


def create_app(config: Any = None) -> Flask:
    """Build a sandbox application; ``config`` is a mapping of settings (see mockserver.config)."""
    from mockserver.app import create_app as _create_app

    return _create_app(config)


__all__ = ["API_VERSION", "__version__", "create_app", "fixtures_path"]
