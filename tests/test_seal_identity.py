"""A seal records the identity of the ledger it was taken of: a seal of another ledger is the
wrong pair (a typed error, exit 1), never "TAMPERING DETECTED"; a file that is not a seal is a
one-line SealError naming the fix; seals taken before ledgers had an identity still load and
verify as they always did."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caseledger import CaseLedger, Seal, SealError, SealOfAnotherLedger, load_seal
from caseledger.audit.identity import ledger_identity
from caseledger.cli import app
from caseledger.demo import demo_commands
from tests.conftest import fixed_clock

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def _filled(url: str, cases: int = 5) -> CaseLedger:
    ledger = CaseLedger(url, clock=fixed_clock)
    ledger.record_batch(demo_commands(cases))
    return ledger


def _first_format(seal: Seal) -> Seal:
    """The seal as caseledger wrote it before ledgers had an identity (caseledger-seal/1)."""
    root = Seal.root_of(seal.heads, seal.sealed_at, seal.events)
    return Seal(sealed_at=seal.sealed_at, events=seal.events, heads=seal.heads, root=root)


def test_a_seal_of_another_ledger_is_refused_as_such_not_reported_as_tampering(
    open_ledger: Callable[[], CaseLedger], tmp_path: Path
) -> None:
    with _filled(f"sqlite:///{tmp_path}/other.db", cases=8) as other:
        seal = other.seal()
    ledger = open_ledger()
    ledger.record_batch(demo_commands(5))
    with pytest.raises(SealOfAnotherLedger, match="taken of another ledger") as raised:
        ledger.verify(seal=seal)
    assert raised.value.sealed_ledger == seal.ledger
    assert raised.value.ledger is None  # this one was never sealed
    assert isinstance(raised.value, SealError)
    ledger.seal()
    with pytest.raises(SealOfAnotherLedger, match="this ledger is ") as raised:
        ledger.verify(seal=seal)
    assert raised.value.ledger == ledger_identity(ledger.store)
    assert ledger.verify(seal=ledger.seal()).ok


def test_a_ledger_gets_one_identity_at_its_first_seal_and_keeps_it(
    open_ledger: Callable[[], CaseLedger],
) -> None:
    ledger = open_ledger()
    ledger.record_batch(demo_commands(2))
    assert ledger_identity(ledger.store) is None
    ledger.verify()
    assert ledger_identity(ledger.store) is None  # reading never makes one
    first, second = ledger.seal(), ledger.seal()
    assert first.ledger is not None and first.ledger == second.ledger
    assert first.format == "caseledger-seal/2"
    reopened = open_ledger()
    assert ledger_identity(reopened.store) == first.ledger
    assert reopened.verify(seal=first).ok


def test_a_copy_of_the_database_is_the_same_ledger(tmp_path: Path) -> None:
    with _filled(f"sqlite:///{tmp_path}/a.db") as ledger:
        seal = ledger.seal()
    shutil.copy(tmp_path / "a.db", tmp_path / "backup.db")
    with CaseLedger(f"sqlite:///{tmp_path}/backup.db", create=False) as backup:
        assert backup.verify(seal=seal).ok


def test_a_ledger_rebuilt_from_an_export_is_another_ledger_and_the_error_says_so(
    tmp_path: Path,
) -> None:
    with _filled(f"sqlite:///{tmp_path}/a.db") as ledger:
        seal = ledger.seal()
    with (
        _filled(f"sqlite:///{tmp_path}/b.db") as same_content,
        pytest.raises(SealOfAnotherLedger) as raised,
    ):
        same_content.verify(seal=seal)
    assert raised.value.matching == len(seal.heads)
    assert "sealed heads are here unchanged" in str(raised.value)


def test_a_seal_of_the_first_format_still_loads_and_verifies_as_before(
    open_ledger: Callable[[], CaseLedger], tmp_path: Path
) -> None:
    ledger = open_ledger()
    ledger.record_batch(demo_commands(3))
    old = _first_format(ledger.seal())
    path = tmp_path / "old.json"
    path.write_bytes(old.to_json())
    assert b'"ledger"' not in path.read_bytes()
    assert b'"caseledger-seal/1"' in path.read_bytes()
    loaded = load_seal(path)
    assert loaded.ledger is None and loaded.root == old.root
    assert ledger.verify(seal=loaded).ok
    # and, as before, a seal of the first format is compared head by head
    with _filled(f"sqlite:///{tmp_path}/other.db", cases=2) as other:
        report = other.verify(seal=loaded)
    assert not report.ok and "removed from the end" in report.breaks[0].problem


def test_a_seal_whose_ledger_was_edited_is_refused_as_altered(
    ledger: CaseLedger, tmp_path: Path
) -> None:
    ledger.record_batch(demo_commands(2))
    data = json.loads(ledger.seal().to_json())
    data["ledger"] = "00000000-0000-4000-8000-000000000000"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SealError, match="altered"):
        load_seal(path)


def _valid_seal_text(tmp_path: Path) -> str:
    with _filled(f"sqlite:///{tmp_path}/v.db", cases=2) as ledger:
        return ledger.seal().to_json().decode()


MALFORMED: dict[str, Callable[[str], bytes]] = {
    "bad JSON": lambda good: b"{",
    "empty file": lambda good: b"",
    "truncated": lambda good: good[: len(good) // 2].encode(),
    "binary": lambda good: bytes(range(256)),
    "UTF-16": lambda good: good.encode("utf-16"),
    "a JSON list": lambda good: b"[1, 2]",
    "a JSON string": lambda good: b'"seal"',
    "wrong fields": lambda good: b'{"format": "x", "heads": 3}',
    "unknown field": lambda good: good.replace('"events"', '"extra": 1, "events"').encode(),
    "a bad head": lambda good: good.replace('"version": ', '"version": -').encode(),
    "first format with a ledger": lambda good: good.replace(
        "caseledger-seal/2", "caseledger-seal/1"
    ).encode(),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_malformed_seal_file_is_a_one_line_seal_error_naming_the_fix(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "seal.json"
    path.write_bytes(MALFORMED[kind](_valid_seal_text(tmp_path)))
    with pytest.raises(SealError) as raised:
        load_seal(path)
    message = str(raised.value)
    assert "\n" not in message and "pydantic" not in message and "http" not in message
    assert message.startswith(f"{str(path)!r} is not a caseledger seal: ")
    assert "caseledger seal --out FILE" in message
    code, out, err = run("--db", f"sqlite:///{tmp_path}/v.db", "verify", "--seal", str(path))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err


def test_a_seal_path_that_is_a_folder_is_a_one_line_error(tmp_path: Path) -> None:
    _valid_seal_text(tmp_path)
    code, _, err = run("--db", f"sqlite:///{tmp_path}/v.db", "verify", "--seal", str(tmp_path))
    assert code == 1 and err.startswith("error: cannot read seal") and err.count("\n") == 1


def test_verify_with_a_seal_of_another_ledger_exits_1_naming_the_file(tmp_path: Path) -> None:
    for name, cases in (("a", 8), ("b", 5)):
        run("--db", f"sqlite:///{tmp_path}/{name}.db", "demo", "--cases", str(cases))
    path = tmp_path / "a-seal.json"
    assert run("--db", f"sqlite:///{tmp_path}/a.db", "seal", "--out", str(path))[0] == 0
    code, out, err = run("--db", f"sqlite:///{tmp_path}/b.db", "verify", "--seal", str(path))
    assert code == 1 and out == ""
    assert err.startswith(f"error: seal {str(path)!r} was taken of another ledger")
    assert "TAMPERING" not in err and "removed" not in err and err.count("\n") == 1
    assert "caseledger seal" in err
    assert run("--db", f"sqlite:///{tmp_path}/a.db", "verify", "--seal", str(path))[0] == 0
