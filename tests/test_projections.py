"""Deadlines, lights, violations and sanctions on real calendar dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from caseledger import CaseLedger, PackRegistry
from caseledger.judging.judgement import Light
from caseledger.rules import Violation
from caseledger.scenarios.folder import load_pack_folder
from tests.conftest import fixed_clock
from tests.helpers import ACCEPTED, RECEIVED, at, command

CST = dt.timezone(dt.timedelta(hours=8))
D = dt.date
WINDOW = {"person": "A1", "role": "window_a", "department": "区市场监督管理局", "window": "W3"}
CHIEF = {"person": "K1", "role": "section_chief", "department": "区市场监督管理局"}
TOLD = {"number": "延期告知1", "date": "2026-03-02"}
"""The notice telling the applicant an extension's reasons (Art. 42 requires it)."""
HEAD = {"person": "H1", "role": "department_head", "department": "区市场监督管理局"}


class Story:
    """Record one case event by event: ``story.on("2026-02-13 10:00", {...})``."""

    def __init__(self, ledger: CaseLedger, case_no: str = "EX-1") -> None:
        self.ledger, self.case_no, self.n = ledger, case_no, 0

    def on(self, when: str, event: dict[str, Any], actor: dict[str, Any] | None = None) -> Story:
        self.n += 1
        at = dt.datetime.fromisoformat(when.replace(" ", "T")).replace(tzinfo=CST)
        self.ledger.record(
            {"case_no": self.case_no, "command_id": f"{self.case_no}-{self.n}",
             "at": at.isoformat(), "actor": actor or WINDOW, "event": event}
        )  # fmt: skip
        return self

    def received(self, when: str) -> Story:
        return self.on(when, {"type": "received", "channel": "window", "applicant": "APP"})

    def accepted(self, when: str, item: str = "EX-SCJG-0001", kind: str = "promised",
                 pack: str = "example_district") -> Story:  # fmt: skip
        event = {"type": "accepted", "item_code": item, "case_kind": kind, "rule_pack": pack}
        return self.on(when, event)

    def at(self, day: str, hour: int = 12) -> Any:
        moment = dt.datetime.combine(D.fromisoformat(day), dt.time(hour), tzinfo=CST)
        return self.ledger.evaluate(self.case_no, moment)


@pytest.fixture
def ledger(sqlite_url: str) -> Any:
    with CaseLedger(sqlite_url, clock=fixed_clock) as opened:
        yield opened


def kinds(evaluation: Any) -> list[str]:
    return [f.violation.value for f in evaluation.findings]


def test_the_light_turns_yellow_two_working_days_before_and_red_the_day_after_the_deadline(
    ledger: CaseLedger,
) -> None:
    """Accepted Friday 13 February 2026, promised in 10 working days: the make-up Saturday of
    14 February counts, the Spring Festival does not; due Thursday 5 March."""
    story = Story(ledger).received("2026-02-13 09:00").accepted("2026-02-13 10:00")
    assert story.at("2026-02-28").light is Light.GREEN
    assert story.at("2026-03-02").clock.promised_deadline == D(2026, 3, 5)
    assert story.at("2026-03-02").light is Light.GREEN
    assert story.at("2026-03-03").light is Light.YELLOW
    assert story.at("2026-03-03").clock.working_days_left == 2
    assert story.at("2026-03-05").light is Light.YELLOW
    late = story.at("2026-03-06")
    assert late.light is Light.RED and kinds(late) == ["overtime"]
    assert late.findings[0].day == D(2026, 3, 6)


