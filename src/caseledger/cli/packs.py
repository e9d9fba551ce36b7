"""``caseledger packs``: list, show, validate and test rule packs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from caseledger.cli.common import (
    EXIT_REFUSED,
    PlainCommand,
    PlainGroup,
    Settings,
    err,
    out,
    reports_errors,
)
from caseledger.rules import PackRegistry, RulePack
from caseledger.rules.model import PackData
from caseledger.rules.scaffold import scaffold_pack
from caseledger.scenarios.folder import PackUnderTest, load_pack_folder, run_pack_scenarios

__all__ = ["packs_app"]

packs_app = typer.Typer(
    help="Rule packs: list, show, validate, test.", no_args_is_help=True, cls=PlainGroup
)


def _pack_folder(ctx: typer.Context, path: Path) -> PackUnderTest:
    """The pack folder ``path``, with the packs of ``--packs-dir``; its code (if any) runs
    only with ``--allow-pack-code`` (or if it is an installed pack's)."""
    settings: Settings = ctx.find_root().obj
    return load_pack_folder(path, settings.packs_dirs, allow_code=settings.allow_pack_code)


def _registry(ctx: typer.Context) -> PackRegistry:
    settings: Settings = ctx.find_root().obj
    return settings.registry()


@packs_app.command("list", cls=PlainCommand)
@reports_errors
def list_packs(ctx: typer.Context) -> None:
    """List the installed rule packs with their version and content hash."""
    registry = _registry(ctx)
    table = Table(title="rule packs")
    for column in ("name", "version", "title", "extends", "hash", "from"):
        # names and hashes are what a user types next: never broken across lines
        table.add_column(column, overflow="fold", no_wrap=column in ("name", "hash"))
    for pack in registry:
        table.add_row(
            pack.name,
            pack.version,
            pack.title,
            pack.data.pack.extends or "-",
            pack.content_hash[:12],
            registry.origin(pack.name),
        )
    out.print(table)
    for name, error in sorted(registry.broken.items()):
        err.print(f"broken pack {name}: {error}", markup=False, soft_wrap=True)


def _versions_table(title: str, rows: list[tuple[str, ...]], columns: tuple[str, ...]) -> Table:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _show(pack: RulePack) -> None:
    header = pack.data.pack
    out.print(f"[bold]{pack.name}[/] {pack.version}: {pack.title}")
    out.print(f"extends: {header.extends or '-'}   catalogue: {header.catalogue}   "
              f"utc offset: {header.utc_offset}")  # fmt: skip
    out.print(f"content hash: {pack.content_hash}")
    out.print(f"reference: {header.reference}", soft_wrap=True)
    lineage = list(pack.lineage())
    sections: list[tuple[str, str, tuple[str, ...]]] = [
        ("limits", "time limits (working days)", ("key", "days", "label")),
        ("case_kinds", "case kinds", ("key", "limit", "extension")),
        ("clock", "clock", ("key", "effect", "notice")),
        ("thresholds", "yellow threshold", ("key", "days left", "share used")),
        ("items", "catalogue", ("code", "name", "department", "kind", "statutory", "promised")),
        ("scopes", "authorisation scopes", ("key", "holder", "decisions", "items/kinds")),
        ("sanctions", "sanctions", ("key", "violation", "sanction", "label")),
    ]
    for attribute, title, columns in sections:
        rows = []
        for layer in lineage:
            for key, versions in getattr(layer.data, attribute).items():
                for v in versions:
                    fields = _fields(attribute, key, v)
                    span = f"{v.from_}–{v.to or ''}"
                    rows.append((*fields, span, layer.name, v.reference))
        if rows:
            out.print(_versions_table(title, rows, (*columns, "in force", "pack", "reference")))


def _fields(attribute: str, key: str, v: object) -> tuple[str, ...]:
    get = v.__getattribute__
    if attribute == "limits":
        return key, str(get("working_days")), get("label")
    if attribute == "case_kinds":
        return key, get("limit"), get("extension") or "-"
    if attribute == "clock":
        return key, str(get("effect")), "required" if get("requires_notice") else "-"
    if attribute == "thresholds":
        return key, str(get("working_days_left") or "-"), str(get("share_used") or "-")
    if attribute == "items":
        statutory, promised = get("statutory_limit"), get("promised_limit")
        kind = str(get("case_kind"))
        return (
            key,
            get("name"),
            get("department"),
            kind,
            str(statutory or "kind"),
            str(promised or "-"),
        )
    if attribute == "scopes":
        holder = get("holder")
        who = f"{holder.department}: {', '.join(holder.roles)}"
        if holder.windows:
            who += f" @ {', '.join(holder.windows)}"
        kinds = ", ".join(k.value for k in get("case_kinds"))
        return key, who, ", ".join(get("decisions")), f"{', '.join(get('items'))} / {kinds}"
    return key, str(get("violation")), str(get("sanction")), get("label")


@packs_app.command("show", cls=PlainCommand)
@reports_errors
def show_pack(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The pack's name.")],
) -> None:
    """Show a pack's rules with their dates and references (its parents' too)."""
    _show(_registry(ctx).get(name))


@packs_app.command("validate", cls=PlainCommand)
@reports_errors
def validate_pack(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="PATH", help="A pack folder, or its pack.toml.")],
) -> None:
    """Check a pack folder: schema, dates, overrides, scopes; exit 1 naming each problem."""
    pack = _pack_folder(ctx, path).pack
    out.print(f"{pack.name} {pack.version} is valid (content hash {pack.content_hash[:12]})")


@packs_app.command("test", cls=PlainCommand)
@reports_errors
def test_pack(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="A pack folder (its scenarios/ are run).")
    ],
    scenarios: Annotated[
        Path | None,
        typer.Option(
            "--scenarios", metavar="PATH", help="A scenario file or folder to run instead."
        ),
    ] = None,
) -> None:
    """Run a pack's scenario files; exit 1 if any scenario fails."""
    results = run_pack_scenarios(_pack_folder(ctx, path), scenarios)
    for result in results:
        mark = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
        out.print(f"{mark} {result.name}", soft_wrap=True)
        for mismatch in result.mismatches:
            out.print(f"     {mismatch}", markup=False, soft_wrap=True)
    failed = sum(not r.passed for r in results)
    summary = f"{len(results) - failed} passed, {failed} failed"
    out.print(summary)
    if failed:
        raise typer.Exit(EXIT_REFUSED)


@packs_app.command("new", cls=PlainCommand)
@reports_errors
def new_pack(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The pack's name: lower-case, digits and _.")
    ],
    directory: Annotated[
        Path, typer.Option("--dir", metavar="DIR", help="Where to create caseledger-pack-NAME.")
    ] = Path("."),
) -> None:
    """Scaffold an installable pack that passes its own tests."""
    root = scaffold_pack(name, directory)
    out.print(f"created {root}: `cd {root} && pytest` runs its scenarios; "
              "`pip install -e .` installs it")  # fmt: skip


@packs_app.command("schema", cls=PlainCommand)
def pack_schema() -> None:
    """Print the JSON Schema of pack.toml (as JSON)."""
    schema = PackData.model_json_schema(by_alias=True)
    sys.stdout.buffer.write(orjson.dumps(schema, option=orjson.OPT_INDENT_2) + b"\n")
