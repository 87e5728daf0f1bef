"""The layers run one way (docs/design.md): a module never imports one above it, and the two planes never
import each other. Read from the source, so that a lazy import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mockserver"

#: Lowest first. A module may import its own layer or any layer below it.
LAYERS: list[tuple[str, set[str]]] = [
    (
        "leaf",
        {
            "version",
            "errors",
            "clock",
            "statuses",
            "jsonbody",
            "debuginfo",
            "accesslog",
            "render",
            "envelope",
            "auth",
            "config",
            "tenancy",
            "dataset",
            "client",
            "requestlock",
            "netfaults",
            "protocol",
            "answer",
            "args",
            "postman",
            "jsonpath",
            "storagemode",
            "printable",
        },
    ),
    ("store", {"store"}),
    ("sandbox", {"sandbox"}),
    ("request context", {"call"}),
    ("planes", {"api", "control", "openapi", "cors", "console", "home"}),
    (
        "entry points",
        {"app", "pipeline", "routing", "server", "cli", "pytest_plugin", "testing", "probe", "tail", "__init__"},
    ),
]
PLANES = ("api", "control")


def _unit(module: str) -> str:
    """'mockserver.store.queries' -> 'store'; 'mockserver' -> '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(unit: str) -> int:
    for rank, (_, members) in enumerate(LAYERS):
        if unit in members:
            return rank
    raise AssertionError(f"mockserver.{unit} is in no layer: add it to tests/test_layers.py and docs/design.md")


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1] or ["mockserver"]
        found.append((".".join(parts), path))
    return found


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base != "mockserver":  # `from mockserver import render` imports the submodule
                names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name == "mockserver" or name.startswith("mockserver.")}


MODULES = _modules()


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[name for name, _ in MODULES])
def test_no_module_imports_one_above_it(module: str, path: Path) -> None:
    unit = _unit(module)
    rank = _rank(unit)
    for imported in sorted(_imports(module, path)):
        if imported == "mockserver":
            assert unit == "__init__" or rank == len(LAYERS) - 1, f"{module} imports the package itself"
            continue
        target = _unit(imported)
        if target not in {u for _, members in LAYERS for u in members}:
            continue  # a name imported from a module (mockserver.store.x -> 'store' is matched above)
        assert _rank(target) <= rank, (
            f"{module} ({LAYERS[rank][0]}) imports {imported} ({LAYERS[_rank(target)][0]}), a layer above it"
        )
        if unit in PLANES and target in PLANES:
            assert unit == target, f"{module} imports {imported}: the API and control planes never import each other"


def test_every_module_has_a_layer() -> None:
    for module, _ in MODULES:
        _rank(_unit(module))


def test_the_protocols_names_are_spelled_in_protocol_py_only():
    """A header or parameter of the sandbox's protocol is a constant of mockserver/protocol.py that every other
    module imports: a new switch or header is named once (docs/design.md, "Where a change goes")."""
    from mockserver import protocol

    names = {
        value
        for name, value in vars(protocol).items()
        if name.isupper() and isinstance(value, str) and (name.endswith("_HEADER") or name.endswith("_PARAM"))
    }
    names.discard(protocol.FORMAT_PARAM)  # "format" is also an ordinary word of the code (render, logs)
    names.discard(protocol.DEBUG_PARAM)  # "debug" too (the envelope's debug block, the log level)
    spelled = sorted(
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.value!r}"
        for module, path in _modules()
        if module != "mockserver.protocol"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value in names
    )
    assert spelled == []
