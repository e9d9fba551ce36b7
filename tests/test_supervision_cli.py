"""``caseledger status``, ``board``, ``stats`` and ``project``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caseledger import CaseLedger
from caseledger.cli import app
from caseledger.demo import demo_commands, demo_month
from tests.conftest import fixed_clock

EXAMPLE = Path(__file__).parent.parent / "examples" / "cases.jsonl"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def demo_db(sqlite_url: str) -> str:
    with CaseLedger(sqlite_url, clock=fixed_clock) as ledger:
        ledger.record_batch(demo_commands(60))
    return sqlite_url


def test_status_explains_a_case_as_of_a_moment(sqlite_url: str) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    code, out, _ = run("--db", sqlite_url, "status", "QZ-2026-000102", "--as-of", "2026-10-16")
    assert code == 0
    assert (
        "light: 绿灯" in out and "expert_review" in out and "paused" not in out.split("clock:")[0]
    )
    code, out, _ = run(
        "--db", sqlite_url, "status", "QZ-2026-000102", "--as-of", "2026-10-16", "--json"
    )
    data = json.loads(out)
    assert code == 0 and data["clock"]["paused"] is True and data["light"] == "green"
    assert data["pack"]["name"] == "national" and data["as_of"] == "2026-10-16T23:59:59+08:00"


def test_status_json_is_the_same_byte_for_byte_on_every_run(sqlite_url: str) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    args = ("--db", sqlite_url, "status", "QZ-2026-000101", "--as-of", "2026-11-01", "--json")
    assert run(*args)[1] == run(*args)[1]


def test_a_bad_as_of_is_a_one_line_error(sqlite_url: str) -> None:
    code, _, err = run("--db", sqlite_url, "status", "X", "--as-of", "yesterday")
    assert code == 1 and err.startswith("error: --as-of 'yesterday' is not a date")


def test_board_lists_red_cases_worst_first_with_filters(demo_db: str) -> None:
    code, out, _ = run("--db", demo_db, "board", "--as-of", "2026-12-31", "--json")
    cases = json.loads(out)["cases"]
    assert code == 0 and cases and all(c["light"] in ("red", "yellow") for c in cases)
    department = cases[0]["department"]
    code, out, _ = run(
        "--db", demo_db, "board", "--as-of", "2026-12-31", "--department", department
    )
    assert code == 0 and department in out and "红灯" in out


def test_stats_reports_received_finished_early_and_overdue(demo_db: str) -> None:
    code, out, _ = run("--db", demo_db, "stats", "--as-of", "2026-11-23", "--json")
    data = json.loads(out)
    assert code == 0 and sum(r["received"] for r in data["rows"]) == 60
    code, out, _ = run("--db", demo_db, "stats", "--as-of", "2026-11-23", "--by", "month")
    assert code == 0 and "2026-10" in out and "提前" in out
    code, _, err = run("--db", demo_db, "stats", "--by", "colour")
    assert code == 2 and "use one of department, window, item, month, quarter" in err
    code, out, _ = run("--db", demo_db, "stats", "--as-of", "2026-11-23", "--by", "quarter")
    assert code == 0 and "2026-Q4" in out


def test_project_catches_up_and_rebuilds(demo_db: str) -> None:
    code, _, err = run("--db", demo_db, "project")
    assert code == 0 and "applied" in err and "events/s" in err
    code, _, err = run("--db", demo_db, "project")
    assert code == 0 and "applied 0 events" in err
    code, _, err = run("--db", demo_db, "project", "--rebuild")
    assert code == 0 and "rebuilt from" in err


def test_project_follow_stops_after_the_seconds_given(demo_db: str) -> None:
    code, _, err = run("--db", demo_db, "project", "--follow", "--seconds", "0.5")
    assert code == 0 and "applied" in err


@pytest.fixture
def month_db(sqlite_url: str) -> str:
    with CaseLedger(sqlite_url, clock=fixed_clock) as ledger:
        ledger.record_batch(demo_month(20))
    return sqlite_url


def test_parallel_list_shows_every_project_worst_first(month_db: str) -> None:
    code, out, _ = run("--db", month_db, "parallel", "list", "--as-of", "2026-11-20")
    assert code == 0
    # registered 12 October with a stage still open: 28 working days ended on 19 November
    assert out.index("XM-2026-003") < out.index("XM-2026-001") and "红灯" in out
    code, out, _ = run("--db", month_db, "parallel", "list", "--as-of", "2026-11-20", "--json")
    listed = json.loads(out)
    assert (listed[0]["project_no"], listed[0]["light"]) == ("XM-2026-003", "red")


def test_parallel_status_explains_a_project_and_its_cases(month_db: str) -> None:
    code, out, _ = run("--db", month_db, "parallel", "status", "XM-2026-003", "--as-of",
                       "2026-11-20")  # fmt: skip
    assert code == 0 and "overall limit: 28 working days" in out and "deadline 2026-11-19" in out
    assert "case QZ-XM-2026-003-1 (stage 1)" in out
    code, out, _ = run("--db", month_db, "parallel", "status", "XM-2026-003", "--json")
    assert json.loads(out)["kind"] == "general"
    code, _, err = run("--db", month_db, "parallel", "status", "XM-404")
    assert code == 1 and "project 'XM-404' is not in the ledger" in err
