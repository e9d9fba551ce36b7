"""The Quanzhou municipal administrative service centre rule pack (seed 000)."""

from pathlib import Path

from caseledger.rules import PackSource, hookimpl

HERE = Path(__file__).parent


@hookimpl
def caseledger_rulepack() -> PackSource:
    return PackSource(HERE / "pack.toml", HERE / "scenarios")
