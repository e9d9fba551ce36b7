"""The testing kit: a scaffolded pack runs its scenarios under pytest through the plugin;
failures read as expected against actual; generated packs and histories are valid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from caseledger import CaseLedger, PackError, PackRegistry, RulePack
from caseledger.cli import app
from caseledger.rules.scaffold import scaffold_pack
from caseledger.rules.validation import check_pack
from caseledger.testing.strategies import calendars, case_histories, packs
from tests.conftest import fixed_clock
from tests.helpers import examples

REGISTRY = PackRegistry.discover()


def pytest_in(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_pytest_in_a_scaffolded_pack_collects_and_runs_its_scenarios(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["packs", "new", "harbour_town", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "caseledger-pack-harbour-town"
    run = pytest_in(folder)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "baseline.toml::A promised case accepted on Monday 2 March 2026" in run.stdout
    assert "still open on 31 March is over its 20 working days: red. PASSED" in run.stdout
    assert "4 passed" in run.stdout


def test_a_failing_scenario_shows_each_expectation_expected_against_actual(
    tmp_path: Path,
) -> None:
    folder = scaffold_pack("river_town", tmp_path)
    scenarios = folder / "caseledger_pack_river_town" / "scenarios" / "baseline.toml"
    text = scenarios.read_text(encoding="utf-8")
    scenarios.write_text(text.replace("statutory_limit = 20", "statutory_limit = 15"), "utf-8")
    run = pytest_in(folder)
    assert run.returncode == 1
    assert "scenario failed: A promised case accepted on Monday 2 March 2026" in run.stdout
    assert "statutory_limit  15  →  20" in run.stdout
    assert "1 failed, 3 passed" in run.stdout


def test_a_broken_pack_fails_its_scenarios_naming_the_problem(tmp_path: Path) -> None:
    folder = scaffold_pack("broken_town", tmp_path)
    toml = folder / "caseledger_pack_broken_town" / "pack.toml"
    toml.write_text(toml.read_text("utf-8").replace('catalogue = "open"', 'catalog = "open"'))
    run = pytest_in(folder)
    assert run.returncode == 1
    assert "the pack cannot be loaded" in run.stdout and "pack.catalog" in run.stdout


def test_a_new_pack_needs_a_proper_name_and_a_free_folder(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="is not a pack name"):
        scaffold_pack("Harbour Town", tmp_path)
    scaffold_pack("harbour_town", tmp_path)
    with pytest.raises(PackError, match="already exists"):
        scaffold_pack("harbour_town", tmp_path)


@settings(max_examples=examples(25))
@given(pack=packs(REGISTRY), data=st.data())
def test_histories_generated_under_a_generated_pack_record_cleanly(
    pack: RulePack, data: st.DataObject
) -> None:
    assert check_pack(pack) == []
    registry = REGISTRY.including(pack)
    history = data.draw(case_histories(pack="generated", items=("ITEM-1", "ITEM-2")))
    with CaseLedger("sqlite:///:memory:", packs=registry, clock=fixed_clock) as ledger:
        assert ledger.record_batch(history).recorded == len(history)
        assert ledger.verify().ok


@settings(max_examples=examples(10))
@given(calendar=calendars())
def test_generated_calendars_keep_adding_and_counting_inverse(calendar: object) -> None:
    import datetime as dt

    from caseledger import WorkingCalendar

    assert isinstance(calendar, WorkingCalendar)
    start = dt.date(2025, 1, 1)
    end = calendar.add_working_days(start, 100).value
    assert calendar.count_working_days(start, end).value == 100
