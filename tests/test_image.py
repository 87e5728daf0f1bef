"""The image's recipe (Dockerfile, .dockerignore, constraints.txt), read and run without a container engine.

No container engine runs here (docs/ci.md says so): hadolint lints the Dockerfile (tests/test_tools.py), these
tests read what Kubernetes and a licence audit read, and the last one runs the Dockerfile's own build and install
steps in a scratch folder and serves from the result.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _instructions(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in DOCKERFILE.splitlines() if line.startswith(name + " ")]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def test_the_image_runs_as_a_numeric_user() -> None:
    """Kubernetes' runAsNonRoot cannot check a user name (USER sandbox) without reading the image's passwd."""
    assert [re.fullmatch(r"\d+(:\d+)?", user) is not None for user in _instructions("USER")] == [True]
    assert int(_instructions("USER")[0].split(":")[0]) != 0


def test_the_wheel_is_built_with_the_licence() -> None:
    """pyproject.toml's license-files names LICENSE: without it in the build stage the wheel has no licence."""
    copied = " ".join(_instructions("COPY"))
    assert re.search(r"\bLICENSE\b", copied)
    assert "!LICENSE" in (ROOT / ".dockerignore").read_text().splitlines(), "the build context must hold it"


def test_the_base_is_pinned_to_a_patch_release_and_pip_too() -> None:
    bases = _instructions("FROM")
    assert len(bases) == 2
    for base in bases:
        assert re.match(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?( AS \w+)?$", base), base
    assert "docker buildx imagetools inspect" in DOCKERFILE, "say how to look up and refresh the digest"
    assert re.search(r"pip install --no-cache-dir pip==\d+\.\d+", DOCKERFILE)


def test_the_health_check_probes_every_second_while_starting() -> None:
    (check,) = _instructions("HEALTHCHECK")
    assert "--start-interval=1s" in check and check.endswith('CMD ["tap4book-mock", "health"]')


def test_constraints_pin_every_runtime_dependency_within_the_declared_ranges() -> None:
    """The image and .ci/run install these exact versions: each must satisfy pyproject.toml's range, and the
    dependencies of dependencies must be pinned too (else the image floats under a pinned top level)."""
    pins = _pins()
    declared = [
        Requirement(text) for text in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    ]
    closure: set[str] = set()
    todo = [requirement.name for requirement in declared]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in closure:
            continue
        closure.add(name)
        for text in distribution(name).requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    assert closure - set(pins) == set(), "runtime dependencies without a pin in constraints.txt"
    for requirement in declared:
        assert requirement.specifier.contains(pins[canonicalize_name(requirement.name)]), requirement
    assert "--constraint /tmp/constraints.txt" in DOCKERFILE
    assert 'PIP_CONSTRAINT="$PWD/constraints.txt"' in (ROOT / ".ci" / "run").read_text(), "CI: the image's versions"


def _context(target: Path) -> None:
    """The build context .dockerignore lets through (its allow-list form: `*`, then `!name` lines)."""
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*", ".dockerignore is an allow-list"
    for line in lines[1:]:
        if line.startswith("!"):
            source = ROOT / line[1:].rstrip("/")
            if source.is_dir():
                shutil.copytree(source, target / source.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, target / source.name)


@pytest.mark.slow
def test_the_images_steps_build_and_install_a_server_that_answers(tmp_path: Path) -> None:
    """The Dockerfile's RUN lines, outside a container: build the wheels under PIP_CONSTRAINT from the context
    .dockerignore allows, install offline from them, and serve."""
    context = tmp_path / "src"
    context.mkdir()
    _context(context)
    env = {**os.environ, "PIP_CONSTRAINT": str(context / "constraints.txt"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    builder, image = tmp_path / "build-venv", tmp_path / "image-venv"
    for venv in (builder, image):
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [str(builder / "bin" / "pip"), "wheel", "-q", "--no-cache-dir", "--wheel-dir", str(wheels), "."],
        cwd=context,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if built.returncode != 0 and "Could not find a version" in built.stderr + built.stdout:
        pytest.skip(f"PyPI cannot be reached from here, the image's build step needs it: {built.stderr[-300:]}")
    assert built.returncode == 0, built.stderr[-3000:]
    env.pop("PIP_CONSTRAINT")
    subprocess.run(
        [
            *(str(image / "bin" / "pip"), "install", "-q", "--no-cache-dir", "--no-index", "--find-links", str(wheels)),
            *("--constraint", str(context / "constraints.txt"), "tap4book-mockserver"),
        ],
        env=env,
        check=True,
        timeout=300,
    )
    installed = subprocess.run(
        [str(image / "bin" / "python"), "-c", "import importlib.metadata as m; print(m.version('flask'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert installed.stdout.strip() == _pins()["flask"]
    licence = list((image / "lib").glob("python3*/site-packages/tap4book_mockserver-*.dist-info/licenses/LICENSE"))
    assert licence and licence[0].read_text() == (ROOT / "LICENSE").read_text()
    answered = subprocess.run(
        [str(image / "bin" / "python"), "-c", _SERVE_AND_PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={name: value for name, value in env.items() if not name.startswith("T4B_")},
    )
    assert answered.returncode == 0 and answered.stdout.split()[-1] == "200", answered.stdout + answered.stderr


# Starts the installed server on a free port, waits for its ready line, asks /__mock/ready and the Postman
# collection (a file the wheel must carry), stops it.
_SERVE_AND_PROBE = """
import json, subprocess, sys, urllib.request
server = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "serve", "--port", "0", "--log-format", "off"],
                          stdout=subprocess.PIPE, text=True)
try:
    line = server.stdout.readline()
    while line and not line.startswith("{"):  # "" at the end of the output: the server died, say so
        line = server.stdout.readline()
    if not line:
        sys.exit("the server exited before its ready line")
    url = json.loads(line)["url"].rstrip("/")
    print(json.load(urllib.request.urlopen(url + "/__mock/ready"))["data"]["ready"])
    print(urllib.request.urlopen(url + "/__mock/postman.json").status)
finally:
    server.terminate()
    server.wait(30)
"""
