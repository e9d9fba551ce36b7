"""Layers import one way, each only from the layers listed before it in LAYERS."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "src" / "caseledger"
LAYERS = [
    "errors", "domain", "calendar", "rules", "store", "audit", "judging", "scenarios", "readmodels",
    "ledger", "interchange", "demo", "cli", "testing", "__main__",
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
