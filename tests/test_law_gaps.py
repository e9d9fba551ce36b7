"""The Administrative Licensing Law where its words decide a case: an Art. 45 pause begun on
the deadline day, an Art. 42 extension without its notice, the Art. 74 sanctions of the act
that was done, Art. 72 renumbered in 2019, the Art. 32 period for complete materials; and
the city packs' dates and readings that rest on their seeds (wuhou, haiyang)."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

import pytest

from caseledger import CaseLedger, PackRegistry
from caseledger.domain.values import Actor
from caseledger.errors import PackError
from caseledger.judging.judgement import Light
from caseledger.rules import Violation
from caseledger.rules.model import Decision, SanctionRule
from tests.conftest import fixed_clock
from tests.test_projections import CHIEF, HEAD, WINDOW, Story, kinds

D = dt.date
NOTICE = {"number": "告知〔2026〕1号", "date": "2026-03-30"}


@pytest.fixture
def ledger(sqlite_url: str) -> Any:
    with CaseLedger(sqlite_url, clock=fixed_clock) as opened:
        yield opened


def national_case(ledger: CaseLedger, case_no: str = "LAW-1") -> Story:
    """Received and accepted on Monday 2 March 2026 under the national pack: due 30 March."""
    story = Story(ledger, case_no).received("2026-03-02 09:00")
    return story.accepted("2026-03-02 10:00", item="ANY-1", pack="national")


def suspend(story: Story, when: str, notice: dict[str, Any] | None = NOTICE) -> Story:
    event: dict[str, Any] = {"type": "clock_suspended", "reason": "expert_review"}
    if notice is not None:
        event["notice"] = notice
    return story.on(when, event)


# -- Art. 45 ---------------------------------------------------------------------------------


def test_a_suspension_begun_on_the_deadline_day_moves_the_deadline_and_keeps_the_case_green(
    ledger: CaseLedger,
) -> None:
    story = suspend(national_case(ledger), "2026-03-30 16:00")
    for day, deadline in (("2026-03-31", D(2026, 3, 31)), ("2026-04-03", D(2026, 4, 3))):
        during = story.at(day, 17)
        assert during.clock.paused and during.clock.statutory_deadline == deadline
        assert during.light is Light.GREEN and during.findings == []
    story.on("2026-04-08 11:00", {"type": "clock_resumed"})
    after = story.at("2026-04-08", 17)
    # 31 March, 1, 2, 3, 7 and 8 April are left out (4 to 6 April are the Qingming days off)
    assert [p.working_days for p in after.clock.periods] == [6]
    assert after.clock.statutory_deadline == D(2026, 4, 8) and after.light is Light.GREEN
    assert kinds(story.at("2026-04-09", 9)) == ["overtime"]


def test_a_suspension_begun_the_day_after_the_deadline_rescues_nothing(ledger: CaseLedger) -> None:
    story = suspend(national_case(ledger), "2026-03-31 09:00", {**NOTICE, "date": "2026-03-31"})
    late = story.at("2026-04-02", 17)
    assert late.clock.statutory_deadline == D(2026, 3, 30)
    assert late.light is Light.RED and kinds(late) == ["overtime"]
    assert late.clock.working_days_left == -3
    # its days are not taken off the days used: the limit had run out before it began
    assert late.clock.working_days_used == 23
    assert any(step.what == "late pause" for step in late.clock.steps)


def test_a_suspension_the_day_before_the_deadline_still_moves_it_by_its_working_days(
    ledger: CaseLedger,
) -> None:
    story = suspend(national_case(ledger), "2026-03-27 16:00", {**NOTICE, "date": "2026-03-27"})
    story.on("2026-03-31 10:00", {"type": "clock_resumed"})
    evaluation = story.at("2026-03-31", 17)
    assert [p.working_days for p in evaluation.clock.periods] == [2]  # 30 and 31 March
    assert evaluation.clock.statutory_deadline == D(2026, 4, 1)


# -- Art. 42 ---------------------------------------------------------------------------------


def extend(story: Story, notice: bool, approver: dict[str, Any] = HEAD) -> Story:
    event: dict[str, Any] = {
        "type": "extended", "working_days": 10, "approver": approver, "reason": "需要现场核查",
    }  # fmt: skip
    if notice:
        event["notice"] = {"number": "延期告知〔2026〕1号", "date": "2026-03-20"}
    return story.on("2026-03-20 10:00", event, CHIEF)


def test_an_extension_without_the_notice_of_its_reasons_is_a_violation_found_on_its_day(
    ledger: CaseLedger,
) -> None:
    evaluation = extend(national_case(ledger), notice=False).at("2026-03-20", 17)
    assert kinds(evaluation) == ["extension_without_notice"] and evaluation.light is Light.RED
    finding = evaluation.findings[0]
    assert finding.day == D(2026, 3, 20) and finding.act == "extended"
    assert finding.department == CHIEF["department"]
    assert "第四十二条" in finding.reference and "理由告知申请人" in finding.reference
    assert finding.label == "延长期限未告知理由 (extension_without_notice)"
    assert [s.rule for s in evaluation.sanctions] == ["extension_without_notice_rectification"]
    assert "第七十二条第（三）项" in evaluation.sanctions[0].reference
    # the extension still moves the deadline: the lapse is of notice, not of power
    assert evaluation.clock.statutory_deadline == D(2026, 4, 14)


def test_an_extension_with_its_notice_is_lawful(ledger: CaseLedger) -> None:
    evaluation = extend(national_case(ledger), notice=True).at("2026-03-20", 17)
    assert evaluation.findings == [] and evaluation.light is Light.GREEN


def test_an_extension_limit_that_does_not_require_the_notice_finds_no_violation(
    tmp_path: Path, sqlite_url: str
) -> None:
    """The requirement is the pack's data (limits.extension.requires_notice), not code."""
    folder = tmp_path / "lax"
    folder.mkdir()
    (folder / "pack.toml").write_text(
        textwrap.dedent("""
        [pack]
        name = "lax"
        version = "1.0"
        title = "无告知要求 (a pack whose extension needs no notice)"
        catalogue = "open"
        reference = "a test pack"
        [[limits.decision]]
        from = 2004-07-01
        working_days = 20
        label = "期限"
        reference = "a test rule"
        [[limits.extension]]
        from = 2004-07-01
        working_days = 10
        label = "延长"
        reference = "a test rule"
        [[case_kinds.promised]]
        from = 2004-07-01
        limit = "decision"
        extension = "extension"
        reference = "a test rule"
        [[scopes.anyone]]
        from = 2004-07-01
        holder = { department = "*", roles = ["*"] }
        decisions = ["accept", "decide", "extend"]
        reference = "a test rule"
        """),
        encoding="utf-8",
    )
    packs = PackRegistry.discover([tmp_path])
    with CaseLedger(sqlite_url, packs=packs, clock=fixed_clock) as lax:
        story = Story(lax).received("2026-03-02 09:00")
        story.accepted("2026-03-02 10:00", item="ANY-1", pack="lax")
        assert extend(story, notice=False).at("2026-03-20", 17).findings == []


