"""The CLI's tables at 80 columns keep every identifier whole on one line; ``cases`` lists,
filters and pages (and prints JSON Lines); the demo's tables and its verification line."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterator

import pytest
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from caseledger import CaseLedger
from caseledger.cli import app, render
from caseledger.cli.projects import projects_table
from caseledger.cli.supervision import board_table, stats_tables
from caseledger.demo import DEMO_LAST_DAY, demo_month
from tests.conftest import fixed_clock

runner = CliRunner()
CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CaseLedger]:
    url = f"sqlite:///{tmp_path_factory.mktemp('month')}/month.db"
    with CaseLedger(url, clock=fixed_clock) as ledger:
        ledger.record_batch(demo_month(30))
        yield ledger


def _lines(table: Table, width: int) -> list[str]:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(table)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text.splitlines()


def _identifiers(ledger: CaseLedger) -> set[str]:
    """Case and project numbers, item codes, windows, dates and times, packs, violations."""
    found: set[str] = set()
    for case in ledger.cases():
        found.add(case.case_no)
        for event in case.events:
            found.add(event.at.strftime("%Y-%m-%d %H:%M"))
            if event.actor.window:
                found.add(event.actor.window)
        if case.item_code:
            found.add(case.item_code)
        if case.rule_pack:
            found.add(case.rule_pack)
    day = DEMO_LAST_DAY
    for entry in ledger.board(day).entries:
        found |= {str(entry.deadline), *entry.violations}
    for project in ledger.projects(dt.datetime.combine(day, dt.time(23, 59), tzinfo=CST)):
        found |= {project.project_no, str(project.deadline)}
    return {f for f in found if f and f != "None"}


def _tables(ledger: CaseLedger) -> Iterator[tuple[str, Table]]:
    day = DEMO_LAST_DAY
    cases = list(ledger.cases())
    yield "cases", render.cases_table(cases)
    yield "first 20", render.cases_table(cases[:20], received=True)
    yield "board", board_table(ledger.board(day))
    moment = dt.datetime.combine(day, dt.time(23, 59), tzinfo=CST)
    yield "projects", projects_table(ledger.projects(moment), day.isoformat())
    for by in ("department", "window", "item", "month", "pack"):
        scores = ledger.scores(day, by="window" if by == "window" else "department")
        for number, table in enumerate(stats_tables(ledger.statistics(day, by=by), scores, by,
                                                    day)):  # fmt: skip
            yield f"stats by {by} ({number})", table
    for case in cases:
        if len(case.events) >= 6:
            yield f"timeline of {case.case_no}", render.timeline(case.events)


def test_at_80_columns_every_identifier_stays_whole_on_one_line(month: CaseLedger) -> None:
    identifiers = _identifiers(month)
    assert len(identifiers) > 100
    checked = 0
    for name, table in _tables(month):
        narrow, wide = _lines(table, 80), _lines(table, 400)
        assert max(len(line) for line in narrow) <= 80, name
        text_narrow, text_wide = "\n".join(narrow), "\n".join(wide)
        for identifier in identifiers:
            expected = text_wide.count(identifier)
            checked += expected
            assert text_narrow.count(identifier) == expected, (
                f"{identifier!r} is broken across lines in the {name} table at 80 columns"
            )
    assert checked > 500


def test_a_case_number_split_mid_word_would_be_caught(month: CaseLedger) -> None:
    squeezed = Table()
    squeezed.add_column("case", overflow="fold")
    squeezed.add_row(next(month.cases()).case_no)
    narrow, wide = "\n".join(_lines(squeezed, 12)), "\n".join(_lines(squeezed, 80))
    number = next(month.cases()).case_no
    assert wide.count(number) == 1 and narrow.count(number) == 0


def test_the_cli_tables_at_80_columns_fit_and_keep_case_numbers_whole(
    month: CaseLedger,
) -> None:
    url = month.location.url
    commands = [["cases"], ["board", "--as-of", "2026-11-20"],
                ["stats", "--as-of", "2026-11-20", "--by", "item"],
                ["parallel", "list", "--as-of", "2026-11-20"]]  # fmt: skip
    for args in commands:
        result = runner.invoke(app, ["--db", url, *args], env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.output
        assert max(len(line) for line in result.stdout.splitlines()) <= 80
        assert not re.search(r"[A-Z]{2}-20\s*│?\s*$", result.stdout, re.MULTILINE)


# -- cases: JSON, filters, paging -----------------------------------------------------------


def _cases(url: str, *args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["--db", url, "cases", "--json", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_cases_json_prints_one_case_a_line_in_the_order_first_recorded(month: CaseLedger) -> None:
    listed = _cases(month.location.url)
    assert [c["case_no"] for c in listed] == month.case_numbers()
    first = listed[0]
    assert set(first) == {"case_no", "status", "item_code", "case_kind", "rule_pack",
                          "department", "received_at", "last_at", "version", "hash"}  # fmt: skip
    case = month.case(str(first["case_no"]))
    assert first["status"] == case.status.value and first["hash"] == case.last_hash
    assert first["received_at"] == case.events[0].at.isoformat()


def test_cases_filters_by_status_pack_department_and_item(month: CaseLedger) -> None:
    url = month.location.url
    every = _cases(url)
    for option, key, value in [("--status", "status", "approved"), ("--pack", "rule_pack",
                               "wuhou"), ("--department", "department", "市生态环境局"),
                               ("--item", "item_code", "QZ-SCJG-0101")]:  # fmt: skip
        chosen = _cases(url, option, value)
        assert chosen and chosen == [c for c in every if c[key] == value], option
    assert _cases(url, "--status", "准予许可") == _cases(url, "--status", "approved")
    both = _cases(url, "--status", "approved", "--pack", "wuhou")
    assert both == [c for c in every if c["status"] == "approved" and c["rule_pack"] == "wuhou"]
    assert _cases(url, "--status", "no_such_status") == []


def test_cases_pages_with_limit_and_offset_over_the_matches(month: CaseLedger) -> None:
    url = month.location.url
    every = _cases(url)
    assert _cases(url, "--limit", "5") == every[:5]
    assert _cases(url, "--offset", "5", "--limit", "5") == every[5:10]
    assert _cases(url, "--offset", str(len(every))) == []
    approved = _cases(url, "--status", "approved")
    assert _cases(url, "--status", "approved", "--offset", "3", "--limit", "4") == approved[3:7]
    pages = [_cases(url, "--offset", str(n), "--limit", "7") for n in range(0, len(every), 7)]
    assert [c for page in pages for c in page] == every
    result = runner.invoke(app, ["--db", url, "cases", "--limit", "0"])
    assert result.exit_code == 2


def test_cases_table_shows_the_page(month: CaseLedger) -> None:
    result = runner.invoke(
        app, ["--db", month.location.url, "cases", "--limit", "2"], env={"COLUMNS": "80"}
    )
    shown = [n for n in month.case_numbers() if n in result.stdout]
    assert result.exit_code == 0 and shown == month.case_numbers()[:2]


# -- the demo -------------------------------------------------------------------------------


def test_the_demo_counts_projects_apart_and_lists_its_first_20_cases_by_received_time(
    sqlite_url: str,
) -> None:
    result = runner.invoke(app, ["--db", sqlite_url, "demo", "--cases", "30"])
    assert result.exit_code == 0, result.output
    # 30 of Quanzhou, 15 of Wuhou and of Haiyang, 10 of Xinjian, 12 in the projects' stages
    assert (
        "verified: 423 events in 82 cases and 3 projects, with 5 rule-pack versions, every "
        "chain intact"
    ) in " ".join(result.stdout.split())
    first_table = result.stdout.split("the first 20 cases of the month")[1].split("└")[0]
    received = re.findall(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) │\n", first_table)
    assert len(received) == 20 and received == sorted(received)
    with CaseLedger(sqlite_url) as ledger:
        earliest = sorted(c.events[0].at.astimezone(CST) for c in ledger.cases())[:20]
    assert received == [moment.strftime("%Y-%m-%d %H:%M") for moment in earliest]


def test_verification_counts_cases_and_projects_apart(month: CaseLedger) -> None:
    report = month.verify()
    assert report.projects == len(month.project_numbers()) == 3
    assert report.cases - report.projects == len(month.case_numbers())
    line = render.verification(report).plain
    assert report.packs == len(month.pack_history()) == 5  # national and four cities
    assert line == (
        f"verified: {report.events} events in {report.cases - 3} cases and 3 projects, "
        "with 5 rule-pack versions, every chain intact"
    )