def test_a_pause_moves_the_deadline_by_exactly_its_working_days(ledger: CaseLedger) -> None:
    story = Story(ledger).received("2026-02-13 09:00").accepted("2026-02-13 10:00")
    notice = {"number": "N1", "date": "2026-02-25", "expected_working_days": 5}
    story.on("2026-02-25 10:00", {"type": "clock_suspended", "reason": "expert_review",
                                  "notice": notice})  # fmt: skip
    during = story.at("2026-03-02")
    assert during.clock.paused and during.light is Light.GREEN
    story.on("2026-03-04 16:00", {"type": "clock_resumed"})
    after = story.at("2026-03-06")
    assert [p.working_days for p in after.clock.periods] == [6]  # 26, 27, 28 Feb, 2, 3, 4 Mar
    assert after.clock.promised_deadline == D(2026, 3, 13)  # 5 March + 6 working days
    assert after.clock.statutory_deadline == D(2026, 3, 27)  # 19 March + 6 working days
    assert after.light is Light.GREEN and after.findings == []


def test_an_open_pause_freezes_the_light(ledger: CaseLedger) -> None:
    story = Story(ledger).received("2026-02-13 09:00").accepted("2026-02-13 10:00")
    notice = {"number": "N1", "date": "2026-03-03"}
    story.on("2026-03-03 10:00", {"type": "clock_suspended", "reason": "testing",
                                  "notice": notice})  # fmt: skip
    for day in ("2026-03-03", "2026-03-20", "2026-04-30"):
        evaluation = story.at(day)
        assert evaluation.light is Light.YELLOW and evaluation.clock.working_days_left == 2


def test_an_extension_moves_the_statutory_deadline_by_exactly_its_working_days(
    ledger: CaseLedger,
) -> None:
    story = Story(ledger).received("2026-09-28 09:00")
    story.accepted("2026-09-28 10:00", item="ANY-1", pack="national")
    before = story.at("2026-10-20").clock.statutory_deadline
    extension = {
        "type": "extended",
        "working_days": 10,
        "approver": HEAD,
        "reason": "复杂",
        "notice": TOLD,
    }
    story.on("2026-10-20 10:00", extension, CHIEF)
    after = story.at("2026-10-21")
    assert before == D(2026, 10, 30)  # 20 working days, National Day week off, 9/28 Sunday on
    assert after.clock.statutory_deadline == D(2026, 11, 13)
    calendar = ledger.packs.get("national").calendar
    assert calendar.count_working_days(before, after.clock.statutory_deadline).value == 10
    assert after.findings == []


def test_an_extension_approved_by_someone_without_the_power_is_ultra_vires(
    ledger: CaseLedger,
) -> None:
    story = Story(ledger).received("2026-03-02 09:00").accepted("2026-03-02 10:00")
    extension = {
        "type": "extended",
        "working_days": 10,
        "approver": WINDOW,
        "reason": "复杂",
        "notice": TOLD,
    }
    story.on("2026-03-10 10:00", extension, CHIEF)
    evaluation = story.at("2026-03-10")
    assert kinds(evaluation) == ["ultra_vires"] and evaluation.light is Light.RED


def test_an_extension_beyond_the_law_is_flagged(ledger: CaseLedger) -> None:
    story = Story(ledger).received("2026-03-02 09:00")
    story.accepted("2026-03-02 10:00", item="ANY-1", pack="national")
    extension = {
        "type": "extended",
        "working_days": 15,
        "approver": HEAD,
        "reason": "复杂",
        "notice": TOLD,
    }
    story.on("2026-03-20 10:00", extension, CHIEF)
    assert kinds(story.at("2026-03-20")) == ["excess_extension"]


def test_a_decision_by_the_window_on_a_promised_case_is_ultra_vires_and_sanctioned(
    ledger: CaseLedger,
) -> None:
    story = Story(ledger).received("2026-03-02 09:00").accepted("2026-03-02 10:00")
    story.on("2026-03-04 10:00", {"type": "approved", "decision_no": "D1"}, WINDOW)
    evaluation = story.at("2026-03-04")
    assert kinds(evaluation) == ["ultra_vires"] and evaluation.light is Light.RED
    finding = evaluation.findings[0]
    assert (finding.department, finding.window, finding.version) == ("区市场监督管理局", "W3", 3)
    assert sorted(s.rule for s in evaluation.sanctions) == [
        "ultra_vires_accountability",
        "ultra_vires_rectification",
    ]


