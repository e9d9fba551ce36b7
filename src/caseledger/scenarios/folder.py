"""Validating and testing a pack folder, as ``caseledger packs validate`` and ``packs test`` do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from caseledger.errors import PackError, PackProblem
from caseledger.rules.loader import read_pack_file
from caseledger.rules.pack import RulePack
from caseledger.rules.registry import PackRegistry
from caseledger.scenarios.files import ScenarioResult, load_scenarios
from caseledger.scenarios.runner import run_scenario

__all__ = ["PackUnderTest", "load_pack_folder", "run_pack_scenarios"]


@dataclass(frozen=True)
class PackUnderTest:
    pack: RulePack
    folder: Path


def load_pack_folder(
    path: Path, packs_dirs: Sequence[Path] = (), *, allow_code: bool = False
) -> PackUnderTest:
    """Load the pack in ``path`` (a folder with ``pack.toml``, or the file itself), with the
    installed packs (and those in ``packs_dirs``) it may extend; another pack of the same
    name is set aside. A pack whose parameters lack values loads too: its scenarios give
    the values. A folder that carries code (``hooks.py``, ``__init__.py``) is loaded only if
    ``allow_code``, or if it is the folder of an installed pack (see
    :meth:`PackRegistry.for_folder`)."""
    folder = path.parent if path.name == "pack.toml" else path
    if not (folder / "pack.toml").is_file():
        raise PackError([PackProblem(str(path), "", "no pack.toml here", "point at a pack folder")])
    name = read_pack_file(folder / "pack.toml").pack.name
    registry = PackRegistry.for_folder(folder, packs_dirs, allow_code=allow_code)
    return PackUnderTest(registry.get(name, judging=False), folder)


def run_pack_scenarios(
    under_test: PackUnderTest, target: Path | None = None
) -> list[ScenarioResult]:
    """Run the scenario files of the pack's ``scenarios/`` folder (or ``target``)."""
    if target is not None and target.is_file():
        files = [target]
    else:
        files = sorted((target or under_test.folder / "scenarios").glob("*.toml"))
    if not files:
        raise PackError(
            [
                PackProblem(
                    str(under_test.folder), "scenarios", "no scenario files",
                    "add scenarios/*.toml (see docs/rule-pack-authoring.md)",
                )
            ]
        )  # fmt: skip
    return [
        run_scenario(under_test.pack, scenario, file=str(file))
        for file in files
        for scenario in load_scenarios(file).scenarios
    ]
