"""``parallel list`` and ``parallel status``: parallel-approval projects (并联审批项目)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from caseledger.cli.common import (
    CHINA,
    AsOf,
    PlainCommand,
    PlainGroup,
    as_of_label,
    check_calendar,
    open_ledger,
    out,
    parse_as_of,
    reports_errors,
    suggesting_streams,
)
from caseledger.cli.render import ID, NUMBER, TEXT, days_left, new_table, short_light
from caseledger.cli.supervision import STYLE, AsJson, print_account, print_json
from caseledger.judging.project import ProjectEvaluation

__all__ = ["parallel_app", "projects_table"]

parallel_app = typer.Typer(
    help="Parallel-approval projects (并联审批): their overall deadlines, lights and stages.",
    no_args_is_help=True,
    cls=PlainGroup,
)


@parallel_app.command("list", cls=PlainCommand)
@reports_errors
def list_projects(ctx: typer.Context, as_of: AsOf = None, as_json: AsJson = False) -> None:
    """Every project registered by the moment, worst first."""
    moment = parse_as_of(as_of)
    with open_ledger(ctx) as ledger:
        check_calendar(ledger, moment.astimezone(CHINA).date())
        evaluations = ledger.projects(moment)
    if as_json:
        print_json([e.as_dict() for e in evaluations])
        return
    out.print(projects_table(evaluations, as_of_label(as_of, moment)))


@parallel_app.command("status", cls=PlainCommand)
@reports_errors
def project_status(
    ctx: typer.Context,
    project_no: Annotated[str, typer.Argument(metavar="PROJECT", help="The project number.")],
    as_of: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """A project's overall deadline, light, stages and cases as of a moment, and why."""
    moment = parse_as_of(as_of)
    with open_ledger(ctx) as ledger, suggesting_streams(ledger):
        check_calendar(ledger, moment.astimezone(CHINA).date())
        evaluation = ledger.evaluate_project(project_no, moment)
    print_account(evaluation, as_json=as_json)


def projects_table(evaluations: list[ProjectEvaluation], day: str) -> Table:
    """The projects as a table, worst first."""
    table = new_table(
        f"parallel-approval projects 并联审批 as of {day}",
        [("light /\nstatus", TEXT), ("project /\nkind", ID), ("title", TEXT), ("lead", TEXT),
         ("deadline /\nleft", ID), ("stages\ndone", NUMBER), ("cases\nred", NUMBER)],
    )  # fmt: skip
    for e in evaluations:
        done = sum(1 for s in e.stages if s.completed_on)
        red = sum(1 for c in e.cases if c.light is not None and c.light.value == "red")
        left = days_left(e.working_days_left)
        light = Text(short_light(e.light.zh), style=STYLE[e.light])
        light.append("\n" + e.status.zh)
        table.add_row(
            light,
            f"{e.project_no}\n{e.kind.zh}",
            e.title,
            e.lead.code,
            f"{e.deadline or '-'}\n{left}",
            f"{done}/{len(e.stages)}",
            f"{red}/{len(e.cases)}",
        )
    return table
