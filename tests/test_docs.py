"""The documentation runs as a reader runs it: the shell, Python, JavaScript and PHP blocks of README.md and of each
docs/*.md page, top to bottom, the shell blocks in one bash, against one fresh ``tap4book-mock serve`` per page
with nothing reset in between, once on the real clock and once on the documentation's (tests/docrunner.py says
how a block is read). A block that changes the sandbox cleans up after itself, or the blocks after it say so.

The README's shell starts as after ``source .venv/bin/activate`` (the project's venv first on the PATH) and sets
``S``, ``T`` and ``J`` itself; a docs/ page's starts with them set, as the README's first calls set them.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import configuration_table
import pytest
from conftest import DEFAULT_TOKEN
from docrunner import ROOT, Block, Reader, blocks, broken_promise
from server import running

pytestmark = pytest.mark.docs

README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]
CLOCKS = {"real-clock": "real", "documentation-clock": "2025-06-07T15:30:00+02:00"}
ALL = [block for document in DOCUMENTS for block in blocks(document)]
#: Documents with something to run, each run on both clocks.
RUNS = [(document, clock) for document in DOCUMENTS if any(not b.skip for b in blocks(document)) for clock in CLOCKS]


def _environment(document: Path, url: str) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("T4B_") and k not in ("S", "T", "J")}
    env.update(PATH=venv_bin + os.pathsep + env.get("PATH", ""), VIRTUAL_ENV=str(Path(venv_bin).parent))
    if document != README:
        env.update(S=url, T=f"Access-Token: {DEFAULT_TOKEN}", J="Content-Type: application/json")
    return env


def _check(block: Block, status: int, output: str, before: list[Block]) -> None:
    after = f" (run after {', '.join(b.name for b in before)})" if before else ""
    assert status == 0, f"{block.name} exited {status}{after}:\n{output[-3000:]}"
    promise = broken_promise(block, output)
    assert promise is None, f"{block.name} promised {promise!r}, not in its output{after}:\n{output[-3000:]}"


def read_in_order(document: Path, url: str, place: Path) -> list[Block]:
    """Runs the document's blocks in order (those it skips, or that need a tool this machine lacks, left out)
    and checks each as it ends; returns the blocks it ran."""
    chosen = [block for block in blocks(document) if not block.skip and block.missing_tool() is None]
    with Reader(url, place, _environment(document, url)) as reader:
        for number, block in enumerate(chosen):
            _check(block, *reader.run(block), chosen[:number])
    return chosen


@pytest.mark.slow
@pytest.mark.parametrize(("document", "clock"), RUNS, ids=[f"{d.relative_to(ROOT)}-{clock}" for d, clock in RUNS])
def test_the_document_runs_in_order_and_keeps_its_promises(document: Path, clock: str, tmp_path: Path) -> None:
    with running("--now", CLOCKS[clock]) as (_process, url):
        ran = read_in_order(document, url, tmp_path)
    if not ran:
        pytest.skip(f"this machine lacks the tools of every block of {document.name}")


LEFT_OUT = [block for block in ALL if not block.skip and block.missing_tool()]
if LEFT_OUT:
    # Said per block, as a skip, so that a run on a machine without node or php shows what it did not check.
    @pytest.mark.parametrize("block", LEFT_OUT, ids=[block.name for block in LEFT_OUT])
    def test_a_block_this_machine_cannot_run(block: Block) -> None:
        pytest.skip(f"{block.missing_tool()} is not installed: the in-order run of {block.document.name} left it out")


def test_every_document_has_runnable_examples_and_few_skips() -> None:
    runnable = [block for block in ALL if not block.skip]
    assert len(runnable) >= 20
    assert len([block for block in ALL if block.skip]) <= len(runnable) // 2, "keep skipped blocks rare"


# -- the runner itself ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with running() as (_process, url):
        yield url


def _document(place: Path, *codes: str) -> Path:
    place.mkdir(exist_ok=True)
    page = place / "page.md"
    page.write_text("".join(f"Some prose.\n\n```sh\n{code}```\n\n" for code in codes), encoding="utf-8")
    return page


@pytest.mark.slow
def test_a_promise_that_is_not_kept_fails(sandbox: str, tmp_path: Path) -> None:
    good = _document(tmp_path / "good", 'curl -s "$S/api/health" | jq -r .data.status   #=> healthy\n')
    assert len(read_in_order(good, sandbox, tmp_path / "good")) == 1
    broken = _document(tmp_path / "broken", "true   #=> healthy\n")
    with pytest.raises(AssertionError, match=r"page.md:3 promised 'healthy'"):
        read_in_order(broken, sandbox, tmp_path / "broken")


@pytest.mark.slow
def test_blocks_share_one_shell_and_the_sandbox_keeps_what_a_block_changed(sandbox: str, tmp_path: Path) -> None:
    """What the reader sees: a variable, a file and a rule of one block are still there in the next."""
    page = _document(
        tmp_path,
        'RULE=$(curl -s -H "$J" -X POST "$S/__mock/rules" -d \'{"path": "/api/health", "status": 503,'
        ' "body": "down for the test"}\' | jq .data.id)\necho kept > note.txt\n',
        'echo "rule $RULE"; cat note.txt    #=> kept\ncurl -s "$S/api/health"     #=> down for the test\n'
        'curl -s -X DELETE "$S/__mock/rules/$RULE" | jq -r .message   #=> Rule removed\n',
    )
    assert read_in_order(page, sandbox, tmp_path) == blocks(page)


@pytest.mark.slow
def test_a_failing_command_ends_its_block_and_names_it(sandbox: str, tmp_path: Path) -> None:
    page = _document(tmp_path, "echo first\n", 'curl -sf "$S/api/nothing-here" >/dev/null\necho unreachable\n')
    first, failing = (block.name for block in blocks(page))
    with pytest.raises(AssertionError, match=rf"{failing} exited 22 \(run after {first}\)"):
        read_in_order(page, sandbox, tmp_path)


# -- the README: short, and says what it uses before it uses it ----------------------------------------------


def _prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of everything outside fenced blocks."""
    inside, prose = False, []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            inside = not inside
        elif not inside:
            prose.append((number, line))
    return prose