def test_after_a_transfer_of_power_the_old_department_deciding_is_ultra_vires(
    ledger: CaseLedger,
) -> None:
    old = Story(ledger, "EX-OLD").received("2026-06-25 09:00").accepted("2026-06-25 10:00")
    old.on("2026-07-02 10:00", {"type": "approved", "decision_no": "D1"}, CHIEF)
    assert kinds(old.at("2026-07-02")) == ["ultra_vires"]
    bureau = {"person": "B1", "role": "section_chief", "department": "区行政审批局"}
    new = Story(ledger, "EX-NEW").received("2026-06-25 09:00").accepted("2026-06-25 10:00")
    new.on("2026-07-02 10:00", {"type": "approved", "decision_no": "D2"}, bureau)
    assert kinds(new.at("2026-07-02")) == []


def test_a_decision_with_no_acceptance_on_record_is_outside_the_system(ledger: CaseLedger) -> None:
    story = Story(ledger).received("2026-03-02 09:00")
    story.on("2026-03-03 10:00", {"type": "approved", "decision_no": "D1"}, CHIEF)
    evaluation = story.at("2026-03-03")
    assert "outside_system" in kinds(evaluation) and evaluation.light is Light.RED


def test_a_citys_ledger_judges_cases_outside_the_system_by_its_own_sanctions(
    sqlite_url: str,
) -> None:
    """A decision with no acceptance names no pack; the ledger's default pack judges it."""
    with CaseLedger(sqlite_url, clock=fixed_clock, default_pack="example_district") as city:
        story = Story(city).received("2026-03-02 09:00")
        story.on("2026-03-03 10:00", {"type": "approved", "decision_no": "D1"}, CHIEF)
        evaluation = story.at("2026-03-03")
        assert evaluation.pack.name == "example_district"
        notice = [s for s in evaluation.sanctions if s.rule == "outside_system_notice"]
        assert notice and notice[0].due == D(2026, 3, 10)  # 5 working days after 3 March


def test_no_reaction_within_5_working_days_is_inaction_and_deemed_acceptance(
    ledger: CaseLedger,
) -> None:
    story = Story(ledger).received("2026-03-02 09:00")
    assert story.at("2026-03-09").findings == []  # 5 working days end on Monday 9 March
    evaluation = story.at("2026-03-10")
    assert kinds(evaluation) == ["inaction"] and evaluation.light is Light.RED
    assert evaluation.clock.deemed_accepted and evaluation.clock.started_on == D(2026, 3, 2)
    assert evaluation.clock.statutory_deadline == D(2026, 3, 30)


def test_a_late_or_second_correction_notice_is_a_missed_notice(ledger: CaseLedger) -> None:
    request = {"type": "documents_requested", "mode": "correction",
               "missing": [{"name": "身份证明"}], "notice_date": "2026-03-11"}  # fmt: skip
    late = Story(ledger, "LATE").received("2026-03-02 09:00")
    late.on("2026-03-11 10:00", request)
    assert kinds(late.at("2026-03-11")) == ["missed_notice"]
    twice = Story(ledger, "TWICE").received("2026-03-02 09:00")
    twice.on("2026-03-03 10:00", {**request, "notice_date": "2026-03-03"})
    twice.on("2026-03-04 10:00", {**request, "missing": [{"name": "平面图"}],
                                  "notice_date": "2026-03-04"})  # fmt: skip
    evaluation = twice.at("2026-03-04")
    assert kinds(evaluation) == ["missed_notice"] and evaluation.findings[0].version == 3


