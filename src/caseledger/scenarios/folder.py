"""Validating and testing a pack folder, as ``caseledger packs validate`` and ``packs test`` do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from caseledger.errors import PackError, PackProblem
from caseledger.rules.loader import read_pack_file
from caseledger.rules.pack import RulePack
from caseledger.rules.registry import (
    PackRegistry,
    _directory_plugin,
    _pack_dirs,
    _Plugin,
    entry_point_plugins,
)
from caseledger.scenarios.files import CaseCheck, ScenarioResult, load_scenarios, run_scenario

__all__ = ["PackUnderTest", "load_pack_folder", "run_pack_scenarios"]


@dataclass(frozen=True)
class PackUnderTest:
    pack: RulePack
    folder: Path


def load_pack_folder(path: Path, packs_dirs: Sequence[Path] = ()) -> PackUnderTest:
    """Load the pack in ``path`` (a folder with ``pack.toml``, or the file itself), with the
    installed packs (and those in ``packs_dirs``) it may extend; another pack of the same
    name is set aside. A pack whose parameters lack values loads too: its scenarios give
    the values."""
    folder = path.parent if path.name == "pack.toml" else path
    if not (folder / "pack.toml").is_file():
        raise PackError([PackProblem(str(path), "", "no pack.toml here", "point at a pack folder")])
    name = read_pack_file(folder / "pack.toml").pack.name
    plugins: list[_Plugin] = []
    for plugin in entry_point_plugins()[0]:
        if _installed_name(plugin) == name:
            continue
        plugins.append(plugin)
    for directory in packs_dirs:
        for pack_dir in _pack_dirs(Path(directory)):
            if pack_dir.resolve() == folder.resolve():
                continue
            plugin = _directory_plugin(pack_dir)
            if _installed_name(plugin) != name:
                plugins.append(plugin)
    plugins.append(_directory_plugin(folder))
    registry = PackRegistry.from_plugins(plugins)
    return PackUnderTest(registry.get(name, judging=False), folder)


def _installed_name(plugin: _Plugin) -> str | None:
    """The name of an installed plug-in's pack; None if it cannot be read (the registry
    then keeps it aside as broken, and it must not stop the pack under test)."""
    try:
        source = getattr(plugin.module, "caseledger_rulepack", lambda: None)()
        installed = getattr(source, "path", None)
        return read_pack_file(installed).pack.name if installed is not None else None
    except Exception:
        return None


def run_pack_scenarios(
    under_test: PackUnderTest, target: Path | None = None, *, case_check: CaseCheck | None = None
) -> list[ScenarioResult]:
    """Run the scenario files of the pack's ``scenarios/`` folder (or ``target``); the
    scenarios with events through ``case_check``."""
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
    results = []
    for file in files:
        for scenario in load_scenarios(file).scenarios:
            results.append(
                run_scenario(under_test.pack, scenario, file=str(file), case_check=case_check)
            )
    return results