def test_the_readme_is_short() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250


@pytest.mark.parametrize("term", ["`jq`", "`#=>"])
def test_the_readme_says_what_it_uses_before_the_first_block_that_uses_it(term: str) -> None:
    used = term.strip("`")
    first_use = next(b.line for b in blocks(README) if not b.skip and used in b.code)
    explained = next(n for n, line in _prose_lines(README.read_text(encoding="utf-8")) if term in line)
    assert explained < first_use, f"the README uses {used} at line {first_use}, says what it is at {explained}"


def test_the_readmes_python_needs_only_what_the_first_setup_command_installs() -> None:
    """After ``pip install -e .`` alone, a Python block may import the standard library and the sandbox's own
    package, nothing of the test extra (requests, httpx)."""
    for block in blocks(README):
        if block.language != "python" or block.skip:
            continue
        for node in ast.walk(ast.parse(block.code)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top == "mockserver", f"{block.name} imports {name}"


# -- links and the configuration reference -------------------------------------------------------------------

LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def _anchors(document: Path) -> set[str]:
    """The ids a heading of the page gives: its explicit ``{#id}``, else GitHub's slug of its text."""
    found = set()
    for _number, line in _prose_lines(document.read_text(encoding="utf-8")):
        heading = re.match(r"^#+\s+(?P<text>.*?)\s*(?:\{#(?P<id>[\w-]+)\})?\s*$", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading["text"].lower()).replace(" ", "-")
            found.update({slug, heading["id"]} if heading["id"] else {slug})
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.name for d in DOCUMENTS])
def test_every_link_to_the_project_leads_somewhere(document: Path) -> None:
    for _number, line in _prose_lines(document.read_text(encoding="utf-8")):
        for match in LINK.finditer(line):
            target = match["target"]
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            where = (document.parent / path).resolve() if path else document
            assert where.exists(), f"{document.name} links to {target}, which does not exist"
            if anchor and where.suffix == ".md":
                assert anchor in _anchors(where), f"{document.name} links to {target}: no such heading"


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.name for d in DOCUMENTS])
def test_no_page_cites_a_file_outside_the_project(document: Path) -> None:
    """A reader of a clone has only the project: the API documentation is cited by its title, not by a path."""
    text = document.read_text(encoding="utf-8")
    for path in re.findall(r"[`(](\.\.?/[^`)\s]+)", text):
        where = (document.parent / path).resolve()
        assert where.is_relative_to(ROOT) and where.exists(), f"{document.name} cites {path}, not in the project"


def test_the_configuration_table_is_serve_help() -> None:
    shipped = configuration_table.shipped(configuration_table.PAGE.read_text(encoding="utf-8"))
    assert shipped == configuration_table.render(), (
        "docs/configuration.md's table is not what `tap4book-mock serve --help` says: run"
        " `python tests/configuration_table.py`"
    )
