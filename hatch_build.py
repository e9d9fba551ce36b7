"""Build hook: the wheel's compiled evaluation core (mypyc), with pure Python as fallback.

The judging core (``COMPILED_PACKAGE``, every module of ``src/caseledger/judging/``: what
judges a case or a project and makes a board row) is pure Python, and stays the reference;
a standard wheel also carries it compiled by mypyc (part of mypy), which Python imports in
its place: rebuilding the read models judges every case of the ledger,
and runs faster so (``benchmarks/bench_compiled.py`` measures by how much). The full test
suite runs against both (``make test``).

- Editable installs (``pip install -e``, what ``make`` gives developers) are never
  compiled, so an edited source is what runs.
- ``CASELEDGER_PURE_PYTHON=1`` builds a pure-Python wheel, tagged ``py3-none-any`` (any
  CPython from 3.11 installs it; ``make test`` builds it beside the compiled one, which is
  tagged for this interpreter and platform, e.g. ``cp311-cp311-linux_x86_64``);
  ``CASELEDGER_REQUIRE_COMPILED=1`` makes a failure to compile an error, with mypyc's output
  (``make test`` sets it).
- Where compiling fails (no C compiler, say), the wheel is pure Python, with a warning: the
  results are the same, only slower.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

COMPILED_PACKAGE = "caseledger/judging"
"""The folder compiled, every module of it (the judging core: everything that judges a case or
a project and makes a board row, and nothing that opens a store). A module added there is
compiled too; one mypyc cannot compile makes ``CASELEDGER_REQUIRE_COMPILED=1`` fail."""
_BUILT = ("*.so", "*.pyd")
"""What compiled modules are called (Linux and macOS; Windows)."""


def compiled_modules(src: Path) -> list[str]:
    """The modules of ``COMPILED_PACKAGE`` under ``src``, as paths relative to it (its
    ``__init__.py`` files, which only document their folders, stay Python)."""
    folder = src / COMPILED_PACKAGE
    return [
        path.relative_to(src).as_posix()
        for path in sorted(folder.rglob("*.py"))
        if path.name != "__init__.py"
    ]


def compile_core(root: Path, into: Path) -> tuple[Path, list[Path], str]:
    """Copy ``root/src`` into ``into/src`` and compile ``compiled_modules`` there, next to
    their sources: that copy, the compiled modules (none if compiling failed) and what mypyc
    said."""
    root, source = root.resolve(), into / "src"
    # sources only: a compiled module left in src/ by hand must not be taken for this one
    shutil.copytree(root / "src", source, ignore=shutil.ignore_patterns(*_BUILT, "__pycache__"))
    modules = compiled_modules(source)
    done = subprocess.run(
        # the project's mypy settings (strict, the pydantic plugin), as `make typecheck`
        [sys.executable, "-m", "mypyc", "--config-file", str(root / "pyproject.toml"), *modules],
        cwd=source,
        capture_output=True,
        text=True,
    )
    built = sorted(  # next to their sources (and the shared library at the top)
        p
        for pattern in _BUILT
        for p in source.rglob(pattern)
        if "build" not in p.relative_to(source).parts
    )
    return source, [] if done.returncode else built, done.stdout + done.stderr


class CompiledCoreHook(BuildHookInterface):  # type: ignore[type-arg]  # (generic in hatchling)
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._folder: str | None = None
        if self.target_name != "wheel" or version == "editable":
            return
        if os.environ.get("CASELEDGER_PURE_PYTHON") == "1":
            self.app.display_info("caseledger: CASELEDGER_PURE_PYTHON=1, a pure-Python wheel")
            return
        self._folder = tempfile.mkdtemp(prefix="caseledger-mypyc-")
        source, built, said = compile_core(Path(self.root), Path(self._folder))
        if not built and os.environ.get("CASELEDGER_REQUIRE_COMPILED") == "1":
            raise RuntimeError(
                "caseledger: CASELEDGER_REQUIRE_COMPILED=1, but the evaluation core could not "
                "be compiled (is a C compiler installed?). mypyc said:\n" + said[-4000:]
            )
        if not built:
            self.app.display_warning(
                "caseledger: the compiled evaluation core could not be built, so this wheel "
                "is pure Python (the same results, slower). mypyc said:\n" + said[-2000:]
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        for library in built:
            build_data["force_include"][str(library)] = str(library.relative_to(source))

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
