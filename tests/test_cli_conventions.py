"""The command line as Python users expect it: --version, python -m, plain help, one way to
open a ledger and to read --as-of, reading never creating a database, owner-only files."""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import caseledger
from caseledger import CaseLedger, LedgerNotFound
from caseledger.cli import app
from caseledger.cli.common import parse_as_of
from caseledger.demo import demo_month
from tests.conftest import fixed_clock

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "cases.jsonl"
CLI = ROOT / "src" / "caseledger" / "cli"
CST = dt.timezone(dt.timedelta(hours=8))
runner = CliRunner()


def run(*args: str, columns: int = 80) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": str(columns)})
    return result.exit_code, result.stdout, result.stderr


def _db(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


# -- 1. --version and python -m caseledger ---------------------------------------------------


def test_version_prints_the_package_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"caseledger {caseledger.__version__}"


def test_python_dash_m_caseledger_is_the_same_command_line(tmp_path: Path) -> None:
    version = subprocess.run(
        [sys.executable, "-m", "caseledger", "--version"], capture_output=True, text=True
    )
    assert version.returncode == 0
    assert version.stdout.strip() == f"caseledger {caseledger.__version__}"
    url = f"sqlite:///{tmp_path}/m.db"
    recorded = subprocess.run(
        [sys.executable, "-m", "caseledger", "--db", url, "record", str(EXAMPLE)],
        capture_output=True,
        text=True,
    )
    assert recorded.returncode == 0 and "recorded 11 events of 2 cases" in recorded.stdout


# -- 2. plain help ---------------------------------------------------------------------------


def _command_paths() -> Iterator[list[str]]:
    def walk(command: object, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


def test_no_help_shows_a_python_type_for_what_to_give() -> None:
    paths = list(_command_paths())
    assert len(paths) > 20  # every command and group, down to `packs new`
    for path in paths:
        code, out, _ = run(*path, "--help", columns=100)
        assert code == 0, path
        found = re.findall(r"<[^<>\s]*>|\{[A-Za-z_]+\}", out)
        assert found == [], f"caseledger {' '.join(path)} --help shows {found}"
        assert "Usage: caseledger" in out


def test_help_names_what_each_option_takes_in_a_word() -> None:
    _, out, _ = run("--help")
    assert re.search(r"--db\s+URL", out) and re.search(r"--packs-dir\s+DIR", out)
    _, out, _ = run("board", "--help")
    assert re.search(r"--as-of\s+TIME", out) and re.search(r"--limit\s+N", out)
    _, out, _ = run("show", "--help")
    assert "Usage: caseledger show [OPTIONS] CASE" in out


# -- 4. one way to open a ledger, one way to read --as-of -------------------------------------


def test_every_command_opens_its_ledger_and_reads_as_of_in_one_place() -> None:
    for path in CLI.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name != "common.py":
            assert "CaseLedger(" not in text, f"{path.name} opens a ledger by itself"
            assert '"--as-of"' not in text, f"{path.name} declares its own --as-of"
            assert "dt.datetime | None,\n        typer.Option" not in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-16", dt.datetime(2026, 10, 16, 23, 59, 59, tzinfo=CST)),
        ("2026-10-16T09:30", dt.datetime(2026, 10, 16, 9, 30, tzinfo=CST)),
        ("2026-10-16T09:30:00", dt.datetime(2026, 10, 16, 9, 30, tzinfo=CST)),
        ("2026-10-16T09:30:00+08:00", dt.datetime(2026, 10, 16, 9, 30, tzinfo=CST)),
        ("2026-10-16T01:30:00Z", dt.datetime(2026, 10, 16, 9, 30, tzinfo=CST)),
        ("2026-10-16T09:30+0800", dt.datetime(2026, 10, 16, 9, 30, tzinfo=CST)),
        ("2026-10-16T09:30:00+0800", dt.datetime(2026, 10, 16, 9, 30, tzinfo=CST)),
        ("2026-3-5", dt.datetime(2026, 3, 5, 23, 59, 59, tzinfo=CST)),
    ],
)
def test_as_of_takes_a_date_as_its_end_and_a_time_without_offset_as_china_time(
    text: str, expected: dt.datetime
) -> None:
    moment = parse_as_of(text)
    assert moment == expected and moment.utcoffset() is not None


def test_no_as_of_means_now_or_for_show_no_cut_off() -> None:
    before = dt.datetime.now(CST)
    assert before <= parse_as_of(None) <= dt.datetime.now(CST)
    assert parse_as_of(None, default_now=False) is None


@pytest.mark.parametrize(
    "command",
    [["show", "QZ-2026-000102"], ["status", "QZ-2026-000102"], ["board"], ["stats"],
     ["parallel", "list"], ["parallel", "status", "XM-1"]],
)  # fmt: skip
def test_every_command_reads_as_of_the_same_way(sqlite_url: str, command: list[str]) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    code, _, err = run("--db", sqlite_url, *command, "--as-of", "yesterday")
    assert code == 1
    assert err.startswith("error: --as-of 'yesterday' is not a date (2026-03-16)")
    if command[0] != "parallel" or command[1] == "list":
        code, _, err = run("--db", sqlite_url, *command, "--as-of", "2026-10-16T12:00")
        assert code == 0, err


def test_show_as_of_a_time_without_offset_is_china_time(sqlite_url: str) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    _, every, _ = run("--db", sqlite_url, "show", "QZ-2026-000102", "--json")
    times = [line.split('"at":"')[1][:25] for line in every.splitlines()]
    second = dt.datetime.fromisoformat(times[1])
    naive = second.astimezone(CST).replace(tzinfo=None).isoformat()
    code, out, _ = run("--db", sqlite_url, "show", "QZ-2026-000102", "--as-of", naive, "--json")
    assert code == 0 and len(out.splitlines()) == 2


