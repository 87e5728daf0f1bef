"""Read the code blocks of a Markdown document and run them in order, as a reader does: every shell block in one
bash (variables, the working directory and background jobs carry from block to block), every other block in a
process of its own, all against one server and in one working directory, with nothing reset in between.

How a block is read:

* ``#=> text`` at the end of a line (``//=>`` in JavaScript and PHP) is a promise: ``text`` must appear in the
  block's output, after the previous promise's text. A block without promises must still succeed.
* ``<!-- docs-test: skip REASON -->`` on the line before a block leaves it out, saying why (it installs
  software, or starts a server of its own). Keep such blocks rare: the blocks after it run without it.
* The README's address ``http://127.0.0.1:8080`` is replaced by the test server's.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_URL = "http://127.0.0.1:8080"
RUNNERS = {"sh": "bash", "bash": "bash", "shell": "bash", "python": "python", "javascript": "node", "php": "php"}
#: Programs the shell examples use that a fresh machine may lack (.ci/run installs curl and jq).
SHELL_TOOLS = ("curl", "jq", "openssl")
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s+(?P<why>.+?)\s*-->")
PROMISE = re.compile(r"(?:#|//)=>\s*(?P<text>.+?)\s*$")
#: Seconds one block may take; the slowest (a probe run, a server started in the background) take a few.
BLOCK_TIMEOUT = 120.0


@dataclass(frozen=True)
class Block:
    document: Path
    line: int
    language: str
    code: str
    skip: str | None

    @property
    def name(self) -> str:
        where = self.document.relative_to(ROOT) if self.document.is_relative_to(ROOT) else self.document.name
        return f"{where}:{self.line}"

    @property
    def runner(self) -> str:
        return RUNNERS[self.language]

    @property
    def promises(self) -> list[str]:
        return [match["text"] for line in self.code.splitlines() if (match := PROMISE.search(line))]

    def missing_tool(self) -> str | None:
        """The program this machine lacks to run the block, if any: its runner, and for a shell block the
        tools of SHELL_TOOLS it names."""
        if self.runner == "python":
            return None
        needed = [self.runner]
        if self.runner == "bash":
            needed += [tool for tool in SHELL_TOOLS if re.search(rf"\b{tool}\b", self.code)]
        return next((tool for tool in needed if shutil.which(tool) is None), None)


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
        skip = SKIP.search(lines[number - 1]) if number else None
        if language in RUNNERS:
            code = "\n".join(lines[number + 1 : end]) + "\n"
            found.append(Block(document, number + 1, language, code, skip["why"] if skip else None))
        number = end + 1
    return found


def broken_promise(block: Block, output: str) -> str | None:
    """The first promise of the block that its output does not keep (each after the one before), or None."""
    position = 0
    for promise in block.promises:
        found = output.find(promise, position)
        if found < 0:
            return promise
        position = found + len(promise)
    return None


class Shell:
    """One bash for a whole document, as a reader's terminal. It runs ``set -euo pipefail`` first, so that a
    failing command ends its block with its status (and the shell with it: the blocks after it cannot run)."""

    def __init__(self, cwd: Path, scripts: Path, env: dict[str, str]) -> None:
        self._scripts = scripts
        # A session of its own, so that close() also ends what a block left running in the background.
        self._process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        self._count = 0
        self._send("set -euo pipefail\n")

    def run(self, code: str) -> tuple[int, str]:
        """Source ``code`` in the shell (its standard input is /dev/null, as a pasted block's would not be the
        terminal's next lines); returns its status and output (stderr included)."""
        self._count += 1
        script = self._scripts / f"{self._count}.sh"
        script.write_text(code, encoding="utf-8")
        marker = f"--- block {uuid.uuid4().hex} ended:"
        if not self._send(f"source {shlex.quote(str(script))} </dev/null\nprintf '\\n{marker} %d\\n' $?\n"):
            return self._ended(b"")
        assert self._process.stdout is not None
        descriptor = self._process.stdout.fileno()
        output = bytearray()
        deadline = time.monotonic() + BLOCK_TIMEOUT
        ending = re.compile(rb"\n" + re.escape(marker.encode()) + rb" (\d+)\n")
        while time.monotonic() < deadline:
            if select.select([descriptor], [], [], 0.2)[0]:
                chunk = os.read(descriptor, 65536)
                output += chunk
                found = ending.search(output)
                if found:
                    return int(found[1]), output[: found.start()].decode("utf-8", "replace")
                if chunk:
                    continue
            if self._process.poll() is not None:
                return self._ended(output)
        self.close()
        return 124, output.decode("utf-8", "replace") + f"\n(no end after {BLOCK_TIMEOUT:.0f} s: stopped)"

    def close(self) -> None:
        if self._process.poll() is None and self._process.stdin is not None:
            self._send("exit\n")
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)  # background jobs of the shell's own session only
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()

    def _send(self, text: str) -> bool:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(text.encode())
            self._process.stdin.flush()
        except BrokenPipeError:
            return False
        return True

    def _ended(self, output: bytearray | bytes) -> tuple[int, str]:
        """The shell exited within the block: a command failed under ``set -e``."""
        status = self._process.wait()
        return status or 1, bytes(output).decode("utf-8", "replace") + f"\n(the shell exited with status {status})"


class Reader:
    """Runs the blocks of one document in order against one server, in one working directory (``place/work``;
    the blocks' own files go to ``place/blocks``, out of the reader's sight)."""

    def __init__(self, url: str, place: Path, env: dict[str, str]) -> None:
        self.url, self.env = url, env
        self.cwd, self._scripts = place / "work", place / "blocks"
        self.cwd.mkdir()
        self._scripts.mkdir()
        self._shell: Shell | None = None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._shell is not None:
            self._shell.close()

    def run(self, block: Block) -> tuple[int, str]:
        code = block.code.replace(README_URL, self.url)
        if block.runner == "bash":
            if self._shell is None:
                self._shell = Shell(self.cwd, self._scripts, self.env)
            return self._shell.run(code)
        if block.runner == "python":
            command = [sys.executable, "-c", code]
        elif block.runner == "node":
            command = ["node", "--input-type=module", "-e", code]
        else:
            script = self._scripts / f"{block.line}.php"
            script.write_text(code, encoding="utf-8")
            command = ["php", str(script)]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=BLOCK_TIMEOUT, cwd=self.cwd, env=self.env
            )
        except subprocess.TimeoutExpired as exc:
            parts = (exc.stdout, exc.stderr)
            said = b"".join(part if isinstance(part, bytes) else part.encode() for part in parts if part)
            return 124, said.decode("utf-8", "replace") + f"\n(no end after {BLOCK_TIMEOUT:.0f} s: stopped)"
        return result.returncode, result.stdout + result.stderr
