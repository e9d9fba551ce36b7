"""The pytest plugin: a pack's scenario files are collected as tests.

Registered through the ``pytest11`` entry point, so installing caseledger is enough. Every
``scenarios/*.toml`` beside a ``pack.toml`` is collected; each scenario is one test named by
its sentence, run against the pack of that folder (loaded with the installed packs it
extends). A failing scenario shows each expectation that did not hold, expected against
actual; a broken pack or scenario file fails with its file, field and fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from caseledger.rules.pack import RulePack
    from caseledger.scenarios.files import Scenario, ScenarioResult

__all__ = ["ScenarioFailed", "ScenarioItem", "ScenarioModule", "pytest_collect_file"]


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> ScenarioModule | None:
    if (
        file_path.suffix == ".toml"
        and file_path.parent.name == "scenarios"
        and (file_path.parent.parent / "pack.toml").is_file()
    ):
        module: ScenarioModule = ScenarioModule.from_parent(parent, path=file_path)
        return module
    return None


@lru_cache(maxsize=64)
def _pack(folder: Path) -> RulePack:
    from caseledger.scenarios.folder import load_pack_folder

    return load_pack_folder(folder, allow_code=True).pack  # pytest runs the folder's code anyway


class ScenarioFailed(AssertionError):
    """A scenario whose expectations did not all hold."""

    def __init__(self, result: ScenarioResult) -> None:
        self.result = result
        super().__init__(result.name)


class ScenarioModule(pytest.File):
    """A scenario file: one test per scenario."""

    def collect(self) -> Iterator[ScenarioItem]:
        from caseledger.scenarios.files import load_scenarios

        for scenario in load_scenarios(self.path).scenarios:
            yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)


class ScenarioItem(pytest.Item):
    """One scenario of a pack, named by its sentence."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        from caseledger.scenarios.runner import run_scenario

        pack = _pack(self.path.parent.parent)
        result = run_scenario(pack, self.scenario, file=str(self.path))
        if not result.passed:
            raise ScenarioFailed(result)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        from caseledger.errors import PackError

        error = excinfo.value
        if isinstance(error, ScenarioFailed):
            width = max(len(m.what) for m in error.result.mismatches)
            lines = [f"scenario failed: {self.name}", ""]
            lines.append(f"  {'what'.ljust(width)}  expected  →  actual")
            for mismatch in error.result.mismatches:
                lines.append(
                    f"  {mismatch.what.ljust(width)}  {mismatch.expected!r}  →  {mismatch.actual!r}"
                )
            return "\n".join(lines)
        if isinstance(error, PackError):
            return "the pack cannot be loaded:\n" + "\n".join(f"  {p}" for p in error.problems)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scenario: {self.name}"
