"""The rule pack of a district concentrating licensing power in its approval bureau (seed 004)."""

from pathlib import Path

from caseledger.rules import PackSource, hookimpl

HERE = Path(__file__).parent


@hookimpl
def caseledger_rulepack() -> PackSource:
    return PackSource(HERE / "pack.toml", HERE / "scenarios")
