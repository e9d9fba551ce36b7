"""Tamper evidence: any altered byte, removed, replaced or reordered event is named."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caseledger import CaseLedger, Seal, SealError, load_seal
from tests import tamper
from tests.conftest import fixed_clock
from tests.helpers import APPROVED, CHIEF, RECEIVED, accepted_case, at, command, examples


def _three_cases(ledger: CaseLedger) -> None:
    for case_no in ("QZ-1", "QZ-2", "QZ-3"):
        accepted_case(ledger, case_no)
        ledger.record(command(case_no, 3, APPROVED, at(14), CHIEF))
        ledger.record(
            command(case_no, 4, {"type": "certificate_issued", "certificate_no": "c"}, at(15))
        )


def _breaks(ledger: CaseLedger, seal: Seal | None = None) -> list[tuple[str, int]]:
    return [(b.case_no, b.version) for b in ledger.verify(seal=seal).breaks]


def test_an_untouched_ledger_verifies(ledger: CaseLedger) -> None:
    _three_cases(ledger)
    report = ledger.verify()
    assert report.ok and (report.cases, report.events) == (3, 12)


def test_an_altered_payload_is_named_by_case_and_version(
    ledger: CaseLedger, ledger_url: str
) -> None:
    _three_cases(ledger)
    state = tamper.state_of(ledger_url, "QZ-2", 3)
    tamper.set_state(ledger_url, "QZ-2", 3, state.replace("决定".encode(), "批准".encode()))
    report = ledger.verify()
    assert _breaks(ledger) == [("QZ-2", 3)]
    assert "altered" in report.breaks[0].problem


def test_a_deleted_row_in_the_middle_is_named_by_case_and_version(
    ledger: CaseLedger, ledger_url: str
) -> None:
    _three_cases(ledger)
    tamper.delete(ledger_url, "QZ-3", 2)
    assert _breaks(ledger) == [("QZ-3", 2)]
    assert "missing" in ledger.verify().breaks[0].problem


def test_a_deleted_last_row_is_caught_by_a_seal_taken_before(
    ledger: CaseLedger, ledger_url: str
) -> None:
    _three_cases(ledger)
    seal = ledger.seal()
    tamper.delete(ledger_url, "QZ-1", 4)
    assert _breaks(ledger, seal) == [("QZ-1", 4)]
    assert "removed from the end" in ledger.verify(seal=seal).breaks[0].problem


def test_events_recorded_after_a_seal_still_verify_against_it(ledger: CaseLedger) -> None:
    _three_cases(ledger)
    seal = ledger.seal()
    ledger.record(
        command(
            "QZ-1", 5, {"type": "complaint_filed", "complaint_id": "T1", "summary": "s"}, at(16)
        )
    )
    accepted_case(ledger, "QZ-4")
    assert ledger.verify(seal=seal).ok


def test_swapped_events_are_named(ledger: CaseLedger, ledger_url: str) -> None:
    _three_cases(ledger)
    second, third = tamper.state_of(ledger_url, "QZ-1", 2), tamper.state_of(ledger_url, "QZ-1", 3)
    tamper.set_state(ledger_url, "QZ-1", 2, third)
    tamper.set_state(ledger_url, "QZ-1", 3, second)
    assert _breaks(ledger) == [("QZ-1", 2)]


def test_a_replaced_event_with_a_recomputed_own_hash_breaks_the_next_link(
    ledger: CaseLedger, ledger_url: str
) -> None:
    """An attacker who knows the hash rule rewrites an event consistently; its successor's
    prev_hash still points at the original, unless every later event is rewritten too, and a
    seal catches even that."""
    from caseledger.domain.chain import event_hash

    _three_cases(ledger)
    seal = ledger.seal()
    state = json.loads(tamper.state_of(ledger_url, "QZ-1", 3))
    state["event"]["decision_no"] = "伪造"
    state.pop("hash")
    state["hash"] = event_hash("QZ-1", 3, "approved", state)
    tamper.set_state(ledger_url, "QZ-1", 3, json.dumps(state, ensure_ascii=False).encode())
    assert _breaks(ledger) == [("QZ-1", 4)]
    tamper.delete(ledger_url, "QZ-1", 4)  # cover the tracks
    assert _breaks(ledger) == []
    assert _breaks(ledger, seal) == [("QZ-1", 4)]


def test_a_seal_file_that_was_edited_is_refused(ledger: CaseLedger, tmp_path: Path) -> None:
    _three_cases(ledger)
    path = tmp_path / "seal.json"
    path.write_bytes(ledger.seal().to_json())
    assert load_seal(path).root == ledger.seal().root
    data = json.loads(path.read_text())
    data["heads"]["QZ-1"]["version"] = 3
    path.write_text(json.dumps(data))
    with pytest.raises(SealError, match="altered"):
        load_seal(path)


def test_a_ledger_that_does_not_verify_cannot_be_sealed(
    ledger: CaseLedger, ledger_url: str
) -> None:
    _three_cases(ledger)
    tamper.delete(ledger_url, "QZ-2", 1)
    with pytest.raises(SealError, match="QZ-2"):
        ledger.seal()


@settings(max_examples=examples(40))
@given(data=st.data())
def test_any_single_byte_change_of_any_stored_event_is_detected_at_that_event(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('bytes')}/ledger.db"
    with CaseLedger(url, clock=fixed_clock) as ledger:
        _three_cases(ledger)
        case_no = data.draw(st.sampled_from(["QZ-1", "QZ-2", "QZ-3"]), label="case")
        version = data.draw(st.integers(1, 4), label="version")
        state = tamper.state_of(url, case_no, version)
        position = data.draw(st.integers(0, len(state) - 1), label="position")
        new_byte = data.draw(st.integers(0, 255).filter(lambda b: b != state[position]))
        changed = state[:position] + bytes([new_byte]) + state[position + 1 :]
        tamper.set_state(url, case_no, version, changed)
        assert _breaks(ledger) == [(case_no, version)]


def test_verify_on_the_command_line_exits_3_naming_case_and_version(
    sqlite_url: str, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from caseledger.cli import app

    with CaseLedger(sqlite_url, clock=fixed_clock) as ledger:
        _three_cases(ledger)
    runner = CliRunner()
    ok = runner.invoke(app, ["--db", sqlite_url, "verify"])
    assert ok.exit_code == 0 and "every chain intact" in ok.output
    sealed = runner.invoke(app, ["--db", sqlite_url, "seal", "--out", str(tmp_path / "s.json")])
    assert sealed.exit_code == 0
    tamper.delete(sqlite_url, "QZ-3", 4)
    tamper.delete(sqlite_url, "QZ-2", 2)
    result = runner.invoke(app, ["--db", sqlite_url, "verify", "--seal", str(tmp_path / "s.json")])
    assert result.exit_code == 3
    assert "case 'QZ-2' version 2" in result.output
    assert "case 'QZ-3' version 4" in result.output


def test_received_only_case_verifies(open_ledger: Callable[[], CaseLedger]) -> None:
    ledger = open_ledger()
    ledger.record(command("QZ-1", 1, RECEIVED, at(12)))
    assert ledger.verify().ok


def test_a_seal_whose_time_or_count_was_edited_is_refused(
    ledger: CaseLedger, tmp_path: Path
) -> None:
    _three_cases(ledger)
    path = tmp_path / "seal.json"
    path.write_bytes(ledger.seal().to_json())
    data = json.loads(path.read_text())
    data["events"] = 11
    path.write_text(json.dumps(data))
    with pytest.raises(SealError, match="altered"):
        load_seal(path)


def test_a_corrupt_row_is_a_store_error_naming_case_and_version(
    ledger: CaseLedger, ledger_url: str
) -> None:
    from caseledger import StoreError

    _three_cases(ledger)
    state = json.loads(tamper.state_of(ledger_url, "QZ-2", 2))
    state["class_version"] = "two"
    tamper.set_state(ledger_url, "QZ-2", 2, json.dumps(state, ensure_ascii=False).encode())
    with pytest.raises(StoreError, match="case 'QZ-2' version 2"):
        ledger.case("QZ-2")
    assert _breaks(ledger) == [("QZ-2", 2)]


def test_the_process_environment_cannot_redirect_a_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQLITE_DBNAME", str(tmp_path / "elsewhere.db"))
    monkeypatch.setenv("COMPRESSOR_TOPIC", "zlib")
    url = f"sqlite:///{tmp_path}/intended.db"
    with CaseLedger(url, clock=fixed_clock) as ledger:
        ledger.record(command("QZ-1", 1, RECEIVED, at(12)))
    assert (tmp_path / "intended.db").exists() and not (tmp_path / "elsewhere.db").exists()
    assert tamper.state_of(url, "QZ-1", 1).startswith(b"{")
