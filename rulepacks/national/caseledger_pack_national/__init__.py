"""The national baseline rule pack: the Administrative Licensing Law (行政许可法).

Bundled with caseledger and registered under the ``caseledger.rulepacks`` entry point, as
any third-party pack is. City and district packs extend it.
"""

from pathlib import Path

from caseledger.rules import PackSource, hookimpl

HERE = Path(__file__).parent


@hookimpl
def caseledger_rulepack() -> PackSource:
    return PackSource(HERE / "pack.toml", HERE / "scenarios")
