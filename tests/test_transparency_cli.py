"""The transparency commands on bad input: one line naming the file and the field, exit 1;
a proof or signature that does not verify, exit 3; never a traceback."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caseledger import CaseLedger, parse_checkpoint
from caseledger.cli import app
from tests.conftest import fixed_clock
from tests.helpers import RECEIVED, accepted_case, at, command

runner = CliRunner()


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(
        app, ["--db", f"sqlite:///{tmp_path}/ledger.db", *args],
        env={"COLUMNS": "200", "CASELEDGER_SIGNING_KEY": "", **(env or {})},
    )  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.fixture
def signed(tmp_path: Path) -> Path:
    """A ledger of two cases, the ledger's and a witness's keys, a checkpoint, a receipt."""
    with CaseLedger(f"sqlite:///{tmp_path}/ledger.db", clock=fixed_clock) as ledger:
        accepted_case(ledger, "QZ-1")
        ledger.record(command("QZ-2", 1, RECEIVED, at(12)))
    for name, key in (("caseledger.test", "ledger.key"), ("witness.test", "witness.key")):
        assert run(tmp_path, "keys", "new", name, "--out", str(tmp_path / key))[0] == 0
    assert run(tmp_path, "checkpoint", "--key", str(tmp_path / "ledger.key"), "--out",
               str(tmp_path / "cp"))[0] == 0  # fmt: skip
    assert run(tmp_path, "prove", "QZ-1", "--out", str(tmp_path / "receipt.json"))[0] == 0
    return tmp_path


def test_keys_new_writes_an_owner_only_private_key_and_never_overwrites_one(
    signed: Path,
) -> None:
    assert stat.S_IMODE((signed / "ledger.key").stat().st_mode) == 0o600
    public = (signed / "ledger.key.pub").read_text()
    assert public.startswith("caseledger.test+") and "PRIVATE" not in public
    code, output = run(signed, "keys", "new", "again", "--out", str(signed / "ledger.key"))
    assert code == 1 and "exists: a key is never overwritten" in output


def test_a_checkpoint_needs_a_key_from_a_file_or_the_environment(signed: Path) -> None:
    code, output = run(signed, "checkpoint")
    assert code == 1 and "CASELEDGER_SIGNING_KEY is not set" in output
    key = (signed / "ledger.key").read_text()
    code, output = run(signed, "checkpoint", env={"CASELEDGER_SIGNING_KEY": key})
    assert code == 0 and output.startswith("caseledger/")
    code, output = run(signed, "checkpoint", "--key", str(signed / "ledger.key.pub"))
    assert code == 1 and "not a private key" in output


def test_verify_proof_of_a_good_receipt_exits_0_and_of_another_key_exits_3(signed: Path) -> None:
    receipt = str(signed / "receipt.json")
    code, output = run(signed, "verify-proof", receipt, "--key", str(signed / "ledger.key.pub"))
    assert code == 0 and output.startswith("receipt verified: case 'QZ-1', 2 events")
    code, output = run(signed, "verify-proof", receipt, "--key", str(signed / "witness.key.pub"))
    assert code == 3 and "NOT VERIFIED" in output and "signature" in output


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[]", "not a JSON object"),
        (b'{"format": "caseledger-receipt/1"}', "case_no: missing"),
        (b'{"n": ' + b"9" * 5000 + b"}", "not JSON this verifier reads"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_verify_proof_of_a_malformed_file_names_the_problem(
    signed: Path, content: bytes, says: str
) -> None:
    (signed / "bad.json").write_bytes(content)
    code, output = run(signed, "verify-proof", str(signed / "bad.json"), "--key",
                       str(signed / "ledger.key.pub"))  # fmt: skip
    assert code == 1 and says in output and output.startswith("error: ")


def test_verify_proof_of_a_truncated_receipt_and_with_a_missing_key_is_exit_1(
    signed: Path,
) -> None:
    data = (signed / "receipt.json").read_bytes()
    (signed / "cut.json").write_bytes(data[: len(data) // 2])
    code, output = run(signed, "verify-proof", str(signed / "cut.json"), "--key",
                       str(signed / "ledger.key.pub"))  # fmt: skip
    assert code == 1 and "truncated?" in output
    code, output = run(signed, "verify-proof", str(signed / "receipt.json"), "--key", "nokey")
    assert code == 1 and "a verifier key is NAME+KEYID+BASE64" in output


def test_a_receipt_with_a_changed_event_is_not_verified_naming_the_event(signed: Path) -> None:
    data = json.loads((signed / "receipt.json").read_text())
    data["events"][1]["topic"] = "denied"
    (signed / "changed.json").write_text(json.dumps(data))
    code, output = run(signed, "verify-proof", str(signed / "changed.json"), "--key",
                       str(signed / "ledger.key.pub"))  # fmt: skip
    assert code == 3 and "events[1]: inclusion_proof" in output


def test_verify_against_a_checkpoint_needs_the_key_and_names_what_changed(signed: Path) -> None:
    from tests import tamper

    cp, pub = str(signed / "cp"), str(signed / "ledger.key.pub")
    code, output = run(signed, "verify", "--checkpoint", cp)
    assert code == 1 and "key" in output
    assert run(signed, "verify", "--checkpoint", cp, "--key", pub)[0] == 0
    tamper.delete(f"sqlite:///{signed}/ledger.db", "QZ-1", 2)
    code, output = run(signed, "verify", "--checkpoint", cp, "--key", pub)
    assert code == 3 and "case 'QZ-1' version 2" in output
    text = (signed / "cp").read_text()
    size = parse_checkpoint(text).size  # tree sizes count the pack versions' events too
    (signed / "cp2").write_text(text.replace(f"\n{size}\n", f"\n{size + 1}\n"))
    code, output = run(signed, "verify", "--checkpoint", str(signed / "cp2"), "--key", pub)
    assert code == 1 and "SIGNATURE" not in output and "does not verify" in output


def test_prove_names_an_unknown_case_and_wants_a_case_or_since(signed: Path) -> None:
    code, output = run(signed, "prove", "QZ-3")
    assert code == 1 and "QZ-3" in output
    code, output = run(signed, "prove")
    assert code == 1 and "give a CASE" in output


def test_a_witness_refuses_a_log_rolled_back_behind_what_it_signed(signed: Path) -> None:
    args = ["--log-key", str(signed / "ledger.key.pub"), "--key", str(signed / "witness.key"),
            "--state", str(signed / "witness.state")]  # fmt: skip
    older = (signed / "cp").read_text()
    with CaseLedger(f"sqlite:///{signed}/ledger.db", clock=fixed_clock) as ledger:
        ledger.record(command("QZ-3", 1, RECEIVED, at(12)))
    assert run(signed, "checkpoint", "--key", str(signed / "ledger.key"), "--out",
               str(signed / "cp.new"))[0] == 0  # fmt: skip
    code, output = run(signed, "witness", str(signed / "cp.new"), *args)
    assert code == 0 and "— witness.test " in output
    (signed / "cp.old").write_text(older)
    code, output = run(signed, "witness", str(signed / "cp.old"), *args)
    assert code == 3 and "rolled back" in output


def test_a_witness_without_the_database_checks_a_consistency_file(signed: Path) -> None:
    """The supervising department need not read the ledger's database: it is given the
    new checkpoint and the proof from the one it signed last (``prove --since``)."""
    args = ["--log-key", str(signed / "ledger.key.pub"), "--key", str(signed / "witness.key"),
            "--state", str(signed / "witness.state")]  # fmt: skip
    assert run(signed, "witness", str(signed / "cp"), *args)[0] == 0
    with CaseLedger(f"sqlite:///{signed}/ledger.db", clock=fixed_clock) as ledger:
        ledger.record(command("QZ-3", 1, RECEIVED, at(12)))
    assert run(signed, "checkpoint", "--key", str(signed / "ledger.key"), "--out",
               str(signed / "cp.new"))[0] == 0  # fmt: skip
    assert run(signed, "prove", "--since", str(signed / "cp"), "--checkpoint",
               str(signed / "cp.new"), "--out", str(signed / "proof.json"))[0] == 0  # fmt: skip
    elsewhere = ["--db", f"sqlite:///{signed}/nothing-here.db"]
    result = runner.invoke(app, [*elsewhere, "witness", str(signed / "cp.new"), *args,
                                 "--proof", str(signed / "proof.json")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert not (signed / "nothing-here.db").exists()
    assert "— witness.test " in (signed / "witness.state").read_text()
    code, output = run(signed, "witness", str(signed / "cp"), *args, "--proof",
                       str(signed / "proof.json"))  # fmt: skip
    assert code == 1 and "not the checkpoint given" in output


def test_prove_a_case_recorded_after_the_checkpoint_says_to_take_a_new_one(signed: Path) -> None:
    with CaseLedger(f"sqlite:///{signed}/ledger.db", clock=fixed_clock) as ledger:
        ledger.record(command("QZ-3", 1, RECEIVED, at(12)))
    code, output = run(signed, "prove", "QZ-3", "--checkpoint", str(signed / "cp"))
    assert code == 1 and "not as of the checkpoint of 4 events" in output
    assert "take a new checkpoint" in output


def test_a_witness_state_that_is_not_a_checkpoint_file_is_one_line(signed: Path) -> None:
    args = ["--log-key", str(signed / "ledger.key.pub"), "--key", str(signed / "witness.key")]
    (signed / "folder").mkdir()
    code, output = run(signed, "witness", str(signed / "cp"), *args, "--state",
                       str(signed / "folder"))  # fmt: skip
    assert code == 1 and "cannot be read" in output
    (signed / "junk").write_bytes(b"\x00\xff")
    code, output = run(signed, "witness", str(signed / "cp"), *args, "--state",
                       str(signed / "junk"))  # fmt: skip
    assert code == 1 and "junk: text: not UTF-8" in output
