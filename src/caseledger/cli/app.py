"""The ``caseledger`` command line.

Every command finds its ledger from ``--db URL``, else the environment variable
``CASELEDGER_DB``, else ``sqlite:///caseledger.db`` in the current folder. Exit codes:
0 success; 1 a refused or bad input, or a store failure (one-line reason on stderr, any
details on the lines after it); 2 a usage error; 3 verification found tampering.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from caseledger.audit.seal import load_seal
from caseledger.cli import render
from caseledger.cli.common import (
    CHINA,
    EXIT_TAMPERED,
    Settings,
    err,
    open_ledger,
    out,
    reports_errors,
)
from caseledger.cli.packs import packs_app
from caseledger.cli.projects import parallel_app, projects_table
from caseledger.cli.supervision import (
    board_command,
    board_table,
    project_command,
    stats_command,
    stats_tables,
    status_command,
)
from caseledger.demo import DEMO_LAST_DAY, demo_month
from caseledger.interchange.files import record_file
from caseledger.interchange.jsonl import dump_events
from caseledger.interchange.schema import interchange_schema
from caseledger.ledger import CaseLedger
from caseledger.store.url import DEFAULT_URL

__all__ = ["app", "main"]

app = typer.Typer(
    name="caseledger",
    help="The ledger of administrative-approval cases (行政审批办件).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[
        str,
        typer.Option(
            "--db",
            envvar="CASELEDGER_DB",
            help="Ledger URL: sqlite:///PATH, sqlite:///:memory: or postgresql://...",
        ),
    ] = DEFAULT_URL,
    packs_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--packs-dir",
            envvar="CASELEDGER_PACKS_DIR",
            help="A folder of rule packs (or one pack) to use besides the installed ones.",
        ),
    ] = None,
    allow_pack_code: Annotated[
        bool,
        typer.Option(
            "--allow-pack-code",
            envvar="CASELEDGER_ALLOW_PACK_CODE",
            help="Run the Python code (hooks.py, __init__.py) of pack folders given with "
            "--packs-dir; without it such a folder is refused. Installed packs always load.",
        ),
    ] = False,
) -> None:
    ctx.obj = Settings(db, tuple(packs_dir or ()), allow_pack_code)


@contextmanager
def _ledger(ctx: typer.Context) -> Iterator[CaseLedger]:
    ledger = open_ledger(ctx)
    try:
        yield ledger
    finally:
        ledger.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@app.command()
@reports_errors
def record(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Case history in JSON Lines, one event a line.")],
) -> None:
    """Record a JSON Lines file of events, all or nothing."""
    with _ledger(ctx) as ledger, _progress() as progress:
        task = progress.add_task("checking events", total=None)

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = record_file(ledger, file, progress=step)
    out.print(
        f"recorded {result.recorded} event(s) of {result.cases} case(s) from {file}"
        + (f"; {result.already_recorded} already recorded" if result.already_recorded else "")
    )


@app.command()
@reports_errors
def show(
    ctx: typer.Context,
    case_no: Annotated[str, typer.Argument(metavar="CASE", help="The case number.")],
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d"],
            help="Show the case as it stood then: ISO time with offset, or a date "
            "(its end, +08:00).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the events as JSON Lines.")
    ] = False,
) -> None:
    """Show a case's state and timeline."""
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(hour=23, minute=59, second=59, tzinfo=CHINA)
    with _ledger(ctx) as ledger:
        case = ledger.case(case_no, as_of=as_of)
    if as_json:
        sys.stdout.buffer.write(dump_events(case.events))
        return
    out.print(render.case_header(case))
    out.print(render.timeline(case.events))


@app.command("cases")
@reports_errors
def list_cases(ctx: typer.Context) -> None:
    """List every case with its status."""
    with _ledger(ctx) as ledger:
        out.print(render.cases_table(ledger.cases()))


@app.command()
@reports_errors
def verify(
    ctx: typer.Context,
    seal: Annotated[
        Path | None, typer.Option("--seal", help="Also check against a seal taken earlier.")
    ] = None,
) -> None:
    """Check every case's hash chain; exit 3 naming each broken case and version."""
    sealed = load_seal(seal) if seal is not None else None
    with _ledger(ctx) as ledger:
        report = ledger.verify(seal=sealed)
    if report.ok:
        out.print(render.verification(report))
        return
    err.print(render.verification(report))
    raise typer.Exit(EXIT_TAMPERED)


@app.command()
@reports_errors
def seal(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the seal here instead of stdout.")
    ] = None,
) -> None:
    """Seal every case's head (keep the seal outside the database)."""
    with _ledger(ctx) as ledger:
        data = ledger.seal().to_json() + b"\n"
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        err.print(f"sealed into {output}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of one line of the interchange format."""
    data = orjson.dumps(interchange_schema(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    sys.stdout.buffer.write(data + b"\n")


@app.command()
@reports_errors
def demo(
    ctx: typer.Context,
    cases: Annotated[int, typer.Option(min=1, max=100_000, help="How many cases.")] = 60,
) -> None:
    """Record a sample month of cases across the cities, with parallel-approval projects,
    and show the supervision board, the projects and the statistics."""
    commands = demo_month(cases)
    with _ledger(ctx) as ledger:
        with _progress() as progress:
            task = progress.add_task("recording", total=len(commands))
            result = ledger.record_batch(
                commands, source="demo", progress=lambda n: progress.update(task, completed=n)
            )
        projects = ledger.project_numbers()
        out.print(
            f"recorded {result.recorded} event(s) of {result.cases - len(projects)} case(s) and "
            f"{len(projects)} parallel-approval project(s) into {ledger.location.redacted}"
            + (f" ({result.already_recorded} already there)" if result.already_recorded else "")
        )
        everything = list(ledger.cases())
        out.print(render.cases_table(everything[:20], title="the first 20 cases of the month"))
        for case in _interesting(everything):
            out.print(render.case_header(case))
            out.print(render.timeline(case.events))
        out.print(render.verification(ledger.verify()))
        day = DEMO_LAST_DAY
        out.print(board_table(ledger.board(day)))
        moment = dt.datetime.combine(day, dt.time(23, 59), tzinfo=CHINA)
        out.print(projects_table(ledger.projects(moment), day.isoformat()))
        for table in stats_tables(ledger.statistics(day, by="pack"), [], "pack", day):
            out.print(table)
        for table in stats_tables(ledger.statistics(day), ledger.scores(day), "department", day):
            out.print(table)


def _interesting(cases: list[Any]) -> list[Any]:
    """One case of each of a few instructive paths, for the demo."""
    wanted = ["clock_suspended", "documents_requested", "decision_altered"]
    chosen = []
    for event_type in wanted:
        for case in cases:
            if any(e.type == event_type for e in case.events):
                chosen.append(case)
                break
    return chosen


app.add_typer(packs_app, name="packs")
app.add_typer(parallel_app, name="parallel")
app.command("status")(status_command)
app.command("board")(board_command)
app.command("stats")(stats_command)
app.command("project")(project_command)


def main() -> None:
    """Entry point of the ``caseledger`` script."""
    app()
