"""The ``caseledger`` command line.

Every command finds its ledger from ``--db URL``, else the environment variable
``CASELEDGER_DB``, else ``sqlite:///caseledger.db`` in the current folder. Exit codes:
0 success; 1 a refused or bad input, or a store failure (one-line reason on stderr, any
details on the lines after it); 2 a usage error; 3 verification found tampering.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from caseledger import __version__
from caseledger.audit.keys import load_verifier
from caseledger.audit.seal import load_seal
from caseledger.cli import render
from caseledger.cli.cases import (
    CaseFilter,
    case_summary,
    check_case_filter,
    received_order,
    select_cases,
)
from caseledger.cli.common import (
    CHINA,
    EXIT_TAMPERED,
    AsOf,
    PlainCommand,
    PlainGroup,
    Settings,
    err,
    fail,
    open_ledger,
    out,
    parse_as_of,
    reports_errors,
    suggesting_streams,
    write_private,
)
from caseledger.cli.packs import packs_app
from caseledger.cli.projects import parallel_app, projects_table
from caseledger.cli.render import counted
from caseledger.cli.serve import serve_command, tokens_app
from caseledger.cli.supervision import (
    board_command,
    board_table,
    project_command,
    stats_command,
    stats_tables,
    status_command,
)
from caseledger.cli.transparency import read_checkpoint, register
from caseledger.cli.whatif import diff_command, history_command, whatif_command
from caseledger.demo import DEMO_LAST_DAY, demo_month
from caseledger.errors import SealOfAnotherLedger, UnknownFilterValue
from caseledger.interchange.files import record_file
from caseledger.interchange.jsonl import dump_events
from caseledger.interchange.schema import interchange_schema
from caseledger.store.url import DEFAULT_URL

__all__ = ["app", "main"]

app = typer.Typer(
    name="caseledger",
    help="The ledger of administrative-approval cases (行政审批办件).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=PlainGroup,
)


def _print_version(value: bool) -> None:
    if value:
        out.print(f"caseledger {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[
        str,
        typer.Option(
            "--db",
            metavar="URL",
            envvar="CASELEDGER_DB",
            help="Ledger URL: sqlite:///PATH, sqlite:///:memory: or postgresql://...",
        ),
    ] = DEFAULT_URL,
    packs_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--packs-dir",
            metavar="DIR",
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
    create: Annotated[
        bool,
        typer.Option(
            "--create",
            help="Start an empty SQLite ledger if the file does not exist (reading commands "
            "otherwise refuse a missing file; record and demo create it anyway).",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    ctx.obj = Settings(db, tuple(packs_dir or ()), allow_pack_code, create)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@app.command(cls=PlainCommand)
@reports_errors
def record(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="Case history in JSON Lines, one event a line (an export of show --json too).",
        ),
    ],
) -> None:
    """Record a JSON Lines file of events, all or nothing (creates the ledger if needed)."""
    with open_ledger(ctx, create=True) as ledger, _progress() as progress:
        task = progress.add_task("checking events", total=None)

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = record_file(ledger, file, progress=step)
    out.print(
        f"recorded {counted(result.recorded, 'event')} of {counted(result.cases, 'case')} "
        f"from {file}"
        + (f"; {result.already_recorded} already recorded" if result.already_recorded else ""),
        soft_wrap=True,
    )


@app.command(cls=PlainCommand)
@reports_errors
def show(
    ctx: typer.Context,
    case_no: Annotated[str, typer.Argument(metavar="CASE", help="The case number.")],
    as_of: AsOf = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the events as JSON Lines (record takes them back)."),
    ] = False,
) -> None:
    """Show a case's state and timeline (now, or as it stood at --as-of)."""
    moment = parse_as_of(as_of, default_now=False)
    with open_ledger(ctx) as ledger, suggesting_streams(ledger):
        case = ledger.case(case_no, as_of=moment)
    if as_json:
        sys.stdout.buffer.write(dump_events(case.events))
        return
    out.print(render.case_header(case))
    out.print(render.timeline(case.events))


