"""The package's version, the API version it reproduces, and where its shipped fixtures are.

A leaf module: every other module may import it, so that nothing needs to import the package itself.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"
API_VERSION = "1.0"


def fixtures_path(*parts: str) -> Path:
    """A file shipped in fixtures/: inside the installed package, or at the top of a source checkout."""
    packaged = Path(__file__).parent / "fixtures"
    base = packaged if packaged.is_dir() else Path(__file__).parent.parent / "fixtures"
    return base.joinpath(*parts)
