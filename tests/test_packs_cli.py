"""``caseledger packs``: list, show, validate, test, schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from caseledger.cli import app

ROOT = Path(__file__).parent.parent
NATIONAL = ROOT / "rulepacks" / "national" / "caseledger_pack_national"
EXAMPLE = ROOT / "examples" / "example-district-pack" / "caseledger_pack_example_district"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "300"})
    return result.exit_code, result.stdout, result.stderr


def test_packs_list_shows_national_with_its_version_and_hash() -> None:
    from caseledger.rules import PackRegistry

    code, out, _ = run("packs", "list")
    national = PackRegistry.discover().get("national")
    assert code == 0 and "national" in out and "2019.1" in out
    assert national.content_hash[:12] in out
    assert "example_district" in out


def test_packs_list_includes_a_directory_given_with_packs_dir(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "copy")
    toml = tmp_path / "copy" / "pack.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('name = "example_district"', 'name = "copy_town"'),
        encoding="utf-8",
    )
    code, out, _ = run("--packs-dir", str(tmp_path), "--allow-pack-code", "packs", "list")
    assert code == 0 and "copy_town" in out


def test_packs_show_lists_rules_with_their_references() -> None:
    code, out, _ = run("packs", "show", "national")
    assert code == 0 and "第四十二条" in out and "joint_decision" in out and "organ_decides" in out


def test_packs_show_of_an_unknown_pack_is_a_one_line_error() -> None:
    code, _, err = run("packs", "show", "atlantis")
    assert code == 1 and err.startswith("error: rule pack 'atlantis' is not installed")


def test_packs_validate_accepts_a_good_pack_and_names_each_problem_of_a_bad_one(
    tmp_path: Path,
) -> None:
    code, out, _ = run("packs", "validate", str(NATIONAL))
    assert code == 0 and "national 2019.1 is valid" in out
    shutil.copytree(EXAMPLE, tmp_path / "bad")
    toml = tmp_path / "bad" / "pack.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("promised_limit = 7", "promised_limt = 7"), encoding="utf-8")
    code, _, err = run("packs", "validate", str(tmp_path / "bad"))
    assert code == 1
    assert str(toml) in err and "items.EX-SCJG-0001[1].promised_limt (line " in err
    assert "unknown field" in err and "check its spelling" in err


def test_packs_test_runs_the_scenarios_of_national_and_of_the_example_pack() -> None:
    for folder in (NATIONAL, EXAMPLE):
        code, out, _ = run("packs", "test", str(folder))
        assert code == 0 and "0 failed" in out and "PASS" in out


def test_a_failing_scenario_exits_1_and_shows_expected_and_actual(tmp_path: Path) -> None:
    scenario = tmp_path / "wrong.toml"
    scenario.write_text(
        '[[scenarios]]\nname = "A promised case has 30 working days, which is wrong."\n'
        "accepted_on = 2026-03-02\n[scenarios.expect]\nstatutory_limit = 30\n",
        encoding="utf-8",
    )
    code, out, _ = run("packs", "test", str(NATIONAL), "--scenarios", str(scenario))
    assert code == 1 and "FAIL" in out and "statutory_limit: expected 30, got 20" in out
    assert "0 passed, 1 failed" in out


def test_packs_schema_prints_the_json_schema_of_pack_toml() -> None:
    code, out, _ = run("packs", "schema")
    schema = json.loads(out)
    assert code == 0 and "pack" in schema["required"] and "limits" in schema["properties"]


def test_the_published_pack_schema_is_the_one_the_library_generates() -> None:
    from caseledger.rules.model import PackData

    published = Path(__file__).parent.parent / "docs" / "schema" / "pack.schema.json"
    assert json.loads(published.read_text(encoding="utf-8")) == PackData.model_json_schema(
        by_alias=True
    ), "regenerate with: caseledger packs schema > docs/schema/pack.schema.json"


def test_packs_validate_finds_the_parent_of_a_pack_in_the_packs_dir(tmp_path: Path) -> None:
    root = tmp_path / "packs"
    for name, extends in (("dir_town", "national"), ("dir_village", "dir_town")):
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "pack.toml").write_text(
            f'[pack]\nname = "{name}"\nversion = "1"\ntitle = "测试 (test)"\n'
            f'extends = "{extends}"\ncatalogue = "open"\nreference = "a test pack"\n',
            encoding="utf-8",
        )
    result = CliRunner().invoke(
        app, ["--packs-dir", str(root), "packs", "validate", str(root / "dir_village")]
    )
    assert result.exit_code == 0 and "dir_village 1 is valid" in result.output, result.output
