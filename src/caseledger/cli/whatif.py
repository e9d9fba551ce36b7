"""``caseledger whatif``, ``packs history`` and ``packs diff``: rule-pack versions kept in the
ledger, recorded cases re-judged under another version, and what two versions change."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from caseledger.cli.common import (
    AsOf,
    Settings,
    open_ledger,
    out,
    parse_as_of,
    reports_errors,
)
from caseledger.cli.render import ID, TEXT, counted, new_table
from caseledger.cli.supervision import AsJson, print_json
from caseledger.errors import PackBaselineDiffers, UnknownPackVersion
from caseledger.ledger import CaseLedger
from caseledger.rules.pack import RulePack
from caseledger.rules.registry import PackRegistry
from caseledger.rules.versions import RuleChange, baseline_of, pack_changes

__all__ = ["diff_command", "history_command", "whatif_command"]

PackOption = Annotated[
    str,
    typer.Option(
        "--pack",
        metavar="NAME@VERSION|PATH",
        help="The pack version to judge under: installed or held in the ledger, or a folder.",
    ),
]


def chosen_pack(ctx: typer.Context, ledger: CaseLedger, asked: str) -> RulePack:
    """``asked``: a pack folder (validated with the installed packs it extends), or
    ``NAME@VERSION`` (installed or held in the ledger), or ``NAME`` (installed)."""
    path = Path(asked)
    if path.name == "pack.toml":
        path = path.parent
    if (path / "pack.toml").is_file():
        settings: Settings = ctx.find_root().obj
        registry = PackRegistry.for_folder(
            path, settings.packs_dirs, allow_code=settings.allow_pack_code
        )
        name = next(p.name for p in registry if registry.origin(p.name).endswith(str(path)))
        return registry.get(name)
    if "/" in asked or asked.startswith("."):
        raise UnknownPackVersion(asked, ledger.judging_packs.known_versions(),
                                 why="is not a pack folder (no pack.toml there)")  # fmt: skip
    return ledger.pack_version(asked)


@reports_errors
def whatif_command(
    ctx: typer.Context,
    pack: PackOption,
    as_of: AsOf = None,
    department: Annotated[
        str | None, typer.Option(metavar="DEPT", help="Only cases received by this department.")
    ] = None,
    item: Annotated[str | None, typer.Option(metavar="ITEM", help="Only this item.")] = None,
    case: Annotated[
        list[str] | None, typer.Option("--case", metavar="CASE", help="Only these cases.")
    ] = None,
    as_json: AsJson = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV, one line a change.")] = False,
) -> None:
    """Re-judge recorded cases under another pack version and show what changes (假设分析);
    nothing is recorded."""
    moment = parse_as_of(as_of)
    with open_ledger(ctx) as ledger:
        alternative = chosen_pack(ctx, ledger, pack)
        report = ledger.what_if(
            alternative, as_of=moment, cases=case, department=department, item=item
        )
    if as_json:
        print_json(report.as_dict())
        return
    if as_csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["case_no", "department", "item_code", "recorded", "field", "before",
                         "after", "rules"])  # fmt: skip
        for change in report.changes:
            rules = " | ".join(f"{r.section}.{r.key}" for r in change.rules)
            for name in change.fields:
                writer.writerow([change.case_no, change.department, change.item_code or "",
                                 change.recorded, name, _cell(change.before[name]),
                                 _cell(change.after[name]), rules])  # fmt: skip
        sys.stdout.write(buffer.getvalue())
        return
    summary = report.summary()
    out.print(
        f"what-if 假设分析 under {report.pack} (content hash {report.content_hash[:16]}…) as of "
        f"{summary['as_of']}: {counted(report.judged, 'case')} judged, "
        f"{len(report.changes)} changed, {len(report.turned_red)} turn red, "
        f"{len(report.no_longer_red)} no longer red; nothing recorded",
        soft_wrap=True,
    )
    for department_name, points in summary["points_by_department"].items():
        out.print(
            f"  points off {department_name}: {points['before']} → {points['after']}",
            soft_wrap=True,
        )
    if not report.changes:
        return
    table = new_table(
        "changed cases 变化的办件",
        [("case", ID), ("department", TEXT), ("what changes", TEXT), ("rules", TEXT)],
    )
    for change in report.changes:
        what = "\n".join(
            f"{f}: {_cell(change.before[f])} → {_cell(change.after[f])}" for f in change.fields
        )
        rules = "\n".join(r.line() for r in change.rules) or "-"
        table.add_row(change.case_no, change.department, what, rules)
    out.print(table)


def _cell(value: object) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value) or "-"
    return "-" if value is None else str(value)


@reports_errors
def history_command(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(metavar="[NAME]", help="Only this pack's versions.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The pack versions this ledger holds, with their content hash and first use."""
    with open_ledger(ctx) as ledger:
        held = ledger.pack_history(name)
    if as_json:
        print_json(
            [
                {
                    "name": h.content.name,
                    "version": h.content.version,
                    "content_hash": h.content.content_hash,
                    "extends": h.content.extends,
                    "extends_hash": h.content.extends_hash,
                    "first_used_at": h.first_used_at.isoformat(),
                    "first_case": h.first_case,
                    "recorded_at": h.recorded_at.isoformat(),
                }
                for h in held
            ]
        )
        return
    table = new_table(
        "pack versions in the ledger 账内规则包版本",
        [("name", ID), ("version", ID), ("content hash", ID), ("extends", ID),
         ("first used", ID), ("first case", TEXT)],
    )  # fmt: skip
    for h in held:
        extends = f"{h.content.extends}\n{(h.content.extends_hash or '')[:8]}"
        table.add_row(h.content.name, h.content.version, h.content.content_hash[:12],
                      extends if h.content.extends else "-", h.first_used_at.date().isoformat(),
                      h.first_case or "-")  # fmt: skip
    out.print(table)


