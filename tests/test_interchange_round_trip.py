"""``show --json`` output records back (the same case into a fresh ledger, nothing into its
own), and a JSON line that repeats a key is refused naming the key and the line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from caseledger import BatchItemError, BatchRejected, CaseLedger
from caseledger.cli import app
from caseledger.demo import demo_month
from caseledger.interchange.files import record_file
from caseledger.interchange.jsonl import DuplicateKey, loads_unique, parse_lines, read_commands
from caseledger.interchange.schema import interchange_schema
from tests.conftest import fixed_clock
from tests.helpers import snapshot

EXAMPLE = Path(__file__).parent.parent / "examples" / "cases.jsonl"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _export(url: str, case_numbers: list[str]) -> bytes:
    lines = []
    for case_no in case_numbers:
        code, out, err = run("--db", url, "show", case_no, "--json")
        assert code == 0, err
        lines.append(out)
    return "".join(lines).encode()


def _business(ledger: CaseLedger, case_no: str) -> list[object]:
    """What the case is made of: each event's command (id, time, actor, event)."""
    return [event.command() for event in ledger.history(case_no)]


def test_show_json_records_back_into_a_fresh_ledger_as_the_same_cases(
    tmp_path: Path,
) -> None:
    source = f"sqlite:///{tmp_path}/source.db"
    with CaseLedger(source, clock=fixed_clock) as ledger:
        ledger.record_batch(demo_month(10))
        numbers = ledger.case_numbers()
    export = tmp_path / "export.jsonl"
    export.write_bytes(_export(source, numbers))
    fresh = f"sqlite:///{tmp_path}/fresh.db"
    code, out, err = run("--db", fresh, "record", str(export))
    assert code == 0, err
    events = export.read_bytes().count(b"\n")
    assert f"recorded {events} events of {len(numbers)} cases" in out
    with CaseLedger(source) as before, CaseLedger(fresh) as after:
        assert after.case_numbers() == numbers
        for case_no in numbers:
            assert _business(after, case_no) == _business(before, case_no)
            old, new = before.case(case_no), after.case(case_no)
            assert (new.status, new.item_code, new.rule_pack, new.version) == (
                old.status, old.item_code, old.rule_pack, old.version)  # fmt: skip
        assert after.verify().ok


def test_show_json_recorded_into_its_own_ledger_records_nothing(sqlite_url: str,
                                                              tmp_path: Path) -> None:  # fmt: skip
    run("--db", sqlite_url, "record", str(EXAMPLE))
    export = tmp_path / "export.jsonl"
    export.write_bytes(_export(sqlite_url, ["QZ-2026-000101", "QZ-2026-000102"]))
    with CaseLedger(sqlite_url) as ledger:
        before = snapshot(ledger)
    code, out, _ = run("--db", sqlite_url, "record", str(export))
    assert code == 0 and "recorded 0 events" in out and "11 already recorded" in out
    with CaseLedger(sqlite_url) as ledger:
        assert snapshot(ledger) == before


def test_exported_lines_validate_against_the_published_schema(sqlite_url: str) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    validator = jsonschema.Draft202012Validator(interchange_schema())
    exported = _export(sqlite_url, ["QZ-2026-000102"]).decode().splitlines()
    for line in exported:
        validator.validate(json.loads(line))
    partial = json.loads(exported[0])
    del partial["hash"]
    assert not validator.is_valid(partial)  # all four recorded fields, or none
    (problem,) = parse_lines([json.dumps(partial)])
    assert isinstance(problem, BatchItemError) and problem.field == "hash"


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [("version", 0, "version"), ("version", "1", "version"), ("hash", "x", "hash"),
     ("recorded_at", "2026-10-09T09:00:00", "recorded_at")],
)  # fmt: skip
def test_an_export_line_with_a_malformed_recorded_field_is_refused_naming_it(
    sqlite_url: str, field: str, value: object, where: str
) -> None:
    run("--db", sqlite_url, "record", str(EXAMPLE))
    line = json.loads(_export(sqlite_url, ["QZ-2026-000101"]).decode().splitlines()[0])
    line[field] = value
    with pytest.raises(BatchRejected) as caught:
        read_commands([json.dumps(line)], source="export.jsonl")
    assert [(e.position, e.field) for e in caught.value.errors] == [(1, where)]


# -- duplicate keys -------------------------------------------------------------------------

LINE = EXAMPLE.read_text(encoding="utf-8").splitlines()[2]