def test_a_suspension_without_its_written_notice_is_flagged(ledger: CaseLedger) -> None:
    story = Story(ledger).received("2026-03-02 09:00").accepted("2026-03-02 10:00")
    story.on("2026-03-03 10:00", {"type": "clock_suspended", "reason": "hearing"})
    evaluation = story.at("2026-03-03")
    assert kinds(evaluation) == ["pause_without_notice"] and evaluation.light is Light.RED
    assert "第四十五条" in evaluation.findings[0].reference


def test_a_decision_after_the_deadline_and_a_late_certificate_are_overtime(
    ledger: CaseLedger,
) -> None:
    story = Story(ledger).received("2026-03-02 09:00")
    story.accepted("2026-03-02 10:00", item="ANY-1", pack="national")
    story.on("2026-04-01 10:00", {"type": "approved", "decision_no": "D1"}, CHIEF)
    decided = story.at("2026-04-01")
    assert kinds(decided) == ["overtime"]
    assert "after the statutory deadline 2026-03-30" in decided.findings[0].detail
    # the certificate is due 10 working days after approval: 16 April (Qingming 4-6 April off)
    assert decided.clock.certificate_due == D(2026, 4, 16)
    assert kinds(story.at("2026-04-16")) == ["overtime"]
    assert kinds(story.at("2026-04-17")) == ["overtime", "overtime"]


def test_the_explanation_names_the_days_not_counted_and_the_rules(ledger: CaseLedger) -> None:
    story = Story(ledger).received("2026-02-13 09:00").accepted("2026-02-13 10:00")
    evaluation = story.at("2026-03-03")
    text = "\n".join(evaluation.explain())
    assert (
        "2026-02-17 春节" in text and "make-up working days counted: 2026-02-14, 2026-02-28" in text
    )
    assert "第四十二条" in text and "threshold 2 working days left" in text
    data = evaluation.as_dict()
    assert data["pack"]["name"] == "example_district" and len(data["pack"]["content_hash"]) == 64
    assert data["clock"]["make_up_working_days"] == ["2026-02-14", "2026-02-28"]


def test_a_deadline_in_an_unpublished_year_is_provisional(ledger: CaseLedger) -> None:
    story = Story(ledger).received("2026-11-20 09:00")
    story.accepted("2026-11-20 10:00", item="ANY-1", kind="joint", pack="national")
    evaluation = story.at("2026-11-23")
    assert evaluation.clock.statutory_deadline is not None
    assert evaluation.clock.statutory_deadline.year == 2027  # 45 working days
    assert evaluation.clock.provisional and "2027" in evaluation.clock.provisional[0]
    assert "PROVISIONAL" in "\n".join(evaluation.explain())


def test_an_evaluation_is_the_same_byte_for_byte_every_time(ledger: CaseLedger) -> None:
    import orjson

    story = Story(ledger).received("2026-02-13 09:00").accepted("2026-02-13 10:00")
    first = orjson.dumps(story.at("2026-03-06").as_dict())
    again = orjson.dumps(story.at("2026-03-06").as_dict())
    assert first == again


def test_an_evaluation_pickles_and_copies_to_the_same_account(ledger: CaseLedger) -> None:
    """Also when its modules are compiled (the wheel): frozen records reduce to their fields."""
    import copy
    import pickle

    import orjson

    story = Story(ledger).received("2026-03-02 09:00").accepted("2026-03-02 10:00")
    story.on("2026-03-03 10:00", {"type": "clock_suspended", "reason": "hearing"})
    evaluation = story.at("2026-03-05")
    assert evaluation.findings and evaluation.sanctions and evaluation.clock.periods
    account = orjson.dumps(evaluation.as_dict())
    for again in (pickle.loads(pickle.dumps(evaluation)), copy.deepcopy(evaluation)):
        assert orjson.dumps(again.as_dict()) == account
        assert again.explain() == evaluation.explain()
        assert again.findings == evaluation.findings and again.sanctions == evaluation.sanctions


