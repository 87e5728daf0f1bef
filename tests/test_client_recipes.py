"""The client recipes in docs/examples run as printed against a real sandbox."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from server import running

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_base():
    with running() as (_, url):
        yield f"{url}/api"


def _run(command: list[str], api_base: str) -> str:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env={**os.environ, "API_BASE": api_base}
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_python_requests_recipe(api_base):
    pytest.importorskip("requests")
    out = _run([sys.executable, str(EXAMPLES / "client_requests.py")], api_base)
    assert "API: operational" in out
    assert "Réservé:" in out or "Refusé: MISSING_REQUIRED_FIELD" in out


def test_python_httpx_recipe(api_base):
    pytest.importorskip("httpx")
    out = _run([sys.executable, str(EXAMPLES / "client_httpx.py")], api_base)
    assert "Lignes exportées:" in out and "Erreur: 400 MISSING_CALENDAR_ID" in out


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_documentation_javascript_recipe(api_base):
    out = _run(["node", str(EXAMPLES / "client.js")], api_base)
    assert "Calendriers: 5" in out and "Clients trouvés: 1" in out


@pytest.mark.skipif(shutil.which("php") is None, reason="PHP is not installed")
def test_documentation_php_recipe(api_base):
    out = _run(["php", str(EXAMPLES / "client.php")], api_base)
    assert "Nombre de calendriers: 5" in out and "Clients trouvés: 1" in out
