"""Layers import one way, each only from the layers listed before it in LAYERS."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "src" / "caseledger"
LAYERS = [
    "errors", "domain", "calendar", "rules", "store", "audit", "judging", "scenarios", "readmodels",
    "whatif", "ledger", "interchange", "demo", "http", "cli", "testing", "__main__",
]  # fmt: skip


def _layer(module_path: str) -> str:
    return module_path.split(".")[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("caseledger.")
        ):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("caseledger.")}
    return found


def test_each_layer_imports_only_the_layers_beneath_it() -> None:
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        if relative.name == "__init__" and relative.parent == Path("caseledger"):
            continue  # the package root re-exports the public API
        own = relative.parts[1]
        for imported in _imports(path):
            if LAYERS.index(_layer(imported)) > LAYERS.index(own):
                wrong.append(f"{relative} imports {imported}")
    assert wrong == []


def test_the_domain_reads_no_clock_and_touches_no_database() -> None:
    clocks = (".now(", ".today(", "time.time(", "utcnow", "monotonic(")
    databases = ("eventsourcing", "sqlite3", "psycopg")
    for path in (PACKAGE / "domain").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in clocks:
            assert word not in text, f"{path.name} reads the clock ({word})"
        tree = ast.parse(text)
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in databases, f"{path.name} imports {name}"


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def _private_imports(path: Path) -> list[str]:
    """``from caseledger.x import _name`` of a module other than the importer's own."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = _module_name(path)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module != own
            and node.module.startswith("caseledger")
        ):
            found += [
                f"{node.module}.{a.name}"
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")  # dunders are public
            ]
    return found


def test_no_module_imports_the_private_names_of_another() -> None:
    wrong = [
        f"{_module_name(path)} imports {name}"
        for path in PACKAGE.rglob("*.py")
        for name in _private_imports(path)
    ]
    assert wrong == []


def _imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The caseledger modules ``path`` imports (``from caseledger.a import b`` names the
    module ``caseledger.a.b`` when there is one, else ``caseledger.a``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.add(name if name in modules else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name in modules}


def test_the_modules_import_one_another_without_cycles() -> None:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {
        name: _imported_modules(path, set(modules)) - {name, "caseledger"}
        for name, path in modules.items()
    }
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_judging_core_reads_no_clock_and_touches_no_database() -> None:
    clocks = (".now(", ".today(", "time.time(", "utcnow", "monotonic(")
    databases = ("eventsourcing", "sqlite3", "psycopg", "caseledger.store", "caseledger.readmodels")
    for path in (PACKAGE / "judging").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in clocks:
            assert word not in text, f"{path.name} reads the clock ({word})"
        for imported in _imports(path) | {n.split(".")[0] for n in _imports(path)}:
            assert not imported.startswith(databases), f"{path.name} imports {imported}"


def test_property_tests_follow_the_hypothesis_profile() -> None:
    """A literal count of examples in ``@settings`` would override ``HYPOTHESIS_PROFILE=deep``:
    counts go through ``tests.helpers.examples`` (or scale ``settings.default``) instead."""
    pinned = [
        f"{path.name}:{n}"
        for path in Path(__file__).parent.glob("test_*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"@settings\(.*max_examples=\d", line)
        or re.fullmatch(r"\s*max_examples=\d+,?", line)
    ]
    assert pinned == []