# -- Art. 74 and Art. 72 ---------------------------------------------------------------------


def test_an_approval_out_of_the_statutory_limit_carries_the_sanctions_of_art_74_item_2(
    ledger: CaseLedger,
) -> None:
    story = national_case(ledger)
    story.on("2026-03-31 10:00", {"type": "approved", "decision_no": "许1"}, HEAD)
    evaluation = story.at("2026-03-31", 17)
    (finding,) = evaluation.findings
    assert (finding.violation, finding.act, finding.limit) == (
        Violation.OVERTIME, "approved", "statutory",
    )  # fmt: skip
    assert sorted(s.rule for s in evaluation.sanctions) == [
        "overtime_accountability", "overtime_rectification",
    ]  # fmt: skip
    assert all("第七十四条第（二）项" in s.reference for s in evaluation.sanctions)


def test_a_late_denial_and_a_case_still_open_are_overtime_without_the_art_74_sanction(
    ledger: CaseLedger,
) -> None:
    denied = national_case(ledger, "LAW-D")
    denied.on(
        "2026-03-31 10:00", {"type": "denied", "decision_no": "不许1", "reason": "不符"}, HEAD
    )
    open_case = national_case(ledger, "LAW-O")
    for story, act in ((denied, "denied"), (open_case, None)):
        evaluation = story.at("2026-03-31", 17)
        assert kinds(evaluation) == ["overtime"] and evaluation.findings[0].act == act
        assert evaluation.sanctions == [] and evaluation.light is Light.RED


