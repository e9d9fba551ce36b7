"""Rule-pack plug-ins through pluggy, and the code of pack folders run only where allowed."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from caseledger import PackError, PackRegistry
from caseledger.cli import app
from caseledger.rules import PackCodeNotAllowed, PackPlugin, PackSource, hookimpl
from caseledger.rules.model import PackHeader
from caseledger.rules.pack import RulePack
from caseledger.scenarios.folder import load_pack_folder
from tests import helpers

HEADER = """
[pack]
name = "{name}"
version = "1.0"
title = "测试包 (test pack)"
extends = "{extends}"
reference = "tests/test_pack_plugins.py"
"""

ITEM = """
[[items."{code}"]]
from = 2026-01-01
name = "许可"
department = "部门"
case_kind = "promised"
promised_limit = 5
reference = "test"
"""


def write_pack(root: Path, name: str, body: str = "", extends: str = "national") -> Path:
    return helpers.write_pack(root, name, body, extends, HEADER)


def telltale_hooks(folder: Path, marker: Path, file: str = "hooks.py") -> None:
    """Hooks that leave ``marker`` behind when they run (as any code in a pack could)."""
    (folder / file).write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran', encoding='utf-8')\n",
        encoding="utf-8",
    )


def national() -> PackPlugin:
    import caseledger_pack_national

    return PackPlugin("national", "entry point national", caseledger_pack_national)


class ItemsPlugin:
    """An in-memory plug-in: its pack, one catalogue item given by a hook, and a check."""

    def __init__(self, folder: Path, code: str, problem: str | None = None) -> None:
        self.folder, self.code, self.problem = folder, code, problem

    @hookimpl
    def caseledger_rulepack(self) -> PackSource:
        return PackSource(self.folder / "pack.toml")

    @hookimpl
    def caseledger_items(self, pack: PackHeader) -> dict[str, list[dict[str, Any]]]:
        item = {"from": "2026-01-01", "name": f"{pack.name} 许可", "department": "部门",
                "case_kind": "promised", "promised_limit": 5, "reference": "hook"}  # fmt: skip
        return {self.code: [item]}

    @hookimpl
    def caseledger_check_pack(self, pack: RulePack) -> list[str]:
        return [self.problem] if self.problem else []


# -- code in pack folders ------------------------------------------------------------------
@pytest.mark.parametrize("file", ["hooks.py", "__init__.py"])
def test_the_code_of_a_pack_folder_does_not_run_unless_allowed(tmp_path: Path, file: str) -> None:
    folder = write_pack(tmp_path / "packs", "coded_town")
    marker = tmp_path / "ran.txt"
    telltale_hooks(folder, marker, file)
    registry = PackRegistry.discover([tmp_path / "packs"])
    assert not marker.exists()
    assert "coded_town" not in registry and "national" in registry.names()
    with pytest.raises(PackCodeNotAllowed) as caught:
        registry.get("coded_town")
    (problem,) = caught.value.problems
    assert problem.file == str(folder / file)
    assert "not loaded (not its pack.toml either" in problem.message
    assert "--allow-pack-code" in problem.fix and "CASELEDGER_ALLOW_PACK_CODE=1" in problem.fix
    assert "allow_code=True" in problem.fix
    assert isinstance(caught.value, PackError)

    allowed = PackRegistry.discover([tmp_path / "packs"], allow_code=True)
    assert marker.read_text(encoding="utf-8") == "ran"
    assert allowed.get("coded_town").parent is allowed.get("national")


def test_a_data_only_pack_folder_loads_without_any_allowance(tmp_path: Path) -> None:
    write_pack(tmp_path, "plain_town", ITEM.format(code="PT-1"))
    (tmp_path / "plain_town" / "scenarios").mkdir()
    registry = PackRegistry.discover([tmp_path])
    assert registry.origin("plain_town") == f"directory {tmp_path / 'plain_town'}"
    assert registry.get("plain_town").item("PT-1", dt.date(2026, 3, 2)) is not None


def test_a_refused_folder_keeps_the_name_of_a_pack_loaded_elsewhere_free(tmp_path: Path) -> None:
    folder = write_pack(tmp_path, "national", extends="")
    telltale_hooks(folder, tmp_path / "ran.txt")
    registry = PackRegistry.discover([tmp_path])
    assert registry.origin("national").startswith("entry point national")
    assert isinstance(registry.broken[str(folder)], PackCodeNotAllowed)


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "300", **(env or {})})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", [["packs", "list"], ["verify"], ["packs", "show", "national"]])
def test_no_command_runs_the_code_of_a_packs_dir_without_the_allowance(
    tmp_path: Path, command: list[str]
) -> None:
    folder = write_pack(tmp_path / "packs", "coded_town")
    marker = tmp_path / "ran.txt"
    telltale_hooks(folder, marker)
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    sqlite3.connect(tmp_path / "ledger.db").close()
    env = {"CASELEDGER_PACKS_DIR": str(tmp_path / "packs"), "CASELEDGER_DB": db}
    cli(*command, env=env)
    assert not marker.exists()
    cli("--allow-pack-code", *command, env=env)
    assert marker.read_text(encoding="utf-8") == "ran"
    marker.unlink()
    cli(*command, env={**env, "CASELEDGER_ALLOW_PACK_CODE": "1"})
    assert marker.read_text(encoding="utf-8") == "ran"


def test_packs_list_names_a_refused_folder_and_how_to_allow_it(tmp_path: Path) -> None:
    folder = write_pack(tmp_path, "coded_town")
    telltale_hooks(folder, tmp_path / "ran.txt")
    code, out, err = cli("--packs-dir", str(tmp_path), "packs", "list")
    assert code == 0 and "coded_town" not in out
    assert "broken pack coded_town" in err and str(folder / "hooks.py") in err
    assert "--allow-pack-code" in err
    code, _, err = cli("--packs-dir", str(tmp_path), "packs", "show", "coded_town")
    assert code == 1 and "carries Python code" in err


def test_testing_a_pack_folder_with_code_needs_the_allowance_unless_it_is_installed(
    tmp_path: Path,
) -> None:
    folder = write_pack(tmp_path, "coded_town")
    marker = tmp_path / "ran.txt"
    telltale_hooks(folder, marker)
    with pytest.raises(PackCodeNotAllowed):
        load_pack_folder(folder)
    code, _, err = cli("packs", "validate", str(folder))
    assert code == 1 and "--allow-pack-code" in err and not marker.exists()
    code, out, _ = cli("--allow-pack-code", "packs", "validate", str(folder))
    assert code == 0 and "coded_town 1.0 is valid" in out and marker.exists()
    installed = Path(__file__).parent.parent / "rulepacks" / "national" / "caseledger_pack_national"
    assert (installed / "__init__.py").is_file()
    assert load_pack_folder(installed).pack.name == "national"  # code the operator installed


# -- pluggy ----------------------------------------------------------------------------------
def test_each_plug_ins_hooks_apply_to_its_own_pack_only(tmp_path: Path) -> None:
    write_pack(tmp_path, "east_town")
    write_pack(tmp_path, "west_town")
    east = PackPlugin("east", "test east", ItemsPlugin(tmp_path / "east_town", "EAST-1"))
    west = PackPlugin("west", "test west", ItemsPlugin(tmp_path / "west_town", "WEST-1", "no"))
    registry = PackRegistry.from_plugins([national(), east, west])
    day = dt.date(2026, 3, 2)
    pack = registry.get("east_town")
    assert pack.item("EAST-1", day) is not None and pack.item("WEST-1", day) is None
    assert pack.item("EAST-1", day).rule.name == "east_town 许可"  # type: ignore[union-attr]
    error = registry.broken["west_town"]  # its own check refuses it, and only it
    assert [p.where for p in error.problems] == ["caseledger_check_pack"]


def test_a_hook_whose_signature_is_not_the_hooks_is_refused_by_pluggy(tmp_path: Path) -> None:
    folder = write_pack(tmp_path, "typo_town")
    (folder / "hooks.py").write_text(
        "from caseledger.rules import hookimpl\n\n"
        "@hookimpl\ndef caseledger_items(header):\n    return {}\n",
        encoding="utf-8",
    )
    registry = PackRegistry.discover([tmp_path], allow_code=True)
    (problem,) = registry.broken["typo_town"].problems
    assert problem.file == f"directory {folder}" and "header" in problem.message
    assert "national" in registry.names()


def test_a_hook_not_marked_with_hookimpl_is_refused_rather_than_ignored(tmp_path: Path) -> None:
    folder = write_pack(tmp_path, "unmarked_town")
    (folder / "hooks.py").write_text(
        "def caseledger_check_pack(pack):\n    return ['never said']\n", encoding="utf-8"
    )
    registry = PackRegistry.discover([tmp_path], allow_code=True)
    (problem,) = registry.broken["unmarked_town"].problems
    assert problem.where == "caseledger_check_pack" and "@caseledger.rules.hookimpl" in problem.fix


def test_a_hook_that_raises_sets_its_pack_aside_and_the_others_stay(tmp_path: Path) -> None:
    folder = write_pack(tmp_path, "faulty_town")
    (folder / "hooks.py").write_text(
        "from caseledger.rules import hookimpl\n\n"
        "@hookimpl\ndef caseledger_items(pack):\n    raise KeyError('catalogue.csv')\n",
        encoding="utf-8",
    )
    write_pack(tmp_path, "sound_town")
    registry = PackRegistry.discover([tmp_path], allow_code=True)
    (problem,) = registry.broken["faulty_town"].problems
    assert problem.where == "caseledger_items" and "catalogue.csv" in problem.message
    assert "sound_town" in registry.names()


def test_two_plug_ins_of_one_pack_name_are_refused_naming_both(tmp_path: Path) -> None:
    write_pack(tmp_path / "one", "twin_town")
    write_pack(tmp_path / "two", "twin_town")
    registry = PackRegistry.discover([tmp_path / "one", tmp_path / "two"])
    message = str(registry.broken["twin_town"])
    assert str(tmp_path / "one" / "twin_town") in message
    assert str(tmp_path / "two" / "twin_town") in message and "also provided by" in message


def test_an_installed_plug_in_that_cannot_be_imported_is_set_aside_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.metadata.entry_points(group="caseledger.rulepacks")
    lost = importlib.metadata.EntryPoint(
        "lost_pack", "caseledger_pack_that_is_not_there", "caseledger.rulepacks"
    )
    monkeypatch.setattr(
        importlib.metadata, "entry_points", lambda group: [lost, *real] if group else []
    )
    registry = PackRegistry.discover()
    assert "cannot be imported" in str(registry.broken["lost_pack"])
    assert "lost_pack = caseledger_pack_that_is_not_there" in str(registry.broken["lost_pack"])
    assert {"national", "example_district"} <= set(registry.names())


def test_a_pack_source_naming_scenarios_elsewhere_is_refused(tmp_path: Path) -> None:
    assert PackSource(tmp_path / "pack.toml", tmp_path / "scenarios").path == tmp_path / "pack.toml"
    with pytest.raises(ValueError, match="scenario files are found there only"):
        PackSource(tmp_path / "pack.toml", tmp_path / "tests")


def test_testing_a_folder_sets_aside_another_pack_of_its_name(tmp_path: Path) -> None:
    write_pack(tmp_path / "other", "harbour_town", ITEM.format(code="OLD-1"))
    write_pack(tmp_path / "new", "harbour_town", ITEM.format(code="NEW-1"))
    registry = PackRegistry.for_folder(tmp_path / "new" / "harbour_town", [tmp_path / "other"])
    pack = registry.get("harbour_town")
    assert pack.item("NEW-1", dt.date(2026, 3, 2)) is not None
    assert pack.item("OLD-1", dt.date(2026, 3, 2)) is None
    assert "harbour_town" not in registry.broken
