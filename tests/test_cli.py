"""The caseledger command line: commands, the ledger URL, exit codes and one-line reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caseledger.cli import app

EXAMPLE = Path(__file__).parent.parent / "examples" / "cases.jsonl"
runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_record_then_show_a_case_as_a_timeline(ledger_url: str) -> None:
    code, out, _ = run("--db", ledger_url, "record", str(EXAMPLE))
    assert code == 0 and "recorded 11 events of 2 cases" in out
    code, out, _ = run("--db", ledger_url, "show", "QZ-2026-000101")
    assert code == 0
    assert "准予许可 (approved)" in out and "补正告知" in out and "发证" in out


def test_show_json_prints_the_recorded_events_as_json_lines(sqlite_url: str) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    code, out, _ = run("--db", sqlite_url, "show", "QZ-2026-000102", "--json")
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [e["version"] for e in events] == [1, 2, 3, 4, 5]
    assert events[2]["event"]["type"] == "clock_suspended"


def test_show_as_of_a_date_shows_the_case_as_it_stood_at_the_end_of_that_day(
    sqlite_url: str,
) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    code, out, _ = run("--db", sqlite_url, "show", "QZ-2026-000102", "--as-of", "2026-10-16")
    assert code == 0 and "中止计时 (suspended)" in out and "approved" not in out


def test_the_ledger_url_comes_from_the_environment_when_not_given(sqlite_url: str) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    code, out, _ = run("cases", env={"CASELEDGER_DB": sqlite_url})
    assert code == 0 and "QZ-2026-000101" in out


def test_the_default_ledger_is_caseledger_db_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CASELEDGER_DB", raising=False)
    code, _, _ = run("record", str(EXAMPLE))
    assert code == 0 and (tmp_path / "caseledger.db").exists()


def test_a_bad_file_exits_1_with_a_one_line_reason_and_the_bad_lines(
    sqlite_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8") + '{"case_no": "X"}\n', encoding="utf-8")
    code, out, err = run("--db", sqlite_url, "record", str(bad))
    assert code == 1 and out == ""
    first, *details = err.splitlines()
    assert first.startswith("error: ") and "nothing recorded" in first
    assert any(line.strip().startswith("line 14, command_id") for line in details)
    _, listing, _ = run("--db", sqlite_url, "cases")
    assert "QZ-2026-000101" not in listing


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--create", "show", "QZ-404"], "case 'QZ-404' is not in the ledger"),
        (["--db", "mysql://x/y", "cases"], "unknown scheme 'mysql'"),
        (["--db", "postgresql://127.0.0.1:5432/", "cases"], "no database name"),
        (["record", "/nonexistent.jsonl"], "cannot read"),
        (["verify", "--seal", "/nonexistent.json"], "cannot read seal"),
    ],
    ids=["unknown case", "unknown scheme", "no database", "missing file", "missing seal"],
)
def test_errors_exit_1_with_a_one_line_reason_on_stderr(
    sqlite_url: str, args: list[str], message: str
) -> None:
    if "--db" not in args:
        args = ["--db", sqlite_url, *args]
    code, out, err = run(*args)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and message in err.splitlines()[0]


def test_an_unreachable_postgres_server_is_a_one_line_error() -> None:
    code, _, err = run("--db", "postgresql://postgres@127.0.0.1:1/test", "cases")
    assert code == 1 and err.startswith("error: cannot open ledger")


def test_schema_prints_the_json_schema_of_a_line() -> None:
    code, out, _ = run("schema")
    schema = json.loads(out)
    assert code == 0 and schema["$schema"].endswith("2020-12/schema")
    case_line, project_line = (
        schema["$defs"][ref["$ref"].split("/")[-1]] for ref in schema["anyOf"]
    )
    assert set(case_line["required"]) == {"case_no", "command_id", "at", "actor", "event"}
    assert set(project_line["required"]) == {"project_no", "command_id", "at", "actor", "event"}


def test_demo_records_a_month_of_cases_shows_them_and_verifies_twice_idempotently(
    sqlite_url: str,
) -> None:
    code, out, _ = run("--db", sqlite_url, "demo", "--cases", "30")
    # 30 of Quanzhou, 15 of Wuhou and of Haiyang, 10 of Xinjian, 12 in the projects' stages
    assert code == 0 and "of 82 cases and 3 parallel-approval projects" in out
    assert "every chain intact" in out and "parallel-approval projects 并联审批" in out
    for pack in ("quanzhou", "wuhou", "xinjian", "haiyang"):
        assert f"│ {pack}" in out  # a row of the statistics by pack
    code, out, _ = run("--db", sqlite_url, "demo", "--cases", "30")
    assert code == 0 and "recorded 0 events" in out and "already there" in out


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///x.db?mode=ro", "takes no options"),
        ("postgresql://postgres@127.0.0.1:0/test", "bad port: 0"),
        ("postgresql://postgres@127.0.0.1:5432/test?schema=", "schema '' is not"),
        ("postgresql://postgres@127.0.0.1:5432/test?colour=red", "unknown option colour"),
    ],
    ids=["sqlite options", "port 0", "empty schema", "unknown option"],
)
def test_a_ledger_url_caseledger_cannot_honour_is_refused(url: str, message: str) -> None:
    from caseledger import LedgerURLError
    from caseledger.store.url import parse_ledger_url

    with pytest.raises(LedgerURLError) as caught:
        parse_ledger_url(url)
    assert message in str(caught.value)