def test_sanctions_and_statistics_roll_up_per_department_and_window(ledger: CaseLedger) -> None:
    certificate = {"type": "certificate_issued", "certificate_no": "C"}
    late = Story(ledger, "EX-LATE").received("2026-02-13 09:00").accepted("2026-02-13 10:00")
    late.on("2026-03-10 10:00", {"type": "approved", "decision_no": "D1"}, CHIEF)
    late.on("2026-03-11 10:00", certificate)
    early = Story(ledger, "EX-EARLY").received("2026-03-02 09:00").accepted("2026-03-02 10:00")
    early.on("2026-03-05 10:00", {"type": "approved", "decision_no": "D2"}, CHIEF)
    early.on("2026-03-06 10:00", certificate)
    Story(ledger, "EX-OPEN").received("2026-03-02 09:00").accepted("2026-03-02 10:00")
    rows = {r.key: r for r in ledger.statistics(D(2026, 3, 31), by="department")}
    market = rows["区市场监督管理局"]
    assert (market.received, market.finished, market.on_time, market.early) == (3, 2, 1, 1)
    assert market.overdue == 2  # one decided late, one still open past 16 March
    assert market.early_rate == 0.5
    scores = ledger.scores(D(2026, 3, 31), by="window")
    assert [(s.key, s.points_off, s.score) for s in scores] == [("W3", 4, 996)]
    board = ledger.board(D(2026, 3, 31))
    assert (board.red, board.yellow) == (1, 0)
    assert [(e.case_no, e.light) for e in board.entries] == [("EX-OPEN", Light.RED)]
    assert Violation.OVERTIME.value in board.entries[0].violations
    assert board.entries[0].working_days_left == -11  # due 16 March; 17..31 March: 11 days


# -- regressions found in review --------------------------------------------------------------


def test_a_document_pause_ends_when_the_documents_asked_since_it_began_arrive(
    ledger: CaseLedger,
) -> None:
    """Under example_district, 容缺 pauses the clock; a document still missing from before
    acceptance must not keep the pause open."""
    story = Story(ledger).received("2026-03-02 09:00")
    story.on(
        "2026-03-02 09:30",
        {
            "type": "documents_requested",
            "mode": "correction",
            "missing": [{"name": "平面图"}],
            "notice_date": "2026-03-02",
        },
    )
    story.accepted("2026-03-02 10:00")
    story.on(
        "2026-03-04 10:00",
        {
            "type": "documents_requested",
            "mode": "tolerated",
            "missing": [{"name": "章程"}],
            "notice_date": "2026-03-04",
        },
    )
    story.on("2026-03-06 10:00", {"type": "documents_supplemented", "documents": ["章程"]})
    evaluation = story.at("2026-03-09")
    assert [(p.first, p.last, p.working_days) for p in evaluation.clock.periods] == [
        (D(2026, 3, 4), D(2026, 3, 6), 2)
    ]
    assert evaluation.clock.promised_deadline == D(2026, 3, 18)  # 16 March + 2


def test_an_extension_recorded_after_the_deadline_moves_nothing_and_is_flagged(
    ledger: CaseLedger,
) -> None:
    story = Story(ledger).received("2026-03-02 09:00")
    story.accepted("2026-03-02 10:00", item="ANY-1", pack="national")
    extension = {
        "type": "extended",
        "working_days": 10,
        "approver": HEAD,
        "reason": "复杂",
        "notice": TOLD,
    }
    story.on("2026-04-02 10:00", extension, CHIEF)
    evaluation = story.at("2026-04-02")
    assert evaluation.clock.statutory_deadline == D(2026, 3, 30)
    assert kinds(evaluation) == ["overtime", "excess_extension"]


def test_a_case_withdrawn_after_its_deadline_was_overtime(ledger: CaseLedger) -> None:
    story = Story(ledger).received("2026-03-02 09:00")
    story.accepted("2026-03-02 10:00", item="ANY-1", pack="national")
    story.on("2026-04-03 10:00", {"type": "application_withdrawn"})
    evaluation = story.at("2026-04-10")
    assert kinds(evaluation) == ["overtime"] and evaluation.findings[0].day == D(2026, 3, 31)


