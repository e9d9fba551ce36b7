"""Build hook: the wheel's compiled evaluation core (mypyc), with pure Python as fallback.

The modules that judge a case and make its board row (``COMPILED``) are pure Python and stay
the reference; a standard wheel also carries them compiled by mypyc (part of mypy), which
Python imports in their place: rebuilding the read models judges every case of the ledger,
and runs faster so (``benchmarks/bench_compiled.py`` measures by how much). The full test
suite runs against both (``make test``).

- Editable installs (``pip install -e``, what ``make`` gives developers) are never
  compiled, so an edited source is what runs.
- ``CASELEDGER_PURE_PYTHON=1`` builds a pure-Python wheel; ``CASELEDGER_REQUIRE_COMPILED=1``
  makes a failure to compile an error, with mypyc's output (``make test`` sets it).
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

COMPILED = [
    "caseledger/judging/clock.py",
    "caseledger/judging/judgement.py",
    "caseledger/judging/facts.py",
    "caseledger/judging/evaluation.py",
    "caseledger/judging/rows.py",
]
"""The modules compiled: everything that judges one case and makes its row, and nothing that
opens a store."""
_BUILT = ("*.so", "*.pyd")
"""What compiled modules are called (Linux and macOS; Windows)."""


def compile_core(root: Path, into: Path) -> tuple[Path, list[Path], str]:
    """Copy ``root/src`` into ``into/src`` and compile ``COMPILED`` there, next to their
    sources: that copy, the compiled modules (none if compiling failed) and what mypyc said."""
    source = into / "src"
    # sources only: a compiled module left in src/ by hand must not be taken for this one
    shutil.copytree(root / "src", source, ignore=shutil.ignore_patterns(*_BUILT, "__pycache__"))
    done = subprocess.run(
        # the project's mypy settings (strict, the pydantic plugin), as `make typecheck`
        [sys.executable, "-m", "mypyc", "--config-file", str(root / "pyproject.toml"), *COMPILED],
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
