"""An example third-party rule pack (illustrative: an imaginary district, 示例区)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from caseledger.rules import PackSource, RulePack, hookimpl
from caseledger.rules.model import Decision, PackHeader

HERE = Path(__file__).parent


@hookimpl
def caseledger_rulepack() -> PackSource:
    return PackSource(HERE / "pack.toml")


@hookimpl
def caseledger_items(pack: PackHeader) -> dict[str, list[dict[str, Any]]]:
    """The part of the catalogue kept as the CSV the district's catalogue system exports."""
    items: dict[str, list[dict[str, Any]]] = {}
    with (HERE / "catalogue.csv").open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            items[row["code"]] = [
                {
                    "from": row["from"],
                    "name": row["name"],
                    "department": row["department"],
                    "case_kind": row["case_kind"],
                    "statutory_limit": int(row["statutory_limit"]),
                    "promised_limit": int(row["promised_limit"]),
                    "reference": f"{pack.title} catalogue.csv, {row['code']} (illustrative)",
                }
            ]
    return items


@hookimpl
def caseledger_check_pack(pack: RulePack) -> list[str]:
    """Every catalogue item must have a department that some scope lets decide it."""
    problems = []
    for code, versions in pack.data.items.items():
        for version in versions:
            deciders = [
                scope
                for key in pack.scopes.names()
                if (scope := pack.scopes.resolve(key, version.from_))
                and Decision.DECIDE in scope.rule.decisions
                and scope.rule.holder.department in ("*", version.department)
            ]
            if not deciders:
                problems.append(
                    f"item {code}: no scope lets {version.department} decide it on "
                    f"{version.from_}; add one to [scopes]"
                )
    return problems
