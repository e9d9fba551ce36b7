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

from caseledger.cli.common import (
    CHINA,
    AsOf,
    as_of_day,
    check_calendar,
    close_matches,
    err,
    open_ledger,
    out,
    parse_as_of,
    reports_errors,
    suggesting_streams,
)
from caseledger.cli.render import ID, NUMBER, TEXT, counted, days_left, new_table, short_light
from caseledger.domain.vocabulary import CaseStatus
from caseledger.errors import UnknownFilterValue
from caseledger.judging.evaluation import CaseEvaluation
from caseledger.judging.judgement import Light
from caseledger.judging.project import ProjectEvaluation
from caseledger.ledger import CaseLedger
from caseledger.readmodels.reports import (
    GROUPINGS,
    Board,
    Grouping,
    ScoreRow,
    StatRow,
    known_values,
)

__all__ = [
    "STYLE",
    "AsJson",
    "AsOf",
    "board_command",
    "board_table",
    "check_filters",
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
    judge_under: Annotated[
        str,
        typer.Option(
            "--judge-under",
            metavar="recorded|installed|NAME@VERSION",
            help="The pack version to judge under: the one the case was accepted under "
            "(default), the installed one, or a named one.",
        ),
    ] = "recorded",
) -> None:
    """A case's deadlines, light, violations and sanctions as of a moment, and why."""
    moment = parse_as_of(as_of)
    with open_ledger(ctx) as ledger, suggesting_streams(ledger):
        check_calendar(ledger, moment.astimezone(CHINA).date())
        evaluation = ledger.evaluate(case_no, moment, judge_under=judge_under)
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
    day = as_of_day(as_of)
    with open_ledger(ctx) as ledger:
        check_calendar(ledger, day)
        check_filters(ledger, department=department, window=window, item=item)
        result = ledger.board(day, department=department, window=window, item=item, limit=limit)
    if as_json:
        print_json(result.as_dict())
        return
    out.print(board_table(result))


def check_filters(ledger: CaseLedger, **given: str | None) -> None:
    """Refuse a ``--department``, ``--window`` or ``--item`` that no case of the ledger has
    (:class:`UnknownFilterValue`, naming the closest ones): a misspelt filter would
    otherwise show an empty board, as if nothing were wrong."""
    wanted = {column: value for column, value in given.items() if value is not None}
    if wanted:
        ledger.catch_up()
    for column, value in wanted.items():
        known = known_values(ledger.read_models, column)
        if value not in known:
            raise UnknownFilterValue(f"--{column}", value, known)


def board_table(result: Board) -> Table:
    """The board as a table, worst first; each cell pairs what belongs together (case and
    item, department and window, deadline and days left) so identifiers fit whole."""
    entries = result.entries
    shown = "" if len(entries) == result.red + result.yellow else f", {len(entries)} shown"
    columns = [("light /\nstatus", TEXT), ("case /\nitem", ID), ("dept. /\nwindow", TEXT),
               ("deadline /\nleft", ID), ("violations", ID)]  # fmt: skip
    table = new_table(
        f"supervision board 电子监察 as of {result.as_of}: {result.red} red, "
        f"{result.yellow} yellow{shown}",
        columns,
    )
    for e in entries:
        left = days_left(e.working_days_left)
        if e.paused:
            left += ", paused"
        light = Text(short_light(e.light.zh), style=STYLE[e.light])
        light.append("\n" + _status_label(e.status))
        table.add_row(
            light,
            f"{e.case_no}\n{e.item_code or '-'}",
            f"{e.department or '-'}\n{e.window or '-'}",
            str(e.deadline or "-") + (" *" if e.provisional else "") + "\n" + left,
            "\n".join(e.violations) or "-",
        )
    return table


def _status_label(status: str) -> str:
    try:
        return CaseStatus(status).zh
    except ValueError:
        return status


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
        near = close_matches(by, GROUPINGS)
        guess = f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
        raise typer.BadParameter(
            f"{by!r} is not a grouping{guess}; use one of {', '.join(GROUPINGS)}",
            param_hint="--by",
        )
    day = as_of_day(as_of)
    grouping: Grouping = by  # type: ignore[assignment]
    with open_ledger(ctx) as ledger:
        check_calendar(ledger, day)
        rows = ledger.statistics(day, by=grouping)
        scores = ledger.scores(day, by="window" if by == "window" else "department")
    if as_json:
        print_json(
            {
                "as_of": day.isoformat(),
                "by": by,
                "rows": [r.as_dict() for r in rows],
                "sanctions": [s.as_dict() for s in scores],
            }
        )
        return
    for table in stats_tables(rows, scores, by, day):
        out.print(table)


def stats_tables(rows: list[StatRow], scores: list[ScoreRow], by: str, day: dt.date) -> list[Table]:
    """The statistics (volumes, then timeliness and ratings: two tables, so that each fits
    80 columns), and the sanctions roll-up when there are sanctions."""
    key = ID if by in ("window", "item", "month", "quarter", "pack") else TEXT
    volumes = new_table(
        f"statistics by {by} as of {day}",
        [(by, key), ("received\n收件", NUMBER), ("finished\n办结", NUMBER), ("open", NUMBER),
         ("overdue\n超时", NUMBER), ("average\nworking\ndays", NUMBER)],
    )  # fmt: skip
    quality = new_table(
        f"timeliness and ratings by {by} as of {day}",
        [(by, key), ("on\ntime", NUMBER), ("early\n提前", NUMBER), ("early\nrate", NUMBER),
         ("rated\n评价", NUMBER), ("good\n好评率", NUMBER)],
    )  # fmt: skip
    for r in rows:
        rate = "-" if r.early_rate is None else f"{r.early_rate:.1%}"
        good = "-" if r.good_rating_rate is None else f"{r.good_rating_rate:.1%}"
        volumes.add_row(r.key, str(r.received), str(r.finished), str(r.open), str(r.overdue),
                        str(r.average_working_days or "-"))  # fmt: skip
        quality.add_row(r.key, str(r.on_time), str(r.early), rate, str(r.rated), good)
    tables = [volumes, quality]
    if scores:
        sanctions = new_table(
            "sanctions 问责与扣分",
            [("unit", TEXT), ("pack", ID), ("sanctions", NUMBER), ("points\noff", NUMBER),
             ("score", NUMBER), ("rectifications\ndue", ID)],
        )  # fmt: skip
        for s in scores:
            due = "\n".join(
                f"{c}\n  by {d}" if d else f"{c}\n  (no period set)"
                for c, d, _ in s.rectifications_due
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
    err.print(f"{done} {counted(count, 'event')} in {elapsed:.2f} s{rate}")