def test_a_late_request_before_acceptance_is_a_missed_notice_whatever_its_mode(
    ledger: CaseLedger,
) -> None:
    story = Story(ledger).received("2026-03-02 09:00")
    story.on(
        "2026-03-12 10:00",
        {
            "type": "documents_requested",
            "mode": "tolerated",
            "missing": [{"name": "章程"}],
            "notice_date": "2026-03-12",
        },
    )
    assert kinds(story.at("2026-03-12")) == ["missed_notice"]


def test_the_board_carries_the_deadline_and_overtime_of_a_deemed_acceptance(
    ledger: CaseLedger,
) -> None:
    Story(ledger).received("2026-03-02 09:00")
    evaluation = Story(ledger).at("2026-04-15")
    assert kinds(evaluation) == ["inaction", "overtime"]
    board = ledger.board(D(2026, 4, 15))
    entry = board.entries[0]
    assert entry.deadline == D(2026, 3, 30) and entry.violations == ["inaction", "overtime"]
    row = ledger.statistics(D(2026, 4, 15))[0]
    assert row.overdue == 1


def test_a_violation_a_pack_lights_yellow_shows_yellow_on_the_board(sqlite_url: str) -> None:
    from caseledger import PackRegistry, RulePack
    from caseledger.rules.model import PackData

    registry = PackRegistry.discover()
    data = PackData.model_validate(
        {
            "pack": {"name": "mild_town", "version": "1", "title": "温和镇", "extends": "national",
                     "catalogue": "open", "reference": "test"},
            "sanctions": {"pause_light": [{
                "from": "2004-07-01", "violation": "pause_without_notice",
                                           "sanction": "light", "light": "yellow",
                                           "label": "黄灯", "reference": "test"}]},
        }
    )  # fmt: skip
    registry = registry.including(RulePack(data, "<test>", registry.get("national")))
    with CaseLedger(sqlite_url, packs=registry, clock=fixed_clock) as city:
        story = Story(city).received("2026-03-02 09:00")
        story.accepted("2026-03-02 10:00", item="ANY-1", pack="mild_town")
        story.on("2026-03-03 10:00", {"type": "clock_suspended", "reason": "hearing"})
        assert story.at("2026-03-04").light is Light.YELLOW
        board = city.board(D(2026, 3, 4))
        assert [(e.case_no, e.light) for e in board.entries] == [("EX-1", Light.YELLOW)]


def test_a_zero_day_limit_triggered_on_a_day_off_ends_on_the_next_working_day() -> None:
    from caseledger.calendar import calendar_for

    calendar = calendar_for()
    assert calendar.add_working_days(D(2026, 3, 7), 0).value == D(2026, 3, 9)  # Saturday
    assert calendar.add_working_days(D(2026, 3, 6), 0).value == D(2026, 3, 6)


def test_an_approved_case_stays_on_the_board_until_its_certificate_is_issued(
    ledger: CaseLedger,
) -> None:
    story = Story(ledger).received("2026-03-02 09:00")
    story.accepted("2026-03-02 10:00", item="ANY-1", pack="national")
    story.on("2026-03-10 10:00", {"type": "approved", "decision_no": "D1"}, CHIEF)
    # due 24 March (10 working days after 10 March): red on the board from the 25th
    assert ledger.board(D(2026, 3, 24)).entries == []
    late = ledger.board(D(2026, 3, 25)).entries
    assert [(e.case_no, e.light, e.violations) for e in late] == [("EX-1", Light.RED, ["overtime"])]
    story.on("2026-03-26 10:00", {"type": "certificate_issued", "certificate_no": "C1"})
    assert ledger.board(D(2026, 3, 27)).entries == []
    assert kinds(story.at("2026-03-27")) == ["overtime"]  # the late certificate stays on record