@pytest.mark.parametrize("path", ["case_no", "event.type", "actor.person"])
def test_a_line_repeating_a_key_is_refused_naming_the_key_and_the_line(
    ledger: CaseLedger, tmp_path: Path, path: str
) -> None:
    compact = json.dumps(json.loads(LINE), ensure_ascii=False, separators=(",", ":"))
    source = tmp_path / "dup.jsonl"
    source.write_text(LINE + "\n" + _with_duplicate(compact, path) + "\n", encoding="utf-8")
    before = snapshot(ledger)
    with pytest.raises(BatchRejected) as caught:
        record_file(ledger, source)
    (error,) = caught.value.errors
    assert (error.position, error.field) == (2, path)
    assert f"duplicate key {path.rsplit('.', 1)[-1]!r}" in error.message
    assert snapshot(ledger) == before


def _with_duplicate(line: str, path: str) -> str:
    """``line`` with the key at ``path`` written twice (an earlier value first)."""
    *parents, key = path.split(".")
    marker = '"' + '":{"'.join(parents) + '":{' if parents else "{"
    at = line.index(marker) + len(marker)
    return line[:at] + f'"{key}":"earlier",' + line[at:]


def test_the_cli_names_the_repeated_key_and_its_line(sqlite_url: str, tmp_path: Path) -> None:
    source = tmp_path / "dup.jsonl"
    compact = json.dumps(json.loads(LINE), ensure_ascii=False, separators=(",", ":"))
    source.write_text(_with_duplicate(compact, "event.channel") + "\n", encoding="utf-8")
    code, _, err = run("--db", sqlite_url, "record", str(source))
    assert code == 1
    assert "line 1, event.channel: duplicate key 'channel'" in err.splitlines()[0]
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


def test_a_value_holding_quote_colon_is_no_duplicate() -> None:
    data = json.loads(LINE)
    data["event"]["applicant"] = 'say "a": b'
    text = json.dumps(data, ensure_ascii=False).encode()
    assert loads_unique(text) == data
    (parsed,) = parse_lines([text])
    assert parsed.command.event.applicant == 'say "a": b'  # type: ignore[union-attr]


def test_loads_unique_finds_a_repeat_in_a_list_of_objects() -> None:
    with pytest.raises(DuplicateKey) as caught:
        loads_unique(b'{"a": [{"b": 1}, {"c": 2, "c": 3}]}')
    assert caught.value.path == "a.c"
    assert loads_unique(b'{"a": [{"b": 1}, {"b": 2}], "b": {"b": 1}}') == {
        "a": [{"b": 1}, {"b": 2}], "b": {"b": 1}}  # fmt: skip


# -- the auditor's recipe (docs/auditing.md §4) ----------------------------------------------

AUDITING = Path(__file__).parent.parent / "docs" / "auditing.md"


def _recipe() -> dict[str, object]:
    """The §4 block that defines check_export, run as the docs run it."""
    blocks = re.findall(r"^```python\n(.*?)^```", AUDITING.read_text(encoding="utf-8"),
                        re.MULTILINE | re.DOTALL)  # fmt: skip
    (block,) = [b for b in blocks if "def check_export" in b]
    namespace: dict[str, object] = {"__name__": "__docs__"}
    exec(compile(block, "auditing.md §4", "exec"), namespace)
    return namespace


def test_the_auditors_recipe_works_on_an_export_holding_line_separators_in_values(
    ledger: CaseLedger, tmp_path: Path
) -> None:
    line = json.loads(LINE)
    line["event"]["applicant"] = "申请人\u2028第二行\u2029第三段\x85"
    ledger.record(line)
    case_no = line["case_no"]
    export = tmp_path / "export.jsonl"
    code, out, err = run("--db", ledger.location.url, "show", case_no, "--json")
    assert code == 0, err
    export.write_bytes(out.encode())
    text = export.read_text(encoding="utf-8")
    assert "\u2028" in text and "\u2029" in text and text.count("\n") == 1
    check_export = _recipe()["check_export"]
    assert check_export(export) == []  # type: ignore[operator]
    # what the recipe used to do breaks on this export: the test can fail
    with pytest.raises(json.JSONDecodeError):
        for piece in text.splitlines():
            json.loads(piece)
    # and a tampered export is still caught
    data = json.loads(text)
    data["event"]["applicant"] = data["event"]["applicant"].replace("第二行", "改过的")
    export.write_bytes(json.dumps(data, ensure_ascii=False).encode() + b"\n")
    assert check_export(export) == [1]  # type: ignore[operator]


def test_dumped_commands_read_back_as_the_same_commands() -> None:
    from caseledger.interchange.jsonl import dump_commands

    commands = demo_month(3)
    lines = dump_commands(commands).split(b"\n")
    assert lines[-1] == b"" and len(lines) == len(commands) + 1
    parsed = read_commands(lines, source="dumped")
    assert [p.command for p in parsed] == commands