def test_an_approval_after_the_promise_but_within_the_law_misses_only_the_promise(
    ledger: CaseLedger,
) -> None:
    """The example district promises 10 working days: due 16 March, statutory 30 March."""
    story = Story(ledger).received("2026-03-02 09:00").accepted("2026-03-02 10:00")
    story.on("2026-03-17 10:00", {"type": "approved", "decision_no": "许2"}, CHIEF)
    (finding,) = story.at("2026-03-17", 17).findings
    assert (finding.violation, finding.limit) == (Violation.OVERTIME, "promised")
    rules = [s.rule for s in story.at("2026-03-17", 17).sanctions]
    assert "overtime_rectification" not in rules and "overtime_accountability" not in rules


def test_an_ultra_vires_act_is_cited_by_what_it_is(ledger: CaseLedger) -> None:
    story = extend(national_case(ledger), notice=True, approver=WINDOW)
    (finding,) = story.at("2026-03-20", 17).findings
    assert finding.violation is Violation.ULTRA_VIRES and finding.act == "extended"
    assert finding.detail.startswith("延长期限 (extended)")
    assert "第四十二条第一款" in finding.reference
    # Art. 74 item 1 names the ultra-vires approval: an extension has no national sanction
    assert story.at("2026-03-20", 17).sanctions == []


def test_the_national_sanctions_of_art_74_name_the_act_and_the_limit_they_cover() -> None:
    national = PackRegistry.discover().get("national")
    on = D(2026, 3, 2)
    by_key = {r.key: r.rule for v in Violation for r in national.sanction_rules(v, on)}
    assert by_key["ultra_vires_rectification"].acts == ["approved"]
    assert by_key["ultra_vires_accountability"].acts == ["approved"]
    assert (by_key["overtime_accountability"].acts, by_key["overtime_accountability"].limits) == (
        ["approved"], ["statutory"],
    )  # fmt: skip
    assert by_key["overtime_rectification"].covers("approved", "statutory")
    assert not by_key["overtime_rectification"].covers("approved", "promised")
    assert not by_key["overtime_rectification"].covers("denied", "statutory")


def test_a_refusal_without_reasons_cites_art_72_item_5_before_2019_and_item_7_after() -> None:
    national = PackRegistry.discover().get("national")
    (before,) = national.sanction_rules(Violation.NO_REASON_GIVEN, D(2019, 4, 22))
    (after,) = national.sanction_rules(Violation.NO_REASON_GIVEN, D(2019, 4, 23))
    assert "第七十二条第（五）项" in before.reference
    assert "第七十二条第（七）项" in after.reference


def test_a_limit_on_the_deadlines_missed_is_refused_on_a_violation_other_than_overtime() -> None:
    with pytest.raises(ValueError, match="overtime only"):
        SanctionRule.model_validate(
            {"from": "2004-07-01", "reference": "a test rule", "violation": "ultra_vires",
             "sanction": "accountability", "label": "问责", "limits": ["statutory"]}
        )  # fmt: skip


