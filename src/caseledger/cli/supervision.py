"""``status``, ``board``, ``stats`` and ``project``: what the supervision office runs."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
from typing import Annotated

import orjson
import typer
from rich.table import Table
from rich.text import Text

from caseledger.cli.common import AsOf, err, open_ledger, out, parse_as_of, reports_errors
from caseledger.judging.evaluation import CaseEvaluation
from caseledger.judging.judgement import Light
from caseledger.judging.project import ProjectEvaluation
from caseledger.readmodels.reports import GROUPINGS, Board, Grouping, ScoreRow, StatRow

__all__ = [
    "STYLE",
    "AsJson",
    "AsOf",
    "board_command",
    "board_table",
    "print_account",
    "print_json",
    "project_command",
    "stats_command",
    "stats_tables",
    "status_command",
]

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
STYLE = {Light.RED: "bold red", Light.YELLOW: "yellow", Light.GREEN: "green"}


def print_json(data: object) -> None:
    """Print ``data`` as indented JSON."""
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


@reports_errors
def status_command(
    ctx: typer.Context,
    case_no: Annotated[str, typer.Argument(metavar="CASE", help="The case number.")],
    as_of: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """A case's deadlines, light, violations and sanctions as of a moment, and why."""
    moment = parse_as_of(as_of)
    with open_ledger(ctx) as ledger:
        evaluation = ledger.evaluate(case_no, moment)
    print_account(evaluation, as_json=as_json)


def print_account(evaluation: CaseEvaluation | ProjectEvaluation, *, as_json: bool) -> None:
    """An evaluation's JSON, or its explanation with the light (its fourth line) coloured."""
    if as_json:
        print_json(evaluation.as_dict())
        return
    for number, line in enumerate(evaluation.explain()):
        style = STYLE[evaluation.light] if number == 3 else ""
        out.print(Text(line, style=style), soft_wrap=True)


@reports_errors
def board_command(
    ctx: typer.Context,
    as_of: AsOf = None,
    department: Annotated[
        str | None, typer.Option(metavar="DEPT", help="Only this department.")
    ] = None,
    window: Annotated[str | None, typer.Option(metavar="WINDOW", help="Only this window.")] = None,
    item: Annotated[str | None, typer.Option(metavar="CODE", help="Only this item code.")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="At most this many cases.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Every open case that is yellow or red, worst first."""
    moment = parse_as_of(as_of)
    with open_ledger(ctx) as ledger:
        day = moment.date()
        result = ledger.board(day, department=department, window=window, item=item, limit=limit)
    if as_json:
        print_json(result.as_dict())
        return
    out.print(board_table(result))


def board_table(result: Board) -> Table:
    """The board as a table, worst first."""
    entries = result.entries
    shown = "" if len(entries) == result.red + result.yellow else f", {len(entries)} shown"
    table = Table(
        title=f"supervision board 电子监察 as of {result.as_of}: {result.red} red, "
        f"{result.yellow} yellow{shown}"
    )
    for column in ("light", "case", "status", "item", "department", "window", "deadline",
                   "left", "violations"):  # fmt: skip
        table.add_column(column, overflow="fold")
    for e in entries:
        left = "-" if e.working_days_left is None else str(e.working_days_left)
        if e.paused:
            left += " (paused)"
        table.add_row(
            Text(e.light.zh, style=STYLE[e.light]),
            e.case_no,
            e.status,
            e.item_code or "-",
            e.department or "-",
            e.window or "-",
            str(e.deadline or "-") + (" *" if e.provisional else ""),
            left,
            ", ".join(e.violations) or "-",
        )
    return table


@reports_errors
def stats_command(
    ctx: typer.Context,
    as_of: AsOf = None,
    by: Annotated[
        str,
        typer.Option(
            metavar="KEY", help="Group by department, window, item, month, quarter or pack."
        ),
    ] = "department",
    as_json: AsJson = False,
) -> None:
    """Received, finished, on time, early (提前办结), overdue and average working days."""
    if by not in GROUPINGS:
        raise typer.BadParameter(f"use one of {', '.join(GROUPINGS)}", param_hint="--by")
    moment = parse_as_of(as_of)
    grouping: Grouping = by  # type: ignore[assignment]
    with open_ledger(ctx) as ledger:
        rows = ledger.statistics(moment.date(), by=grouping)
        scores = ledger.scores(moment.date(), by="window" if by == "window" else "department")
    if as_json:
        print_json(
            {
                "as_of": moment.date().isoformat(),
                "by": by,
                "rows": [r.as_dict() for r in rows],
                "sanctions": [s.as_dict() for s in scores],
            }
        )
        return
    for table in stats_tables(rows, scores, by, moment.date()):
        out.print(table)


def stats_tables(rows: list[StatRow], scores: list[ScoreRow], by: str, day: dt.date) -> list[Table]:
    """The statistics, and the sanctions roll-up when there are sanctions."""
    table = Table(title=f"statistics by {by} as of {day}")
    for column in (by, "received 收件", "finished 办结", "on time", "early 提前", "early rate",
                   "overdue 超时", "open", "avg working days", "rated 评价",
                   "good 好评率"):  # fmt: skip
        table.add_column(column, overflow="fold")
    for r in rows:
        rate = "-" if r.early_rate is None else f"{r.early_rate:.1%}"
        good = "-" if r.good_rating_rate is None else f"{r.good_rating_rate:.1%}"
        table.add_row(r.key, str(r.received), str(r.finished), str(r.on_time), str(r.early), rate,
                      str(r.overdue), str(r.open), str(r.average_working_days or "-"),
                      str(r.rated), good)  # fmt: skip
    tables = [table]
    if scores:
        sanctions = Table(title="sanctions 问责与扣分")
        for column in ("unit", "pack", "sanctions", "points off", "score", "rectifications due"):
            sanctions.add_column(column, overflow="fold")
        for s in scores:
            due = "; ".join(
                f"{c} by {d}" if d else f"{c} (no period set)" for c, d, _ in s.rectifications_due
            )
            sanctions.add_row(s.key, s.rule_pack, str(s.sanctions), str(s.points_off),
                              "-" if s.score is None else str(s.score), due or "-")  # fmt: skip
        tables.append(sanctions)
    return tables


@reports_errors
def project_command(
    ctx: typer.Context,
    rebuild: Annotated[
        bool, typer.Option(help="Clear the read models and replay every event.")
    ] = False,
    follow: Annotated[
        bool, typer.Option(help="Keep them up to date as events are recorded (Ctrl-C stops).")
    ] = False,
    seconds: Annotated[
        float | None,
        typer.Option(min=0, metavar="S", help="With --follow: stop after this many seconds."),
    ] = None,
) -> None:
    """Bring the read models up to date with the event log (rebuild them, or follow it)."""
    with open_ledger(ctx) as ledger:
        started = time.perf_counter()
        if follow:
            stop = threading.Event()
            if seconds is not None:
                timer = threading.Timer(seconds, stop.set)
                timer.daemon = True
                timer.start()
            try:
                count = ledger.follow(stop)
            except KeyboardInterrupt:
                stop.set()
                count = ledger.catch_up()
        else:
            count = ledger.rebuild_read_models() if rebuild else ledger.catch_up()
        elapsed = time.perf_counter() - started
    rate = f", {count / elapsed:,.0f} events/s" if count and elapsed > 0 else ""
    done = "rebuilt from" if rebuild else "applied"
    err.print(f"{done} {count} event(s) in {elapsed:.2f} s{rate}")
