"""``caseledger packs new NAME``: a new, installable rule pack that passes its own tests.

The scaffold extends the national baseline and changes nothing yet, so every value it has
is the law's, with the law's references; its scenarios check a few of them on real dates.
Comments in ``pack.toml`` show where a locality's own catalogue, thresholds, clock rules,
powers and sanctions go. ``pytest`` in the new folder runs its scenarios (through the
caseledger pytest plugin); ``pip install -e .`` registers it for ``caseledger packs list``.
"""

from __future__ import annotations

import re
from pathlib import Path

from caseledger.errors import PackError, PackProblem

__all__ = ["scaffold_pack"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

_PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "caseledger-pack-{dashed}"
version = "0.1.0"
description = "caseledger rule pack: {name}"
requires-python = ">=3.11"
dependencies = ["caseledger"]

[project.entry-points."caseledger.rulepacks"]
{name} = "{package}"

[tool.hatch.build.targets.wheel]
packages = ["{package}"]

[tool.pytest.ini_options]
testpaths = ["{package}"]
"""

_INIT = '''\
"""The {name} rule pack for caseledger."""

from pathlib import Path

from caseledger.rules import PackSource, hookimpl

HERE = Path(__file__).parent


@hookimpl
def caseledger_rulepack() -> PackSource:
    return PackSource(HERE / "pack.toml")
'''

_PACK = """\
# The {name} rule pack. It extends the national baseline (the Administrative Licensing
# Law) and, as scaffolded, changes nothing: every value is the law's. Add what your own
# documents say, each version with its `from` date and a `reference` to its source.
# See docs/rule-pack-authoring.md of caseledger, and `caseledger packs schema`.

[pack]
name = "{name}"
version = "0.1.0"
title = "{name}"
extends = "national"
# "open" judges any item code by the national case-kind limits; once the catalogue below
# lists your items, make it "closed" so that an unknown item code is refused.
catalogue = "open"
reference = "Write here the document that founds this pack (name, number, date)"

# Your catalogue (事项目录), one table per item and dated version:
# [[items."CODE-0001"]]
# from = 2026-01-01
# name = "食品经营许可"
# department = "市场监督管理局"
# case_kind = "promised"
# promised_limit = 10
# reference = "the catalogue entry this comes from"

# When a case turns yellow (临界预警), if your documents say:
# [[thresholds.yellow]]
# from = 2026-01-01
# working_days_left = 2
# reference = "the rule this comes from"
"""

_SCENARIOS = """\
# Scenarios: each says in one sentence what must hold, and is checked by `pytest` here and
# by `caseledger packs test`. Add one for every rule you write, from your source document.

[[scenarios]]
name = "A promised case accepted on Monday 2 March 2026 has the national 20 working days, until 30 March 2026."
case_kind = "promised"
accepted_on = 2026-03-02
[scenarios.expect]
statutory_limit = 20
statutory_deadline = 2026-03-30
extension_limit = 10

[[scenarios]]
name = "A case accepted on Friday 13 February 2026 is due on 19 March 2026, the Spring Festival not counted and its make-up Saturdays counted."
case_kind = "promised"
accepted_on = 2026-02-13
[scenarios.expect]
statutory_deadline = 2026-03-19
provisional = false

[[scenarios]]
name = "Expert review pauses the clock, as Art. 45 says."
accepted_on = 2026-03-02
[scenarios.expect.clock]
"clock_suspended.expert_review" = "pause"

# A case made of events, judged at a moment: the ledger records them as it would in use.
[[scenarios]]
name = "A promised case accepted on 2 March 2026 and still open on 31 March is over its 20 working days: red."
case_kind = "promised"
as_of = 2026-03-31T09:00:00+08:00
[[scenarios.events]]
at = 2026-03-02T09:00:00+08:00
event = {{ type = "received", channel = "window", applicant = "APP-1" }}
[[scenarios.events]]
at = 2026-03-02T09:30:00+08:00
event = {{ type = "accepted" }}
[scenarios.expect]
deadline = 2026-03-30
light = "red"
violations = ["overtime"]
"""

_README = """\
# caseledger-pack-{dashed}

The `{name}` rule pack for caseledger.

```sh
pip install -e .                     # register it: caseledger packs list
pytest                               # run its scenarios
caseledger packs validate {package}
caseledger packs test {package}
```
"""


def scaffold_pack(name: str, directory: Path) -> Path:
    """Create ``caseledger-pack-<name>`` in ``directory``; returns the new folder."""
    if not _NAME.match(name):
        raise PackError(
            [PackProblem(name, "", "is not a pack name",
                         "use lower-case letters, digits and _ (e.g. harbour_town)")]
        )  # fmt: skip
    dashed = name.replace("_", "-")
    package = f"caseledger_pack_{name}"
    root = directory / f"caseledger-pack-{dashed}"
    if root.exists():
        raise PackError(
            [PackProblem(str(root), "", "already exists", "choose another name or folder")]
        )
    values = {"name": name, "dashed": dashed, "package": package}
    files = {
        root / "pyproject.toml": _PYPROJECT,
        root / "README.md": _README,
        root / package / "__init__.py": _INIT,
        root / package / "pack.toml": _PACK,
        root / package / "scenarios" / "baseline.toml": _SCENARIOS,
    }
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values), encoding="utf-8")
    return root