def test_two_rules_giving_one_sanction_clash_only_where_their_acts_meet(tmp_path: Path) -> None:
    folder = tmp_path / "twice"
    folder.mkdir()
    rule = """
        [[sanctions.{key}]]
        from = 2004-07-01
        violation = "ultra_vires"
        sanction = "summons"
        acts = [{acts}]
        label = "约谈"
        reference = "a test rule"
        """
    header = """
        [pack]
        name = "twice"
        version = "1.0"
        title = "两条约谈 (two summons)"
        extends = "national"
        reference = "a test pack"
        """
    disjoint = rule.format(key="a", acts='"accepted"') + rule.format(key="b", acts='"approved"')
    (folder / "pack.toml").write_text(textwrap.dedent(header + disjoint), encoding="utf-8")
    assert PackRegistry.discover([tmp_path]).get("twice", judging=False)
    meeting = rule.format(key="a", acts='"accepted"') + rule.format(key="b", acts="")
    (folder / "pack.toml").write_text(textwrap.dedent(header + meeting), encoding="utf-8")
    with pytest.raises(PackError, match="same sanction for the same violation"):
        PackRegistry.discover([tmp_path]).get("twice", judging=False)


# -- Art. 32 ---------------------------------------------------------------------------------


def test_complete_materials_accepted_on_working_day_6_count_as_accepted_on_receipt(
    ledger: CaseLedger,
) -> None:
    late = Story(ledger, "LAW-6").received("2026-03-02 09:00")
    late.accepted("2026-03-10 10:00", item="ANY-1", pack="national")
    evaluation = late.at("2026-03-10", 17)
    assert evaluation.clock.deemed_accepted and evaluation.clock.started_on == D(2026, 3, 2)
    assert evaluation.clock.statutory_deadline == D(2026, 3, 30)
    assert kinds(evaluation) == ["inaction"] and evaluation.findings[0].day == D(2026, 3, 10)
    in_time = Story(ledger, "LAW-5").received("2026-03-02 09:00")
    in_time.accepted("2026-03-09 10:00", item="ANY-1", pack="national")
    evaluation = in_time.at("2026-03-09", 17)
    assert not evaluation.clock.deemed_accepted and evaluation.findings == []
    assert evaluation.clock.statutory_deadline == D(2026, 4, 7)


# -- wuhou and haiyang ------------------------------------------------------------------------


def test_wuhou_s_rules_apply_from_2008_the_year_its_seed_dates_the_reform() -> None:
    wuhou = PackRegistry.discover().get("wuhou")
    for violation in (Violation.ULTRA_VIRES, Violation.OVERTIME):
        before = {r.key: r.pack for r in wuhou.sanction_rules(violation, D(2007, 12, 31))}
        after = {r.key: r.pack for r in wuhou.sanction_rules(violation, D(2008, 1, 1))}
        key = f"{violation.value}_accountability"
        assert (before[key], after[key]) == ("national", "wuhou")
    assert "2008年以來" in (wuhou.data.pack.description or "") + Path(wuhou.file).read_text("utf-8")


def test_haiyang_s_unified_window_accepts_and_only_there() -> None:
    haiyang = PackRegistry.discover().get("haiyang")
    registrar = {"person": "D1", "role": "registrar", "department": "海阳市行政服务局"}
    at_window = Actor(**registrar, window="统一受理登记窗口")
    elsewhere = Actor(**registrar, window="W11")
    scope = haiyang.authorising_scope(at_window, Decision.ACCEPT, "ANY-1", None, D(2026, 3, 2))
    assert scope is not None and scope.key == "unified_window_accepts"
    assert (
        haiyang.authorising_scope(elsewhere, Decision.ACCEPT, "ANY-1", None, D(2026, 3, 2)) is None
    )


def test_haiyang_s_double_key_limit_keeps_at_most_30_percent_of_the_baseline_it_names() -> None:
    haiyang = PackRegistry.discover().get("haiyang")
    on = D(2026, 3, 2)
    double_key, baseline = (
        haiyang.limit("project_double_key", on),
        haiyang.limit("project_general", on),
    )
    assert double_key is not None and baseline is not None
    assert double_key.rule.working_days <= 0.3 * baseline.rule.working_days
    assert double_key.rule.working_days + 1 > 0.3 * baseline.rule.working_days  # the largest
    # the pack says the baseline is its own assumption, not the seed's
    assert "not the seed's" in (double_key.rule.note or "")
    assert "45" in (double_key.rule.note or "") and "第四十二条" in double_key.reference
