"""Importing caseledger is cheap: the pytest plugin runs in every pytest session of every
environment caseledger is installed in, so it must not import the library's machinery until
it collects a scenario file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("pydantic", "eventsourcing", "orjson", "typer", "rich", "holidays")


def _modules_after(code: str) -> list[str]:
    """The modules loaded in a fresh interpreter after running ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in HEAVY]


def test_importing_the_pytest_plugin_imports_none_of_the_heavy_dependencies() -> None:
    modules = _modules_after("import caseledger.testing.plugin")
    assert _heavy(modules) == []
    own = [m for m in modules if m.split(".")[0] == "caseledger"]
    assert own == ["caseledger", "caseledger.testing", "caseledger.testing.plugin"]


def test_importing_the_package_imports_none_of_its_machinery() -> None:
    modules = _modules_after("import caseledger")
    assert _heavy(modules) == []
    assert [m for m in modules if m.startswith("caseledger")] == ["caseledger"]


def test_the_first_use_of_a_public_name_imports_what_it_needs() -> None:
    modules = _modules_after("import caseledger\nassert caseledger.CaseLedger.__doc__")
    assert {"caseledger.ledger", "pydantic", "eventsourcing"} <= set(modules)


def test_the_plugin_still_collects_and_runs_a_packs_scenarios(tmp_path: Path) -> None:
    """In a pytest run of its own, the plugin (loaded through the entry point, as anywhere
    caseledger is installed) collects the national pack's scenario files and runs them."""
    import caseledger_pack_national

    pack = Path(caseledger_pack_national.__file__).parent
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(pack),
         str(pack / "scenarios")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout.splitlines()[-1]
