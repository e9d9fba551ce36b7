"""The package as Python users get it: a pure-Python wheel any CPython from 3.11 installs,
metadata that publishes only the extras a user may ask for, and the compiled set (the
judging folder, every module of it, hatch_build.py)."""

from __future__ import annotations

import email.parser
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DEV_TOOLS = {
    "ruff", "mypy", "pytest-benchmark", "jsonschema", "hatchling", "setuptools",
    "httpx", "schemathesis", "selenium", "types-openpyxl",
}  # fmt: skip


def _name(requirement: str) -> str:
    """The project name a requirement string names (``"mypy>=2.4"`` -> ``"mypy"``)."""
    from packaging.requirements import Requirement

    return Requirement(requirement).name.lower()


@pytest.fixture(scope="module")
def pure_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pure-Python wheel, built from this checkout as ``make test`` builds it."""
    folder = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation", "--no-deps",
         "-w", str(folder), str(ROOT)],
        env={**os.environ, "CASELEDGER_PURE_PYTHON": "1"},
        check=True,
        capture_output=True,
    )  # fmt: skip
    [wheel] = folder.glob("caseledger-*.whl")
    return wheel


def _metadata(wheel: Path, name: str) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        [path] = [n for n in archive.namelist() if n.endswith(f".dist-info/{name}")]
        return email.parser.Parser().parsestr(archive.read(path).decode())


def test_the_pure_python_wheel_is_tagged_for_any_python_3(pure_wheel: Path) -> None:
    assert pure_wheel.name.endswith("-py3-none-any.whl")
    wheel = _metadata(pure_wheel, "WHEEL")
    assert wheel.get_all("Tag") == ["py3-none-any"]
    assert wheel["Root-Is-Purelib"] == "true"
    assert _metadata(pure_wheel, "METADATA")["Requires-Python"] == ">=3.11"


def test_the_pure_python_wheel_carries_the_judging_sources_and_nothing_compiled(
    pure_wheel: Path,
) -> None:
    names = zipfile.ZipFile(pure_wheel).namelist()
    assert [n for n in names if n.endswith((".so", ".pyd", ".c"))] == []
    judging = {Path(n).name for n in names if n.startswith("caseledger/judging/")}
    assert {"clock.py", "judgement.py", "facts.py", "evaluation.py", "rows.py"} <= judging
    assert "caseledger_pack_national/pack.toml" in names


def test_the_published_extras_are_exactly_postgres_testing_and_http(pure_wheel: Path) -> None:
    metadata = _metadata(pure_wheel, "METADATA")
    assert sorted(metadata.get_all("Provides-Extra") or []) == ["http", "postgres", "testing"]
    required = {_name(r) for r in metadata.get_all("Requires-Dist") or []}
    assert required & DEV_TOOLS == set()
    assert {"pydantic", "eventsourcing", "psycopg", "hypothesis", "pytest"} <= required


def test_the_development_tools_are_a_dependency_group_pinned_by_the_constraints() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert set(project["project"]["optional-dependencies"]) == {"postgres", "testing", "http"}
    group = {_name(r) for r in project["dependency-groups"]["dev"]}
    assert group == DEV_TOOLS
    constraints = (ROOT / "requirements" / "constraints.txt").read_text(encoding="utf-8")
    pinned = {line.split("==")[0].lower() for line in constraints.splitlines() if "==" in line}
    assert group - pinned == {"setuptools"}  # (only a floor: the wheel build needs any recent)


def test_the_compiled_set_is_every_module_of_the_judging_folder(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    try:
        from hatch_build import compiled_modules
    finally:
        sys.path.remove(str(ROOT))
    assert compiled_modules(ROOT / "src") == sorted(
        p.relative_to(ROOT / "src").as_posix()
        for p in (ROOT / "src" / "caseledger" / "judging").glob("*.py")
        if p.name != "__init__.py"
    )
    assert {"caseledger/judging/project.py", "caseledger/judging/frozen.py"} <= set(
        compiled_modules(ROOT / "src")
    )
    # a module added to the folder later (or to a folder inside it) is compiled too
    folder = tmp_path / "caseledger" / "judging"
    (folder / "deeper").mkdir(parents=True)
    for name in ("__init__.py", "added.py", "deeper/__init__.py", "deeper/more.py"):
        (folder / name).write_text("")
    (tmp_path / "caseledger" / "readmodels.py").write_text("")
    assert compiled_modules(tmp_path) == [
        "caseledger/judging/added.py",
        "caseledger/judging/deeper/more.py",
    ]


def test_the_wheel_carries_the_web_boards_templates_and_styles(pure_wheel: Path) -> None:
    names = set(zipfile.ZipFile(pure_wheel).namelist())
    shipped = ROOT / "src" / "caseledger" / "http"
    files = [*shipped.glob("templates/*.html"), *shipped.glob("static/*")]
    assert files
    assert {f"caseledger/http/{p.relative_to(shipped).as_posix()}" for p in files} <= names