# -- 5. reading never creates a database ------------------------------------------------------

READERS = [
    ["show", "QZ-1"], ["cases"], ["status", "QZ-1"], ["board"], ["stats"], ["verify"],
    ["seal"], ["project"], ["parallel", "list"], ["parallel", "status", "XM-1"],
]  # fmt: skip


@pytest.mark.parametrize("command", READERS, ids=lambda c: " ".join(c))
def test_a_read_command_on_a_missing_sqlite_file_fails_naming_it_and_creates_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "typo.db"
    code, out, err = run("--db", f"sqlite:///{missing}", *command, columns=200)
    assert code == 1 and out == ""
    first = err.splitlines()[0]
    assert first.startswith(f"error: no ledger at '{missing}': the file does not exist")
    assert "check the path" in first and "caseledger record FILE" in first
    assert "--create" in first
    assert sorted(tmp_path.iterdir()) == []


def test_create_starts_an_empty_ledger_for_a_read_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new.db"
    code, out, _ = run("--db", url, "--create", "verify")
    assert code == 0 and "verified: 0 events in 0 cases" in out
    assert (tmp_path / "new.db").exists()
    assert run("--db", url, "cases")[0] == 0  # and it now exists for every command


def test_record_and_demo_may_create_the_ledger(tmp_path: Path) -> None:
    assert run("--db", f"sqlite:///{tmp_path}/r.db", "record", str(EXAMPLE))[0] == 0
    assert run("--db", f"sqlite:///{tmp_path}/d.db", "demo", "--cases", "1")[0] == 0
    assert (tmp_path / "r.db").exists() and (tmp_path / "d.db").exists()


@pytest.mark.parametrize("problem", ["bad line", "missing file", "lifecycle"])
def test_a_failed_record_leaves_no_new_file_behind(tmp_path: Path, problem: str) -> None:
    source = tmp_path / "in" / "history.jsonl"
    source.parent.mkdir()
    lines = EXAMPLE.read_text(encoding="utf-8")
    if problem == "bad line":
        source.write_text(lines + '{"case_no": "X"}\n', encoding="utf-8")
    elif problem == "lifecycle":  # valid lines, but the second case's events come first
        kept = [ln for ln in lines.splitlines() if ln.startswith("{")]
        source.write_text("\n".join(kept[1:] + kept[:1]) + "\n", encoding="utf-8")
    db = tmp_path / "db" / "ledger.db"
    db.parent.mkdir()
    code, _, err = run("--db", f"sqlite:///{db}", "record", str(source))
    assert code == 1 and "error: " in err
    assert sorted(db.parent.iterdir()) == []


def test_a_failed_record_into_an_existing_ledger_keeps_it(sqlite_url: str, tmp_path: Path) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"case_no": "X"}\n', encoding="utf-8")
    assert run("--db", sqlite_url, "record", str(bad))[0] == 1
    _, out, _ = run("--db", sqlite_url, "cases", "--json")
    assert len(out.splitlines()) == 2


def test_the_library_creates_by_default_and_refuses_a_missing_file_with_create_false(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "none.db"
    with pytest.raises(LedgerNotFound) as caught:
        CaseLedger(f"sqlite:///{missing}", create=False)
    assert caught.value.path == str(missing) and "create=True" in str(caught.value)
    assert isinstance(caught.value, LookupError) and not missing.exists()
    CaseLedger(f"sqlite:///{missing}").close()
    assert missing.exists()
    CaseLedger(f"sqlite:///{missing}", create=False).close()  # an existing one opens
    CaseLedger("sqlite:///:memory:", create=False).close()  # and memory needs no file


# -- 6. owner-only files --------------------------------------------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_sqlite_files_and_their_wal_and_shm_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    db = tmp_path / "private.db"
    with CaseLedger(f"sqlite:///{db}", clock=fixed_clock) as ledger:
        ledger.record_batch(demo_month(1)[:20])
        companions = [p for p in tmp_path.iterdir() if p.name != db.name]
        assert {p.name for p in companions} >= {"private.db-wal", "private.db-shm"}
        for path in [db, *companions]:
            assert _mode(path) == 0o600, path
    assert run("--db", f"sqlite:///{tmp_path}/cli.db", "record", str(EXAMPLE))[0] == 0
    assert _mode(tmp_path / "cli.db") == 0o600


@pytest.mark.usefixtures("open_umask")
def test_a_seal_file_is_readable_by_its_owner_only(sqlite_url: str, tmp_path: Path) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    fresh, existing = tmp_path / "fresh.json", tmp_path / "existing.json"
    existing.write_text("old", encoding="utf-8")
    existing.chmod(0o644)
    for path in (fresh, existing):
        code, _, err = run("--db", sqlite_url, "seal", "--out", str(path))
        assert code == 0 and f"sealed into {path}" in err
        assert _mode(path) == 0o600 and path.read_bytes().startswith(b"{")
    assert run("--db", sqlite_url, "verify", "--seal", str(existing))[0] == 0


def test_a_seal_that_cannot_be_written_is_a_one_line_error(sqlite_url: str, tmp_path: Path) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    code, _, err = run("--db", sqlite_url, "seal", "--out", str(tmp_path / "no" / "s.json"))
    assert code == 1 and err.startswith("error: cannot write the seal to")