def test_a_revoked_decision_owes_no_certificate(ledger: CaseLedger) -> None:
    story = Story(ledger).received("2026-03-02 09:00")
    story.accepted("2026-03-02 10:00", item="ANY-1", pack="national")
    story.on("2026-03-10 10:00", {"type": "approved", "decision_no": "D1"}, CHIEF)
    story.on("2026-03-12 10:00", {"type": "decision_altered", "alteration": "revoked",
                                  "requested_by": {"kind": "department", "code": "S"},
                                  "reason": "r"})  # fmt: skip
    assert kinds(story.at("2026-04-30")) == []
    assert ledger.board(D(2026, 4, 30)).entries == []


def test_a_pause_s_notice_is_required_by_the_rule_version_that_paused_the_clock(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The clock reads its rules on the start day; the notice check must read the same."""
    folder = tmp_path / "later_rule"
    folder.mkdir()
    (folder / "pack.toml").write_text(
        '[pack]\nname = "later_rule"\nversion = "1"\ntitle = "测试 (test)"\n'
        'extends = "national"\ncatalogue = "open"\nreference = "a test pack"\n'
        '[[clock."clock_suspended.testing"]]\nfrom = 2026-10-15\noverride = true\n'
        'effect = "none"\nrequires_notice = false\nreference = "a later test rule"\n',
        encoding="utf-8",
    )
    packs = PackRegistry.discover().including(load_pack_folder(folder).pack)
    with CaseLedger(sqlite_url, packs=packs, clock=fixed_clock) as ledger:
        ledger.record(command("QZ-1", 1, RECEIVED, at(12)))
        ledger.record(command("QZ-1", 2, {**ACCEPTED, "rule_pack": "later_rule"}, at(12, 10)))
        ledger.record(command("QZ-1", 3, {"type": "clock_suspended", "reason": "testing"}, at(16)))
        evaluation = ledger.evaluate("QZ-1", dt.datetime(2026, 10, 20, 12, tzinfo=CST))
    assert evaluation.clock.paused  # the national rule in force on 12 October pauses ...
    violations = [f.violation.value for f in evaluation.findings]
    assert violations == ["pause_without_notice"]  # ... and requires the notice


def test_a_restart_stops_the_clock_while_documents_are_outstanding_then_starts_it_again(
    sqlite_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "restart_town"
    folder.mkdir()
    (folder / "pack.toml").write_text(
        '[pack]\nname = "restart_town"\nversion = "1"\ntitle = "测试 (test)"\n'
        'extends = "national"\ncatalogue = "open"\nreference = "a test pack"\n'
        '[[clock."documents_requested.correction"]]\nfrom = 2004-07-01\noverride = true\n'
        'effect = "restart"\nreference = "a test rule: 补正后重新计算期限"\n',
        encoding="utf-8",
    )
    packs = PackRegistry.discover().including(load_pack_folder(folder).pack)
    request = {"type": "documents_requested", "mode": "correction",
               "missing": [{"name": "章程"}], "notice_date": "2026-03-04"}  # fmt: skip
    with CaseLedger(sqlite_url, packs=packs, clock=fixed_clock) as ledger:
        story = Story(ledger).received("2026-03-02 09:00")
        story.accepted("2026-03-02 10:00", item="ANY-1", pack="restart_town")
        story.on("2026-03-04 10:00", request)
        waiting = story.at("2026-04-15")  # the first 20 working days ended on 30 March
        assert waiting.clock.paused and kinds(waiting) == []
        assert waiting.clock.statutory_deadline is not None
        assert waiting.clock.statutory_deadline > D(2026, 4, 15)
        story.on("2026-04-20 10:00", {"type": "documents_supplemented", "documents": ["章程"]})
        restarted = story.at("2026-04-21")
        assert not restarted.clock.paused and restarted.clock.limit_base == D(2026, 4, 20)
        assert restarted.clock.statutory_deadline == D(2026, 5, 20)  # 20 after 20 April
        assert kinds(restarted) == []
