"""The command line says the same as the library: one --as-of parser that keeps a time where
one is given, plural forms, and "did you mean" for misspelt event types, fields, case and
project numbers, departments, windows, items and pack names."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caseledger import (
    CaseLedger,
    InvalidCommand,
    PackRegistry,
    UnknownFilterValue,
    UnknownRulePack,
)
from caseledger.cli import app
from caseledger.cli.common import close_matches, parse_as_of
from caseledger.cli.render import counted, days_left
from caseledger.demo import demo_commands
from caseledger.readmodels.reports import known_values
from tests.conftest import fixed_clock

EXAMPLE = Path(__file__).parent.parent / "examples" / "cases.jsonl"
CST = dt.timezone(dt.timedelta(hours=8))
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def demo_db(sqlite_url: str) -> str:
    with CaseLedger(sqlite_url, clock=fixed_clock) as ledger:
        ledger.record_batch(demo_commands(30))
    return sqlite_url


# -- one --as-of ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-3-5T09:00", dt.datetime(2026, 3, 5, 9, 0, tzinfo=CST)),
        ("2026-03-05 09:00", dt.datetime(2026, 3, 5, 9, 0, tzinfo=CST)),
        ("2026-03-05T9:00", dt.datetime(2026, 3, 5, 9, 0, tzinfo=CST)),
        ("2026-03-05T09", dt.datetime(2026, 3, 5, 9, 0, tzinfo=CST)),
        ("2026-03-05T09:00:30.5", dt.datetime(2026, 3, 5, 9, 0, 30, 500000, tzinfo=CST)),
        ("2026-03-05T01:00Z", dt.datetime(2026, 3, 5, 9, 0, tzinfo=CST)),
        ("2026-03-05T09:00+0800", dt.datetime(2026, 3, 5, 9, 0, tzinfo=CST)),
        ("20260305", dt.datetime(2026, 3, 5, 23, 59, 59, tzinfo=CST)),
    ],
)
def test_every_form_of_a_time_keeps_its_time(text: str, expected: dt.datetime) -> None:
    assert parse_as_of(text) == expected


def test_status_as_of_nine_in_the_morning_is_judged_at_nine(sqlite_url: str) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    for text in ("2026-10-16T09:00", "2026-10-16 09:00", "2026-10-16T01:00Z"):
        code, out, err = run(
            "--db", sqlite_url, "status", "QZ-2026-000102", "--as-of", text, "--json"
        )
        assert code == 0, err
        assert dt.datetime.fromisoformat(json.loads(out)["as_of"]) == dt.datetime(
            2026, 10, 16, 9, 0, tzinfo=CST
        )


def test_show_as_of_a_time_before_an_event_of_that_day_leaves_it_out(sqlite_url: str) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    _, every, _ = run("--db", sqlite_url, "show", "QZ-2026-000101", "--json")
    second = dt.datetime.fromisoformat(json.loads(every.splitlines()[1])["at"]).astimezone(CST)
    before = second - dt.timedelta(minutes=1)
    unpadded = f"{before.year}-{before.month}-{before.day}T{before.hour}:{before.minute:02d}"
    code, out, err = run(
        "--db", sqlite_url, "show", "QZ-2026-000101", "--as-of", unpadded, "--json"
    )
    assert code == 0, err
    assert len(out.splitlines()) == 1


def test_a_time_given_to_the_board_is_noted_and_its_day_is_the_day_in_china(
    demo_db: str,
) -> None:
    code, out, err = run("--db", demo_db, "board", "--as-of", "2026-11-19T20:00Z", "--json")
    assert code == 0
    assert json.loads(out)["as_of"] == "2026-11-20"  # 04:00 on the 20th in China
    assert err.startswith("note: --as-of 2026-11-19T20:00Z is a time; this command answers")
    code, _, err = run("--db", demo_db, "board", "--as-of", "2026-11-20", "--json")
    assert code == 0 and err == ""


def test_the_projects_table_names_the_time_it_was_judged_at(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/month.db"
    run("--db", url, "demo", "--cases", "12")
    code, out, _ = run("--db", url, "parallel", "list", "--as-of", "2026-11-20T09:30")
    assert code == 0 and "as of 2026-11-20 09:30" in out
    code, out, _ = run("--db", url, "parallel", "list", "--as-of", "2026-11-20")
    assert code == 0 and "as of 2026-11-20" in out and "as of 2026-11-20 0" not in out


# -- plural forms -----------------------------------------------------------------------------


def test_counts_take_the_form_of_their_number() -> None:
    assert [counted(n, "event") for n in (0, 1, 2)] == ["0 events", "1 event", "2 events"]
    assert counted(1, "working day") == "1 working day"
    assert counted(2, "working day") == "2 working days"
    assert days_left(1) == "1 working day\nleft" and days_left(-2) == "2 working days\noverdue"
    assert days_left(None) == "-"


def test_recording_one_event_of_one_case_says_so_in_the_singular(
    sqlite_url: str, tmp_path: Path
) -> None:
    one = tmp_path / "one.jsonl"
    one.write_text(EXAMPLE.read_text(encoding="utf-8").splitlines()[2] + "\n", encoding="utf-8")
    code, out, _ = run("--db", sqlite_url, "record", str(one))
    assert code == 0 and "recorded 1 event of 1 case from" in out
    code, out, _ = run("--db", sqlite_url, "verify")
    assert code == 0 and "verified: 1 event in 1 case, every chain intact" in out
    code, _, err = run("--db", sqlite_url, "project")
    assert code == 0 and err.startswith("applied 1 event in ")


def test_no_cli_message_or_table_writes_a_plural_in_brackets(demo_db: str) -> None:
    for command in (["verify"], ["board", "--as-of", "2026-11-20"], ["stats"], ["project"]):
        code, out, err = run("--db", demo_db, *command)
        assert code == 0 and "(s)" not in out + err, command
    source = Path(__file__).parent.parent / "src" / "caseledger" / "cli"
    for path in source.glob("*.py"):
        assert "(s)" not in path.read_text(encoding="utf-8"), path.name


# -- did you mean: event types and fields -----------------------------------------------------

LINE = {
    "case_no": "QZ-2026-000900",
    "command_id": "QZ-2026-000900-1",
    "at": "2026-03-02T09:00:00+08:00",
    "actor": {"person": "A001", "role": "window_a", "department": "市市场监督管理局"},
    "event": {"type": "received", "channel": "window", "applicant": "APP-1"},
}


def _with(**changes: object) -> dict[str, object]:
    line = json.loads(json.dumps(LINE))
    for path, value in changes.items():
        *parents, key = path.split("__")
        target = line
        for parent in parents:
            target = target[parent]
        if value is None:
            del target[key]
        else:
            target[key] = value
    return line  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("line", "field", "named"),
    [
        (_with(event__type="recieved"), "event", "did you mean 'received'?"),
        (_with(event__channel=None, event__chanel="window"), "event.received.chanel",
         "did you mean 'channel'?"),
        (_with(actor=None, actr=LINE["actor"]), "actr", "did you mean 'actor'"),
        (_with(actor__department=None, actor__departmnt="D"), "actor.departmnt",
         "did you mean 'department'?"),
        (_with(event__channel="windw"), "event.received.channel", "did you mean 'window'?"),
    ],
)  # fmt: skip
def test_a_misspelt_event_type_or_field_names_the_close_match(
    ledger: CaseLedger, line: dict[str, object], field: str, named: str
) -> None:
    with pytest.raises(InvalidCommand) as raised:
        ledger.record(line)
    assert named in str(raised.value)
    assert any(path == field and named in message for path, message in raised.value.problems)
    assert ledger.case_numbers() == []


def test_an_unknown_field_without_a_close_match_lists_the_fields_there_are(
    ledger: CaseLedger,
) -> None:
    with pytest.raises(InvalidCommand) as raised:
        ledger.record(_with(event__colour="red"))
    assert "unknown field 'colour'; the fields here are: type, channel, applicant" in str(
        raised.value
    )


def test_a_json_line_with_a_misspelt_type_is_rejected_naming_the_close_match(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "typo.jsonl"
    path.write_text(json.dumps(_with(event__type="recieved")) + "\n", encoding="utf-8")
    code, _, err = run("--db", sqlite_url, "record", str(path))
    assert code == 1 and err.count("\n") == 1
    assert "line 1, event: 'recieved' is not an event type (did you mean 'received'?)" in err


# -- did you mean: case and project numbers, filters, packs -----------------------------------


@pytest.mark.parametrize("command", ["show", "status"])
def test_an_unknown_case_number_suggests_the_ledgers_closest(demo_db: str, command: str) -> None:
    code, _, err = run("--db", demo_db, command, "QZ-2026-00003")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: case 'QZ-2026-00003' is not in the ledger; did you mean ")
    assert "'QZ-2026-000003'" in err.split(" or ")[0]  # the same number, padded, first


def test_an_unknown_case_number_with_nothing_close_says_how_to_list_them(demo_db: str) -> None:
    code, _, err = run("--db", demo_db, "status", "ZZZZZZ")
    assert code == 1 and "`caseledger cases` lists the 30 cases there are" in err


def test_an_unknown_project_number_suggests_the_ledgers_closest(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/month.db"
    run("--db", url, "demo", "--cases", "12")
    code, _, err = run("--db", url, "parallel", "status", "XM-2026-01")
    assert code == 1 and "did you mean 'XM-2026-001'" in err


@pytest.mark.parametrize(
    ("option", "value", "near"),
    [("--department", "市市场监管局", "市市场监督管理局"), ("--window", "W1", None),
     ("--item", "QZ-SCJG-010", "QZ-SCJG-0101")],
)  # fmt: skip
def test_a_board_filter_no_case_has_is_unknown_not_an_empty_board(
    demo_db: str, option: str, value: str, near: str | None
) -> None:
    code, out, err = run("--db", demo_db, "board", option, value)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith(f"error: {option} {value!r} is unknown: no case in the ledger has it")
    if near:
        assert "(did you mean " in err and repr(near) in err.split("?)")[0]


def test_a_known_filter_value_with_nothing_on_the_board_is_an_empty_board(demo_db: str) -> None:
    with CaseLedger(demo_db) as ledger:
        ledger.catch_up()
        departments = known_values(ledger.read_models, "department")
        assert "市市场监督管理局" in departments
        quiet = sorted(
            d for d in departments if not ledger.board(dt.date(2026, 1, 5), department=d).entries
        )
    code, out, _ = run(
        "--db", demo_db, "board", "--as-of", "2026-01-05", "--department", quiet[0], "--json"
    )
    assert code == 0 and json.loads(out)["cases"] == []


def test_known_values_are_what_the_board_can_be_filtered_by(demo_db: str) -> None:
    with CaseLedger(demo_db) as ledger:
        ledger.catch_up()
        windows = known_values(ledger.read_models, "window")
        items = known_values(ledger.read_models, "item")
        every = ledger.board(dt.date(2026, 12, 31)).entries
    assert {e.window for e in every if e.window} <= windows
    assert {e.item_code for e in every if e.item_code} <= items


def test_cases_with_a_misspelt_filter_lists_nothing_and_names_the_close_value(
    demo_db: str,
) -> None:
    code, out, err = run("--db", demo_db, "cases", "--status", "aproved", "--json")
    assert code == 0 and out == ""
    assert err.startswith("note: --status 'aproved' is unknown: not a case status")
    assert "did you mean 'approved'?" in err
    code, out, err = run("--db", demo_db, "cases", "--pack", "quanzou", "--json")
    assert code == 0 and out == "" and "did you mean 'quanzhou'?" in err


def test_a_misspelt_pack_name_names_the_installed_one(demo_db: str) -> None:
    with pytest.raises(UnknownRulePack) as raised:
        PackRegistry.discover().get("natinal")
    assert raised.value.near == ["national"]
    assert "is not installed (did you mean 'national'?)" in str(raised.value)
    code, _, err = run("packs", "show", "natinal")
    assert code == 1 and "did you mean 'national'?" in err and err.count("\n") == 1


def test_unknown_filter_value_keeps_the_facts() -> None:
    error = UnknownFilterValue("--window", "W1", ["W11", "W12", "W02"])
    assert error.known == ["W02", "W11", "W12"] and error.near[0] in ("W11", "W12")
    assert isinstance(error, LookupError)


def test_close_matches_put_a_differently_padded_number_first() -> None:
    numbers = ["QZ-2026-000053", "QZ-2026-000003", "QZ-2026-000043"]
    assert close_matches("QZ-2026-00003", numbers)[0] == "QZ-2026-000003"
    assert close_matches("qz-2026-3", numbers)[0] == "QZ-2026-000003"
    assert close_matches("nothing-alike", numbers) == []
