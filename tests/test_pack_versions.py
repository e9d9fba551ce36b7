"""Rule-pack versions kept in the ledger (issue 12): a case is judged under the version it
was accepted under, whatever is installed; a what-if re-judges under another version and
records nothing; a recorded pack's content is covered by ``verify``."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import orjson
import pytest

from caseledger import CaseLedger, PackError
from caseledger.domain.chain import event_hash
from caseledger.errors import (
    CasesNotFound,
    PackBaselineDiffers,
    RecordedPackMissing,
    UnknownPackVersion,
)
from caseledger.rules.registry import PackRegistry
from caseledger.rules.versions import contents_of, pack_changes, pack_from_content
from tests import tamper
from tests.conftest import fixed_clock
from tests.helpers import ACCEPTED, RECEIVED, at, command, snapshot, write_pack

HEADER = """\
[pack]
name = "{name}"
version = "VERSION"
title = "港城 (Harbour Town)"
extends = "{extends}"
catalogue = "open"
reference = "test pack of issue 12"
"""

CUT = """
[[limits.decision]]
from = 2026-01-01
override = true
working_days = 5
label = "许可决定期限"
reference = "港城 decision limit cut to 5 working days (test)"
"""

AS_OF = dt.datetime(2026, 10, 28, 12, tzinfo=dt.UTC)
"""12 working days after the acceptance of 12 October: a case still open is green under a
20-day limit, red under 5; one decided on 22 October (day 8) is late under 5 only."""


def harbour(root: Path, version: str, body: str = "") -> Path:
    """The pack folder ``root/harbour_town`` at ``version`` (``body``: rules it adds)."""
    folder = root / "harbour_town"
    shutil.rmtree(folder, ignore_errors=True)
    header = HEADER.replace("VERSION", version)
    return write_pack(root, "harbour_town", body, "national", header)


def registry(root: Path) -> PackRegistry:
    return PackRegistry.discover([root / "harbour_town"])


ACCEPT = {"type": "accepted", "item_code": "HT-1", "case_kind": "promised",
          "rule_pack": "harbour_town"}  # fmt: skip
DECIDE = {"type": "approved", "decision_no": "决定〔2026〕1号"}
ISSUED = {"type": "certificate_issued", "certificate_no": "HT-C-1"}
CHIEF = {"person": "C008", "role": "chief_representative", "department": "市市场监督管理局"}


def record_cases(ledger: CaseLedger) -> None:
    """HT-1 decided on the 8th working day (late only under a 5-day limit); HT-2 open."""
    for case_no in ("HT-1", "HT-2"):
        ledger.record(command(case_no, 1, RECEIVED, at(12)))
        ledger.record(command(case_no, 2, ACCEPT, at(12, 9, 30)))
    ledger.record(command("HT-1", 3, DECIDE, at(22), CHIEF))
    ledger.record(command("HT-1", 4, ISSUED, at(22, 10), CHIEF))


def accounts(ledger: CaseLedger, **options: str) -> dict[str, bytes]:
    return {
        n: orjson.dumps(ledger.evaluate(n, AS_OF, **options).as_dict())
        for n in ledger.case_numbers()
    }


@pytest.fixture
def packs_root(tmp_path: Path) -> Path:
    root = tmp_path / "packs"
    harbour(root, "1.0")
    return root


def test_a_case_keeps_its_v1_judgement_after_v2_is_installed(
    ledger_url: str, packs_root: Path
) -> None:
    with CaseLedger(ledger_url, packs=registry(packs_root), clock=fixed_clock) as ledger:
        record_cases(ledger)
        v1 = registry(packs_root).get("harbour_town")
        before = accounts(ledger)
    harbour(packs_root, "2.0", CUT)
    v2 = registry(packs_root).get("harbour_town")
    with CaseLedger(ledger_url, packs=registry(packs_root), clock=fixed_clock) as ledger:
        assert accounts(ledger) == before
        recorded = ledger.evaluate("HT-1", AS_OF)
        assert recorded.pack.content_hash == v1.content_hash != v2.content_hash
        assert recorded.judged_under == "recorded" and not recorded.findings
        installed = ledger.evaluate("HT-1", AS_OF, judge_under="installed")
        assert installed.pack.content_hash == v2.content_hash
        assert installed.as_dict()["judged_under"] == "installed"
        assert [f.violation.value for f in installed.findings] == ["overtime"]
        named = ledger.evaluate("HT-1", AS_OF, judge_under="harbour_town@1.0")
        assert named.pack.content_hash == v1.content_hash
        assert [(h.content.name, h.content.version) for h in ledger.pack_history()] == [
            ("national", v1.parent.version if v1.parent else ""),
            ("harbour_town", "1.0"),
        ]
        # the board and the statistics read the recorded version too
        assert ledger.board(AS_OF.date()).entries == []


def test_a_retried_acceptance_after_an_upgrade_is_the_recorded_one(
    sqlite_url: str, packs_root: Path
) -> None:
    with CaseLedger(sqlite_url, packs=registry(packs_root), clock=fixed_clock) as ledger:
        record_cases(ledger)
    harbour(packs_root, "2.0", CUT)
    with CaseLedger(sqlite_url, packs=registry(packs_root), clock=fixed_clock) as ledger:
        rows = snapshot(ledger)
        again = ledger.record(command("HT-2", 2, ACCEPT, at(12, 9, 30)))
        assert again.already_recorded and snapshot(ledger) == rows


def test_a_copied_ledger_judges_byte_for_byte_with_no_packs_installed(
    tmp_path: Path, packs_root: Path
) -> None:
    original = tmp_path / "ledger.db"
    url = f"sqlite:///{original}"
    with CaseLedger(url, packs=registry(packs_root), clock=fixed_clock) as here:
        record_cases(here)
        expected = accounts(here)
        explained = [here.evaluate(n, AS_OF).explain() for n in here.case_numbers()]
    copy = tmp_path / "elsewhere.db"
    shutil.copyfile(original, copy)
    nothing = PackRegistry.discover(entry_points=False)
    assert nothing.names() == []
    with CaseLedger(f"sqlite:///{copy}", packs=nothing, clock=fixed_clock) as elsewhere:
        assert accounts(elsewhere) == expected
        assert [elsewhere.evaluate(n, AS_OF).explain() for n in elsewhere.case_numbers()] == (
            explained
        )
        assert elsewhere.verify().ok


def test_a_case_whose_recorded_version_is_nowhere_names_its_hash_and_the_fix(
    sqlite_url: str, packs_root: Path
) -> None:
    with CaseLedger(sqlite_url, packs=registry(packs_root), clock=fixed_clock) as ledger:
        record_cases(ledger)
        v1 = ledger.packs.get("harbour_town")
    tamper.execute(sqlite_url, "DELETE FROM stored_events WHERE originator_id LIKE '@%'")
    harbour(packs_root, "2.0", CUT)
    with CaseLedger(sqlite_url, packs=registry(packs_root), clock=fixed_clock) as ledger:
        with pytest.raises(RecordedPackMissing, match=v1.content_hash) as caught:
            ledger.evaluate("HT-1", AS_OF)
        assert "judge_under='installed'" in str(caught.value)
        assert caught.value.case_no == "HT-1"


def test_a_what_if_under_a_cut_limit_turns_the_late_case_red_and_names_the_rule(
    ledger_url: str, packs_root: Path, tmp_path: Path
) -> None:
    with CaseLedger(ledger_url, packs=registry(packs_root), clock=fixed_clock) as ledger:
        record_cases(ledger)
        rows = snapshot(ledger)
        proposal = harbour(tmp_path / "proposal", "2.0", CUT)
        cut = PackRegistry.for_folder(proposal).get("harbour_town")
        report = ledger.what_if(cut, as_of=AS_OF)
        assert snapshot(ledger) == rows  # nothing recorded
    assert report.judged == 2
    assert report.turned_red == ["HT-1", "HT-2"]
    late = {c.case_no: c for c in report.changes}["HT-1"]
    assert late.recorded == "harbour_town@1.0"
    assert late.before["light"] == "green" and late.after["light"] == "red"
    assert late.after["violations"] == ["overtime 2026-10-20"]
    assert late.before["statutory_deadline"] == "2026-11-09"
    assert late.after["statutory_deadline"] == "2026-10-19"
    [rule] = late.rules
    assert (rule.section, rule.key, rule.fields) == (
        "limits",
        "decision",
        ("reference", "working_days"),
    )
    assert rule.before is not None and rule.before.rule.working_days == 20  # type: ignore[attr-defined]
    assert rule.after is not None and rule.after.reference.startswith("港城 decision limit cut")
    summary = report.summary()
    assert (summary["cases_changed"], summary["turned_red"]) == (2, 2)


def test_a_what_if_of_a_new_baseline_rebases_the_city_pack(
    sqlite_url: str, packs_root: Path
) -> None:
    with CaseLedger(sqlite_url, packs=registry(packs_root), clock=fixed_clock) as ledger:
        record_cases(ledger)
        national = ledger.packs.get("national")
        cut = PackRegistry({}, {}, {}, {}).including(_with_cut_limit(national), origin="test")
        report = ledger.what_if(cut.get("national"), as_of=AS_OF, cases=["HT-1"])
    assert [c.case_no for c in report.changes] == ["HT-1"]
    assert report.changes[0].after["light"] == "red"


def _with_cut_limit(national: object) -> object:
    from caseledger.rules.pack import RulePack

    assert isinstance(national, RulePack)
    data = national.data.model_dump(by_alias=True)
    data["pack"]["version"] = "2099.1"
    data["limits"]["decision"].append(
        {"from": dt.date(2026, 1, 1), "working_days": 5, "label": "许可决定期限",
         "reference": "national decision limit cut (test)"}
    )  # fmt: skip
    from caseledger.rules.model import PackData

    return RulePack(PackData.model_validate(data), "test")


def test_bad_what_if_input_is_a_typed_error_and_changes_nothing(
    sqlite_url: str, packs_root: Path, tmp_path: Path
) -> None:
    with CaseLedger(sqlite_url, packs=registry(packs_root), clock=fixed_clock) as ledger:
        record_cases(ledger)
        rows = snapshot(ledger)
        with pytest.raises(UnknownPackVersion, match=r"harbour_town@9\.9"):
            ledger.what_if("harbour_town@9.9", as_of=AS_OF)
        with pytest.raises(UnknownPackVersion, match="NAME@VERSION"):
            ledger.evaluate("HT-1", AS_OF, judge_under="newest")
        with pytest.raises(CasesNotFound, match="HT-3"):
            ledger.what_if("harbour_town@1.0", as_of=AS_OF, cases=["HT-1", "HT-3"])
        broken = write_pack(tmp_path / "bad", "harbour_town", "[limits]\nx = 1\n", "national",
                            HEADER.replace("VERSION", "3.0"))  # fmt: skip
        with pytest.raises(PackError):
            PackRegistry.for_folder(broken)
        other_root = write_pack(tmp_path / "alone", "harbour_town", "", "",
                                HEADER.replace("VERSION", "4.0"))  # fmt: skip
        alone = PackRegistry.for_folder(other_root).get("harbour_town")
        with pytest.raises(PackBaselineDiffers, match="national"):
            ledger.what_if(alone, as_of=AS_OF)
        assert snapshot(ledger) == rows


def test_recorded_content_rebuilds_to_its_content_hash_for_every_bundled_pack() -> None:
    for pack in PackRegistry.discover():
        parent = None
        for content in contents_of(pack):
            parent = pack_from_content(content, parent)
        assert parent is not None and parent.content_hash == pack.content_hash
        assert pack_changes(pack, parent) == []


def _pack_row(url: str, ledger: CaseLedger, name: str) -> tuple[str, dict[str, object]]:
    stream = "@" + ledger.packs.get(name).content_hash
    return stream, orjson.loads(tamper.state_of(url, stream, 1))


@pytest.mark.parametrize("recompute", [False, True], ids=["edited", "edited-and-rehashed"])
def test_tampering_with_a_recorded_pack_is_detected_by_verify(
    ledger_url: str, packs_root: Path, recompute: bool
) -> None:
    with CaseLedger(ledger_url, packs=registry(packs_root), clock=fixed_clock) as ledger:
        record_cases(ledger)
        assert ledger.verify().ok
        stream, state = _pack_row(ledger_url, ledger, "national")
        event = state["event"]
        assert isinstance(event, dict)
        event["content"]["limits"]["decision"][0]["working_days"] = 60
        if recompute:  # the attacker recomputes the event's own hash: the chain holds
            state.pop("hash")
            state["hash"] = event_hash(stream, 1, "pack_recorded", state)
        tamper.set_state(ledger_url, stream, 1, orjson.dumps(state))
        report = ledger.verify()
    assert not report.ok
    [problem] = [b for b in report.breaks if b.case_no == stream]
    expected = "content hash" if recompute else "does not match its hash"
    assert expected in problem.problem


V1_ACCEPTED = (
    '{"actor":{"department":"市市场监督管理局","person":"A008","role":"window_a","window":"W08"},'
    '"at":"2026-10-12T09:30:00+08:00","command_id":"golden-accepted","event":{"case_kind":'
    '"promised","item_code":"QZ-SCJG-0101","notice_no":"受理〔2026〕1号","rule_pack":"national"},'
    '"hash":"b551e8da86d991cedb954415a782a76ab48565f03339aa37b2e1a72d2a21015b","prev_hash":'
    '"0000000000000000000000000000000000000000000000000000000000000000","recorded_at":'
    '"2026-10-12T01:31:02.123456+00:00"}'
)
"""An acceptance as stored before pack versions were recorded (class version 1)."""


def test_an_acceptance_stored_before_versions_is_upcast_and_judged_under_the_installed_pack() -> (
    None
):
    from eventsourcing.persistence import StoredEvent

    from caseledger.judging.evaluation import pack_for
    from caseledger.judging.facts import fact_from_state
    from caseledger.store.mapper import CaseEventMapper

    stored = StoredEvent("QZ-2026-000001", 3, "accepted", V1_ACCEPTED.encode())
    event = CaseEventMapper().to_domain_event(stored)
    assert event.event.rule_pack_version is None and event.event.rule_pack_hash is None  # type: ignore[union-attr]
    fact = fact_from_state(3, "accepted", orjson.loads(V1_ACCEPTED))
    assert fact.get("rule_pack_hash", "absent") is None  # upcast: the field is there, empty
    packs = PackRegistry.discover()
    for judge_under in ("recorded", "installed"):
        chosen = packs.judging(judge_under=judge_under)
        assert pack_for([fact], chosen) is packs.get("national")


def test_the_command_line_refuses_an_unknown_version_folder_or_pack_with_exit_1(
    sqlite_url: str, packs_root: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from caseledger.cli.app import app

    with CaseLedger(sqlite_url, packs=registry(packs_root), clock=fixed_clock) as ledger:
        record_cases(ledger)
        rows = snapshot(ledger)
    runner = CliRunner()
    for arguments, said in (
        (["whatif", "--pack", "harbour_town@9.9"], "harbour_town@1.0"),
        (["whatif", "--pack", str(tmp_path / "nowhere")], "no pack.toml there"),
        (["packs", "history", "harbour_twon"], "did you mean 'harbour_town'"),
        (["whatif", "--pack", "harbour_town@1.0", "--case", "HT-9"], "1 case not in the ledger"),
    ):
        result = runner.invoke(app, ["--db", sqlite_url, *arguments])
        assert result.exit_code == 1, (arguments, result.output)
        assert said in " ".join(result.stderr.split()), (arguments, result.stderr)
    with CaseLedger(sqlite_url, packs=registry(packs_root)) as ledger:
        assert snapshot(ledger) == rows
    harbour(packs_root, "2.0", CUT)
    judged = {}
    for policy in ("recorded", "installed"):
        result = runner.invoke(
            app,
            ["--db", sqlite_url, "--packs-dir", str(packs_root), "status", "HT-1",
             "--as-of", "2026-10-28", "--judge-under", policy, "--json"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        judged[policy] = orjson.loads(result.stdout)
    assert [judged[p]["pack"]["version"] for p in judged] == ["1.0", "2.0"]
    assert [judged[p]["judged_under"] for p in judged] == ["recorded", "installed"]
    assert [judged[p]["light"] for p in judged] == ["green", "red"]


def test_an_acceptance_may_name_a_held_version_and_one_that_is_nowhere_is_refused(
    sqlite_url: str, packs_root: Path
) -> None:
    with CaseLedger(sqlite_url, packs=registry(packs_root), clock=fixed_clock) as ledger:
        record_cases(ledger)
        v1 = ledger.packs.get("harbour_town")
    nothing = PackRegistry.discover(entry_points=False)
    with CaseLedger(sqlite_url, packs=nothing, clock=fixed_clock) as bare:
        named = {**ACCEPT, "rule_pack_version": "1.0", "rule_pack_hash": v1.content_hash}
        bare.record(command("HT-3", 1, RECEIVED, at(12)))
        bare.record(command("HT-3", 2, named, at(12, 9, 30)))  # held: no install needed
        assert bare.evaluate("HT-3", AS_OF).pack == v1.identity
        bare.record(command("HT-4", 1, RECEIVED, at(12)))
        rows = snapshot(bare)
        unknown = {**named, "rule_pack_hash": "0" * 64}
        with pytest.raises(RecordedPackMissing, match=r"0{64}"):
            bare.record(command("HT-4", 2, unknown, at(13)))
        assert snapshot(bare) == rows


def test_a_pack_version_another_ledger_recorded_since_it_last_read_is_not_recorded_again(
    ledger_url: str,
) -> None:
    """Two processes on one ledger: the second read the versions held before the first
    recorded the national pack's; its own first acceptance must neither record that version
    again nor be refused (it would conflict with the first's pack stream on every retry)."""
    first = CaseLedger(ledger_url, clock=fixed_clock)
    second = CaseLedger(ledger_url, clock=fixed_clock)
    try:
        for ledger, case_no in ((first, "A-1"), (second, "B-1")):
            ledger.record(command(case_no, 1, RECEIVED, at(12)))
        assert second.held_packs.held() == {}  # read now, before the first records a version
        first.record(command("A-1", 2, ACCEPTED, at(12, 9, 30)))
        result = second.record(command("B-1", 2, ACCEPTED, at(12, 9, 30)))
        assert (result.version, result.already_recorded) == (2, False)
        pack_streams = {n for n in second.case_numbers() if n.startswith("@")}
        assert pack_streams == set()  # case_numbers lists cases only
        held = second.pack_history()
        assert [h.first_case for h in held] == ["A-1"] * len(held)
        assert len({h.content.content_hash for h in held}) == len(held)
    finally:
        first.close()
        second.close()
