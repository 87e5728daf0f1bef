"""The documentation runs as written: every shell, Python, JavaScript and PHP block of README.md and docs/*.md
is executed against a real ``tap4book-mock serve``, once on the real clock and once on a frozen one.

How a block is read:

* ``#=> text`` at the end of a line (``//=>`` in JavaScript and PHP) is a promise: ``text`` must appear in the
  block's output, after the previous promise's text. A block without promises must still exit 0.
* ``<!-- docs-test: skip REASON -->`` on the line before a block leaves it out, saying why (it installs
  software, or starts a server of its own). Keep such blocks rare.
* The README's address ``http://127.0.0.1:8080`` is replaced by the test server's; ``S``, ``T`` (the
  ``Access-Token:`` header of the default account) and ``J`` (the JSON content type header) are set, as the
  README's first example sets them; the project's venv is first on the PATH, as after ``source
  .venv/bin/activate``. The sandbox is reset between blocks (data, rules, journal, clock).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DEFAULT_TOKEN
from server import running

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_URL = "http://127.0.0.1:8080"
RUNNERS = {"sh": "bash", "bash": "bash", "shell": "bash", "python": "python", "javascript": "node", "php": "php"}
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s+(?P<why>.+?)\s*-->")
PROMISE = re.compile(r"(?:#|//)=>\s*(?P<text>.+?)\s*$")
CLOCKS = {"real-clock": None, "documentation-clock": "2025-06-07T15:30:00+02:00"}

pytestmark = [pytest.mark.slow, pytest.mark.docs]


@dataclass(frozen=True)
class Block:
    document: Path
    line: int
    language: str
    code: str
    skip: str | None

    @property
    def name(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"

    @property
    def promises(self) -> list[str]:
        found = []
        for line in self.code.splitlines():
            match = PROMISE.search(line)
            if match:
                found.append(match["text"])
        return found


def blocks(document: Path) -> list[Block]:
    """The runnable fenced blocks of a Markdown file, with the skip marker on the line before each."""
    found = []
    lines = document.read_text(encoding="utf-8").splitlines()
    number = 0
    while number < len(lines):
        fence = re.match(r"^```(\w+)\s*$", lines[number])
        if not fence:
            number += 1
            continue
        end = next(i for i in range(number + 1, len(lines)) if lines[i].startswith("```"))
        language = fence.group(1)
        previous = lines[number - 1] if number else ""
        skip = SKIP.search(previous)
        if language in RUNNERS:
            code = "\n".join(lines[number + 1 : end]) + "\n"
            found.append(Block(document, number + 1, language, code, skip["why"] if skip else None))
        number = end + 1
    return found


ALL = [block for document in DOCUMENTS for block in blocks(document)]


@pytest.fixture(scope="module", params=list(CLOCKS), ids=list(CLOCKS))
def sandbox(request: pytest.FixtureRequest) -> Iterator[str]:
    now = CLOCKS[request.param]
    args = ["--now", now] if now else ["--now", "real"]
    with running(*args) as (_process, url):
        yield url


def _control(url: str, path: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 200


def _run(block: Block, url: str) -> subprocess.CompletedProcess[str]:
    code = block.code.replace(README_URL, url)
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("T4B_")},
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        "VIRTUAL_ENV": str(Path(venv_bin).parent),
        "S": url,
        "T": f"Access-Token: {DEFAULT_TOKEN}",
        "J": "Content-Type: application/json",
        "T4B_URL": url,
        "API_BASE": url + "/api",
    }
    runner = RUNNERS[block.language]
    if shutil.which(runner if runner != "python" else sys.executable) is None:
        pytest.skip(f"{runner} is not installed")
    with tempfile.TemporaryDirectory(prefix="docs-block-") as work:
        if runner == "bash":
            command = ["bash", "-c", "set -euo pipefail\n" + code]
        elif runner == "python":
            command = [sys.executable, "-c", code]
        elif runner == "node":
            command = ["node", "--input-type=module", "-e", code]
        else:
            script = Path(work) / "block.php"
            script.write_text(code, encoding="utf-8")
            command = ["php", str(script)]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=work, env=env)


@pytest.mark.parametrize("block", ALL, ids=[block.name for block in ALL])
def test_the_block_runs_and_keeps_its_promises(block: Block, sandbox: str) -> None:
    if block.skip:
        pytest.skip(block.skip)
    if block.language == "bash" or block.language in ("sh", "shell"):
        for tool in ("curl", "jq"):
            if shutil.which(tool) is None:
                pytest.skip(f"{tool} is not installed (.ci/run installs it)")
    try:
        result = _run(block, sandbox)
    finally:
        _control(sandbox, "/__mock/reset", {"keep_clock": False})
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{block.name} exited {result.returncode}:\n{output[-3000:]}"
    position = 0
    for promise in block.promises:
        found = output.find(promise, position)
        assert found >= 0, f"{block.name} promised {promise!r}, not in the output (after the last):\n{output[-3000:]}"
        position = found + len(promise)


def test_every_document_has_runnable_examples_and_few_skips() -> None:
    runnable = [block for block in ALL if not block.skip]
    assert len(runnable) >= 20
    assert len([block for block in ALL if block.skip]) <= len(runnable) // 2, "keep skipped blocks rare"


def test_a_promise_that_is_not_kept_fails(sandbox: str) -> None:
    """The runner itself: removing the line that prints a promised value makes the block fail."""
    good = Block(ROOT / "README.md", 0, "sh", 'curl -s "$S/api/health" | jq -r .data.status   #=> healthy\n', None)
    assert "healthy" in _run(good, sandbox).stdout
    broken = Block(ROOT / "README.md", 0, "sh", "true   #=> healthy\n", None)
    with pytest.raises(AssertionError, match="promised 'healthy'"):
        output = _run(broken, sandbox).stdout
        assert output.find("healthy") >= 0, f"{broken.name} promised 'healthy'"
