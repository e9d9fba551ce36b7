"""The Haiyang administrative service bureau rule pack (seed 001)."""

from pathlib import Path

from caseledger.rules import PackSource, hookimpl

HERE = Path(__file__).parent


@hookimpl
def caseledger_rulepack() -> PackSource:
    return PackSource(HERE / "pack.toml", HERE / "scenarios")
