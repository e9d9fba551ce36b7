"""Every command of the command line, probed with a bad value for each of its options and
arguments: a refused input is a typed error in one line on stderr naming the problem and the
fix, exit 1 (a rejected file lists its bad lines after that one; a usage error, exit 2, is
typer's usage message); never a traceback, a pydantic dump or a link."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caseledger import CaseLedger
from caseledger.cli import app
from caseledger.demo import demo_commands
from tests.conftest import fixed_clock

runner = CliRunner()

Probe = Callable[[Path], list[str]]
"""The arguments of a probe, given a folder holding the demo ledger (``demo.db``), a seal of
another ledger (``other-seal.json``) and a few bad files."""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("probes")
    with CaseLedger(f"sqlite:///{root}/demo.db", clock=fixed_clock) as ledger:
        ledger.record_batch(demo_commands(12))
    with CaseLedger(f"sqlite:///{root}/other.db", clock=fixed_clock) as other:
        other.record_batch(demo_commands(3))
        (root / "other-seal.json").write_bytes(other.seal().to_json())
    (root / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (root / "broken.json").write_bytes(b'{"format": "caseledger-seal/2", "heads": ')
    (root / "wrong-fields.json").write_bytes(b'{"format": "caseledger-seal/9", "x": 1}')
    (root / "typo.jsonl").write_text(
        '{"case_no": "X-1", "command_id": "X-1-1", "at": "2026-03-02T09:00:00+08:00", '
        '"actor": {"person": "A", "role": "window_a", "department": "D"}, '
        '"event": {"type": "recieved", "channel": "window", "applicant": "P"}}\n',
        encoding="utf-8",
    )
    (root / "not-json.jsonl").write_text("{nope\n", encoding="utf-8")
    return root


def _db(folder: Path) -> list[str]:
    return ["--db", f"sqlite:///{folder}/demo.db"]


AS_OF_BAD = [
    "yesterday", "2026-02-30", "2026-03-05T25:00", "2026-03-05+08:00", "9999-12-31T23:00-05:00",
    "",
]  # fmt: skip
OUTSIDE = ["1960-01-01", "2300-01-01"]

PROBES: dict[str, Probe] = {
    # the root options
    "--db bad scheme": lambda f: ["--db", "mysql://x/y", "cases"],
    "--db bad option": lambda f: ["--db", "postgresql://u@h:5432/d?colour=red", "cases"],
    "--db missing file": lambda f: ["--db", f"sqlite:///{f}/missing.db", "cases"],
    "--packs-dir missing": lambda f: [*_db(f), "--packs-dir", str(f / "nowhere"), "cases"],
    "--packs-dir a file": lambda f: [*_db(f), "--packs-dir", str(f / "binary.bin"), "cases"],
    # record
    "record missing file": lambda f: [*_db(f), "record", str(f / "missing.jsonl")],
    "record a folder": lambda f: [*_db(f), "record", str(f)],
    "record binary": lambda f: [*_db(f), "record", str(f / "binary.bin")],
    "record not JSON": lambda f: [*_db(f), "record", str(f / "not-json.jsonl")],
    "record misspelt type": lambda f: [*_db(f), "record", str(f / "typo.jsonl")],
    # show
    "show unknown case": lambda f: [*_db(f), "show", "QZ-2026-00001"],
    "show a project's stream": lambda f: [*_db(f), "show", "#XM-2026-001"],
    "show before received": lambda f: [*_db(f), "show", "QZ-2026-000001", "--as-of", "2001-01-01"],
    # cases
    "cases --limit 0": lambda f: [*_db(f), "cases", "--limit", "0"],
    "cases --limit abc": lambda f: [*_db(f), "cases", "--limit", "abc"],
    "cases --offset -1": lambda f: [*_db(f), "cases", "--offset", "-1"],
    # verify and seal
    "verify --seal missing": lambda f: [*_db(f), "verify", "--seal", str(f / "none.json")],
    "verify --seal folder": lambda f: [*_db(f), "verify", "--seal", str(f)],
    "verify --seal binary": lambda f: [*_db(f), "verify", "--seal", str(f / "binary.bin")],
    "verify --seal truncated": lambda f: [*_db(f), "verify", "--seal", str(f / "broken.json")],
    "verify --seal fields": lambda f: [*_db(f), "verify", "--seal", str(f / "wrong-fields.json")],
    "verify --seal other": lambda f: [*_db(f), "verify", "--seal", str(f / "other-seal.json")],
    "seal --out unwritable": lambda f: [*_db(f), "seal", "--out", str(f / "no" / "s.json")],
    # demo
    "demo --cases 0": lambda f: [*_db(f), "demo", "--cases", "0"],
    "demo --cases many": lambda f: [*_db(f), "demo", "--cases", "many"],
    # status, board, stats
    "status unknown case": lambda f: [*_db(f), "status", "QZ-2026-0000001"],
    "board --department": lambda f: [*_db(f), "board", "--department", "市市场监管"],
    "board --window": lambda f: [*_db(f), "board", "--window", "W999"],
    "board --item": lambda f: [*_db(f), "board", "--item", "QZ-SCJG-010"],
    "board --limit 0": lambda f: [*_db(f), "board", "--limit", "0"],
    "stats --by": lambda f: [*_db(f), "stats", "--by", "colour"],
    # project
    "project --seconds -1": lambda f: [*_db(f), "project", "--follow", "--seconds", "-1"],
    "project --seconds abc": lambda f: [*_db(f), "project", "--follow", "--seconds", "abc"],
    # parallel
    "parallel status unknown": lambda f: [*_db(f), "parallel", "status", "XM-2026-01"],
    # packs
    "packs show unknown": lambda f: [*_db(f), "packs", "show", "natinal"],
    "packs validate missing": lambda f: [*_db(f), "packs", "validate", str(f / "nowhere")],
    "packs validate a file": lambda f: [*_db(f), "packs", "validate", str(f / "binary.bin")],
    "packs test missing": lambda f: [*_db(f), "packs", "test", str(f / "nowhere")],
    "packs new bad name": lambda f: ["packs", "new", "Bad Name!", "--dir", str(f)],
}
AS_OF_COMMANDS = [
    ["show", "QZ-2026-000001"], ["status", "QZ-2026-000001"], ["board"], ["stats"],
    ["parallel", "list"], ["parallel", "status", "XM-2026-001"],
]  # fmt: skip
for _command in AS_OF_COMMANDS:
    for _value in AS_OF_BAD + OUTSIDE:
        if _command[0] == "show" and _value in OUTSIDE:
            continue  # show needs no calendar: a day before the case is "received after"
        PROBES[f"{' '.join(_command)} --as-of {_value!r}"] = lambda f, c=_command, v=_value: [
            *_db(f),
            *c,
            "--as-of",
            v,
        ]


@pytest.mark.parametrize("name", list(PROBES))
def test_a_bad_value_is_a_one_line_error_or_a_usage_error_never_a_traceback(
    folder: Path, name: str
) -> None:
    result = runner.invoke(app, PROBES[name](folder), env={"COLUMNS": "100"})
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{name}: {result.exception!r}"
    )
    err = result.stderr
    for leak in ("Traceback", "pydantic", "validation error for", "http", "input_value"):
        assert leak not in err, f"{name}: {err}"
    assert result.exit_code in (1, 2), f"{name}: exit {result.exit_code}: {err}"
    if result.exit_code == 2:
        assert "Usage:" in err, f"{name}: {err}"
        return
    first, *details = err.splitlines()
    assert first.startswith("error: "), f"{name}: {err}"
    # one line, or for a rejected file, its summary and then each bad line indented
    assert all(d.startswith("  line ") for d in details), f"{name}: {err}"
    assert not details or "listed below" in first, f"{name}: {err}"
    assert result.stdout == "", f"{name}: printed {result.stdout!r} before failing"


@pytest.mark.parametrize("command", AS_OF_COMMANDS)
@pytest.mark.parametrize("value", AS_OF_BAD)
def test_every_command_gives_the_same_error_for_the_same_bad_as_of(
    folder: Path, command: list[str], value: str
) -> None:
    result = runner.invoke(app, [*_db(folder), *command, "--as-of", value])
    reference = runner.invoke(app, [*_db(folder), "board", "--as-of", value])
    assert result.exit_code == 1 and result.stderr == reference.stderr
    assert result.stderr.startswith(f"error: --as-of {value!r} is not a date (2026-03-16)")


@pytest.mark.parametrize(
    "command", [["status", "QZ-2026-000001"], ["board"], ["stats"], ["parallel", "list"]]
)
@pytest.mark.parametrize("value", OUTSIDE)
def test_a_day_outside_the_calendar_is_a_calendar_range_error_naming_the_range_and_the_fix(
    folder: Path, command: list[str], value: str
) -> None:
    result = runner.invoke(app, [*_db(folder), *command, "--as-of", value])
    assert result.exit_code == 1 and result.stdout == ""
    message = result.stderr.strip()
    assert message.startswith(f"error: {value} is outside the known calendar (2001-01-01 to ")
    assert "check the date" in message
    assert ("upgrade the holidays package" in message) == value.startswith("2300")