@app.command("cases", cls=PlainCommand)
@reports_errors
def list_cases(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(metavar="STATUS", help="Only cases in this status (approved, 准予许可 …)."),
    ] = None,
    pack: Annotated[
        str | None, typer.Option(metavar="PACK", help="Only cases judged by this rule pack.")
    ] = None,
    department: Annotated[
        str | None,
        typer.Option(metavar="DEPT", help="Only cases received by this department."),
    ] = None,
    item: Annotated[
        str | None, typer.Option(metavar="CODE", help="Only cases of this item code.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="At most this many cases.")
    ] = None,
    offset: Annotated[
        int, typer.Option(min=0, metavar="N", help="Skip this many (matching) cases first.")
    ] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON Lines, one case a line.")
    ] = False,
) -> None:
    """List the cases with their status, in the order they were first recorded."""
    wanted = CaseFilter(status=status, pack=pack, department=department, item=item)
    with open_ledger(ctx) as ledger:
        chosen = list(select_cases(ledger, wanted, offset=offset, limit=limit))
        if not chosen and not wanted.empty:
            try:
                check_case_filter(ledger, wanted)
            except UnknownFilterValue as unknown:  # an empty list stays a list (exit 0),
                # but a misspelt filter is named as such
                err.print(f"note: {unknown}", markup=False, highlight=False, soft_wrap=True)
    if as_json:
        sys.stdout.buffer.write(b"".join(orjson.dumps(case_summary(c)) + b"\n" for c in chosen))
        return
    out.print(render.cases_table(chosen))


@app.command(cls=PlainCommand)
@reports_errors
def verify(
    ctx: typer.Context,
    seal: Annotated[
        Path | None,
        typer.Option("--seal", metavar="FILE", help="Also check against a seal taken earlier."),
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            metavar="FILE",
            help="Check the log against this "
            "signed checkpoint (default with --key: the last one kept).",
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option("--key", metavar="PUB", help="The ledger's verifier key (or its file)."),
    ] = None,
) -> None:
    """Check every case's hash chain (and the whole log against a signed checkpoint, with
    --key); exit 3 naming each broken case and version."""
    sealed = load_seal(seal) if seal is not None else None
    signed = read_checkpoint(checkpoint) if checkpoint is not None else None
    verifier = load_verifier(key) if key is not None else None
    with open_ledger(ctx) as ledger:
        try:
            report = ledger.verify(seal=sealed, checkpoint=signed, key=verifier)
        except SealOfAnotherLedger as error:  # name the file the user gave
            raise SealOfAnotherLedger(
                f"seal {str(seal)!r}", error.sealed_ledger, error.ledger, matching=error.matching
            ) from None
    if report.ok:
        out.print(render.verification(report))
        return
    err.print(render.verification(report))
    raise typer.Exit(EXIT_TAMPERED)


@app.command(cls=PlainCommand)
@reports_errors
def seal(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="FILE", help="Write the seal here (owner-only) instead of stdout."
        ),
    ] = None,
) -> None:
    """Seal every case's head (keep the seal outside the database)."""
    with open_ledger(ctx) as ledger:
        data = ledger.seal().to_json() + b"\n"
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        try:
            write_private(output, data)
        except OSError as error:
            raise fail(f"cannot write the seal to {output}: {error.strerror}") from error
        err.print(f"sealed into {output}", soft_wrap=True, highlight=False)


@app.command(cls=PlainCommand)
def schema() -> None:
    """Print the JSON Schema of one line of the interchange format."""
    data = orjson.dumps(interchange_schema(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    sys.stdout.buffer.write(data + b"\n")


@app.command(cls=PlainCommand)
@reports_errors
def demo(
    ctx: typer.Context,
    cases: Annotated[
        int, typer.Option(min=1, max=100_000, metavar="N", help="How many cases.")
    ] = 60,
) -> None:
    """Record a sample month of cases of four cities and their parallel-approval projects,
    then show the board, the projects and the statistics."""
    commands = demo_month(cases)
    with open_ledger(ctx, create=True) as ledger:
        with _progress() as progress:
            task = progress.add_task("recording", total=len(commands))
            result = ledger.record_batch(
                commands, source="demo", progress=lambda n: progress.update(task, completed=n)
            )
        projects = ledger.project_numbers()
        out.print(
            f"recorded {counted(result.recorded, 'event')} of "
            f"{counted(result.cases - len(projects), 'case')} and "
            f"{counted(len(projects), 'parallel-approval project')} into "
            f"{ledger.location.redacted}"
            + (f" ({result.already_recorded} already there)" if result.already_recorded else ""),
            soft_wrap=True,
        )
        everything = list(ledger.cases())
        first = sorted(everything, key=received_order)[:20]
        out.print(render.cases_table(first, title="the first 20 cases of the month", received=True))
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
app.command("status", cls=PlainCommand)(status_command)
app.command("board", cls=PlainCommand)(board_command)
app.command("stats", cls=PlainCommand)(stats_command)
app.command("project", cls=PlainCommand)(project_command)
app.command("whatif", cls=PlainCommand)(whatif_command)
packs_app.command("history", cls=PlainCommand)(history_command)
packs_app.command("diff", cls=PlainCommand)(diff_command)
register(app)  # keys new, checkpoint, witness, prove, verify-proof (issue 13)
app.command("serve", cls=PlainCommand)(serve_command)  # issue 14
app.add_typer(tokens_app, name="tokens")


def main() -> None:
    """Entry point of the ``caseledger`` script."""
    app()