@reports_errors
def diff_command(
    ctx: typer.Context,
    first: Annotated[str, typer.Argument(metavar="A", help="NAME@VERSION, NAME or a folder.")],
    second: Annotated[str, typer.Argument(metavar="B", help="NAME@VERSION, NAME or a folder.")],
    as_json: AsJson = False,
) -> None:
    """The rules that differ between two pack versions, by section and date, with their
    references."""
    with open_ledger(ctx) as ledger:
        a, b = chosen_pack(ctx, ledger, first), chosen_pack(ctx, ledger, second)
    if baseline_of(a) != baseline_of(b):
        raise PackBaselineDiffers(b.name, baseline_of(a), baseline_of(b))
    changes = pack_changes(a, b)
    if as_json:
        print_json(
            {
                "a": {"name": a.name, "version": a.version, "content_hash": a.content_hash},
                "b": {"name": b.name, "version": b.version, "content_hash": b.content_hash},
                "changes": [c.as_dict() for c in changes],
            }
        )
        return
    out.print(
        f"{a.name} {a.version} ({a.content_hash[:12]}) → {b.name} {b.version} "
        f"({b.content_hash[:12]}): {counted(len(changes), 'rule')} "
        f"{'differs' if len(changes) == 1 else 'differ'}",
        soft_wrap=True,
    )
    if changes:
        out.print(_changes_table(changes))


def _changes_table(changes: list[RuleChange]) -> Table:
    table = new_table(
        "rules that differ 规则差异",
        [("rule", TEXT), ("in force", TEXT), ("before", TEXT), ("after", TEXT),
         ("references", TEXT)],
    )  # fmt: skip
    for change in changes:
        before = _side(change, "before")
        after = _side(change, "after")
        table.add_row(f"{change.section}.{change.key}",
                      f"{change.first}..{change.last or ''}", before, after,
                      "\n".join(dict.fromkeys(change.references)))  # fmt: skip
    return table


def _side(change: RuleChange, side: str) -> str:
    resolved = change.before if side == "before" else change.after
    if resolved is None:
        return "(none)"
    values = resolved.rule.model_dump(mode="json", by_alias=True)
    fields = [f for f in change.fields if f != "reference"] or list(change.fields)
    shown = [f"{f} {values.get(f)!r}" for f in fields if f in values]
    return f"{resolved.pack}: " + (", ".join(shown) if shown else "(all)")
