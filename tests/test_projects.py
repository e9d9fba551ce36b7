"""Parallel-approval projects (并联审批): their own streams, lifecycle, clock and light."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseledger import (
    CaseLedger,
    CaseNotFound,
    IllegalTransition,
    InvalidCommand,
    PackRegistry,
    ProjectCommand,
    ProjectNotFound,
    ProjectStatus,
    RecordedEvent,
    UnknownRulePack,
)
from caseledger.domain.chain import GENESIS_HASH
from caseledger.interchange.jsonl import read_commands
from caseledger.judging.facts import fact_from_event
from caseledger.judging.judgement import Light
from caseledger.judging.project import evaluate_project
from caseledger.scenarios.folder import load_pack_folder
from tests.helpers import CST, RECEIVED, command, snapshot

LEAD = {"kind": "department", "code": "市发改委"}
OFFICER = {"person": "F01", "role": "window_a", "department": "市发改委", "window": "W01"}
STAGES = [{"name": f"第{n}阶段"} for n in "一二三四五"]


def project(n: int, event: dict[str, Any], when: dt.datetime, number: str = "XM-1") -> dict:
    return {
        "project_no": number,
        "command_id": f"{number}-{n}",
        "at": when.isoformat(),
        "actor": OFFICER,
        "event": event,
    }


def registered(kind: str = "general", pack: str = "quanzhou") -> dict[str, Any]:
    return {
        "type": "project_registered",
        "title": "某某产业园一期",
        "kind": kind,
        "lead": LEAD,
        "rule_pack": pack,
        "stages": STAGES,
        "series": "房屋建筑及市政基础设施工程",
    }


def day(month: int, d: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, d, hour, tzinfo=CST)


def a_registered_project(ledger: CaseLedger, kind: str = "general") -> None:
    """Registered on Monday 28 September 2026, just before the National Day holiday."""
    ledger.record(project(1, registered(kind), day(9, 28)))


def complete_every_stage(ledger: CaseLedger, when: dt.datetime) -> None:
    for stage in range(1, 6):
        ledger.record(
            project(10 + stage, {"type": "project_stage_completed", "stage": stage}, when)
        )


def test_a_project_is_its_own_stream_apart_from_cases(ledger: CaseLedger) -> None:
    ledger.record(command("XM-1", 1, RECEIVED, day(9, 28, 9).isoformat()))
    a_registered_project(ledger)
    ledger.record(project(2, {"type": "case_linked", "case_no": "XM-1", "stage": 1}, day(9, 29)))
    state = ledger.project("XM-1")
    assert state.status is ProjectStatus.OPEN and state.cases == {"XM-1": 1}
    assert state.lead is not None and state.lead.code == "市发改委" and len(state.stages) == 5
    assert ledger.case("XM-1").version == 1  # the case of the same number is untouched
    assert ledger.case_numbers() == ["XM-1"] and ledger.project_numbers() == ["XM-1"]
    assert ledger.verify().ok and ledger.verify().cases == 2


def test_a_general_project_s_deadline_is_28_working_days_after_registration_across_national_day(
    ledger: CaseLedger,
) -> None:
    a_registered_project(ledger)
    evaluation = ledger.evaluate_project("XM-1", day(10, 20))
    # 1–7 October are off and Saturday 10 October is worked: 28 working days end on 11 Nov
    assert evaluation.limit == 28 and evaluation.deadline == dt.date(2026, 11, 11)
    assert "seed 000 line 22" in evaluation.limit_reference
    assert evaluation.light is Light.GREEN and evaluation.working_days_used == 12
    assert evaluation.working_days_left == 16


def test_a_complex_project_has_37_working_days(ledger: CaseLedger) -> None:
    a_registered_project(ledger, kind="complex")
    assert ledger.evaluate_project("XM-1", day(10, 20)).deadline == dt.date(2026, 11, 24)


def test_an_open_project_turns_red_the_day_after_its_deadline_and_its_lead_is_summoned(
    ledger: CaseLedger,
) -> None:
    a_registered_project(ledger)
    on_the_day = ledger.evaluate_project("XM-1", day(11, 11, 17))
    assert on_the_day.light is Light.GREEN and on_the_day.working_days_left == 0
    late = ledger.evaluate_project("XM-1", day(11, 12))
    assert late.light is Light.RED
    assert [(f.violation.value, f.day, f.department) for f in late.findings] == [
        ("overtime", dt.date(2026, 11, 12), "市发改委")
    ]
    assert [s.sanction.value for s in late.sanctions] == ["summons"]
    assert any("overall deadline 2026-11-11" in line for line in late.explain())


def test_a_project_completed_in_time_stays_green_and_one_completed_late_stays_red(
    ledger: CaseLedger,
) -> None:
    a_registered_project(ledger)
    complete_every_stage(ledger, day(11, 10))
    ledger.record(project(20, {"type": "project_completed"}, day(11, 11)))
    later = ledger.evaluate_project("XM-1", day(12, 1))
    assert later.status is ProjectStatus.COMPLETED and later.light is Light.GREEN
    assert later.working_days_used == 28 and later.working_days_left is None

    ledger.record(project(1, registered(), day(9, 28), number="XM-2"))
    for stage in range(1, 6):
        event = {"type": "project_stage_completed", "stage": stage}
        ledger.record(project(10 + stage, event, day(11, 12), number="XM-2"))
    ledger.record(project(20, {"type": "project_completed"}, day(11, 13), number="XM-2"))
    assert ledger.evaluate_project("XM-2", day(12, 1)).light is Light.RED
    assert [e.project_no for e in ledger.projects(day(12, 1))] == ["XM-2", "XM-1"]


def test_a_pack_without_a_project_limit_gives_no_deadline_and_says_so(
    ledger: CaseLedger,
) -> None:
    ledger.record(project(1, registered(pack="national"), day(9, 28)))
    evaluation = ledger.evaluate_project("XM-1", day(12, 31))
    assert evaluation.deadline is None and evaluation.light is Light.GREEN
    assert "sets no limit named project_general" in evaluation.limit_reference


def test_a_pack_s_yellow_threshold_lights_a_project_near_its_deadline(
    sqlite_url: str, tmp_path: Any
) -> None:
    folder = tmp_path / "amber"
    folder.mkdir()
    (folder / "pack.toml").write_text(
        '[pack]\nname = "amber"\nversion = "1"\ntitle = "测试 (test)"\nextends = "quanzhou"\n'
        'catalogue = "open"\nreference = "a test pack"\n'
        "[[thresholds.yellow]]\nfrom = 2004-07-01\nworking_days_left = 3\n"
        'reference = "a test threshold"\n',
        encoding="utf-8",
    )
    amber = load_pack_folder(folder).pack
    with CaseLedger(sqlite_url, packs=PackRegistry.discover().including(amber)) as ledger:
        ledger.record(project(1, registered(pack="amber"), day(9, 28)))
        assert ledger.evaluate_project("XM-1", day(11, 5)).light is Light.GREEN  # 4 left
        yellow = ledger.evaluate_project("XM-1", day(11, 6))
        assert yellow.light is Light.YELLOW and yellow.working_days_left == 3


def test_the_project_lists_its_stages_and_the_light_of_each_linked_case(
    ledger: CaseLedger,
) -> None:
    ledger.record(command("QZ-9", 1, RECEIVED, day(9, 28, 9).isoformat()))
    a_registered_project(ledger)
    ledger.record(project(2, {"type": "case_linked", "case_no": "QZ-9", "stage": 2}, day(9, 28)))
    ledger.record(project(3, {"type": "project_stage_completed", "stage": 1}, day(10, 9)))
    evaluation = ledger.evaluate_project("XM-1", day(10, 20))
    assert [(s.number, s.completed_on, s.cases) for s in evaluation.stages[:2]] == [
        (1, dt.date(2026, 10, 9), []),
        (2, None, ["QZ-9"]),
    ]
    (linked,) = evaluation.cases
    # received and never reacted to: Art. 32 deems it accepted, and flags the inaction
    assert linked.case_no == "QZ-9" and linked.stage == 2 and linked.light is Light.RED
    data = evaluation.as_dict()
    assert data["cases"][0]["light"] == "red" and data["clock"]["deadline"] == "2026-11-11"


@pytest.mark.parametrize(
    ("events", "problem"),
    [
        ([{"type": "project_completed"}], "stages not completed yet: 1, 2, 3, 4, 5"),
        ([{"type": "project_stage_completed", "stage": 6}], "stage 6 does not exist"),
        (
            [{"type": "project_stage_completed", "stage": 2}] * 2,
            "stage 2 is already completed",
        ),
        ([{"type": "project_withdrawn"}, {"type": "case_linked", "case_no": "C-1", "stage": 1}],
         "the project is"),
        ([registered()], "already registered"),
    ],
)  # fmt: skip
def test_an_impossible_project_event_is_refused_and_changes_nothing(
    ledger: CaseLedger, events: list[dict[str, Any]], problem: str
) -> None:
    ledger.record(command("C-1", 1, RECEIVED, day(9, 28, 9).isoformat()))
    a_registered_project(ledger)
    *before, last = events
    for n, event in enumerate(before, start=2):
        ledger.record(project(n, event, day(10, 12)))
    rows = snapshot(ledger)
    with pytest.raises(IllegalTransition, match=problem):
        ledger.record(project(9, last, day(10, 13)))
    assert snapshot(ledger) == rows


def test_linking_a_case_the_ledger_does_not_have_is_refused(ledger: CaseLedger) -> None:
    a_registered_project(ledger)
    rows = snapshot(ledger)
    with pytest.raises(CaseNotFound, match="record its 'received' event before linking"):
        ledger.record(
            project(2, {"type": "case_linked", "case_no": "NO-1", "stage": 1}, day(10, 9))
        )
    assert snapshot(ledger) == rows


def test_a_project_must_start_registered_under_an_installed_pack(ledger: CaseLedger) -> None:
    with pytest.raises(ProjectNotFound, match="starts with a 'project_registered' event"):
        ledger.record(project(1, {"type": "project_completed"}, day(9, 28)))
    with pytest.raises(UnknownRulePack):
        ledger.record(project(1, registered(pack="atlantis"), day(9, 28)))
    assert snapshot(ledger) == [] and ledger.project_numbers() == []


def test_a_retried_project_command_records_nothing_the_second_time(ledger: CaseLedger) -> None:
    first = ledger.record(project(1, registered(), day(9, 28)))
    again = ledger.record(ProjectCommand.model_validate(project(1, registered(), day(9, 28))))
    assert first.case_no == "#XM-1" and again.already_recorded and again.hash == first.hash


def test_a_batch_may_receive_a_case_and_link_it_to_a_new_project_at_once(
    ledger: CaseLedger,
) -> None:
    result = ledger.record_batch(
        [
            project(1, registered(), day(9, 28)),
            command("QZ-1", 1, RECEIVED, day(9, 28, 11).isoformat()),
            project(2, {"type": "case_linked", "case_no": "QZ-1", "stage": 1}, day(9, 28, 12)),
        ]
    )
    assert result.recorded == 3 and ledger.project("XM-1").cases == {"QZ-1": 1}


def test_projects_stay_off_the_board_of_cases_and_rebuilds_read_them(ledger: CaseLedger) -> None:
    ledger.record(command("QZ-1", 1, RECEIVED, day(9, 28, 9).isoformat()))
    a_registered_project(ledger)
    assert ledger.catch_up() == 2
    assert [row["case_no"] for row in ledger.read_models.rows()] == ["QZ-1"]
    assert ledger.rebuild_read_models() == 2
    assert [row["case_no"] for row in ledger.read_models.rows()] == ["QZ-1"]


def test_a_project_as_of_a_moment_before_its_registration_is_not_found(
    ledger: CaseLedger,
) -> None:
    a_registered_project(ledger)
    with pytest.raises(ProjectNotFound, match="registered after"):
        ledger.evaluate_project("XM-1", day(9, 27))
    with pytest.raises(InvalidCommand):
        ledger.project("XM-1", as_of=dt.datetime(2026, 10, 1))  # naive


def test_a_project_line_of_a_json_lines_file_is_a_project_command() -> None:
    line = project(1, registered(), day(9, 28))
    import orjson

    (parsed,) = read_commands([orjson.dumps(line)], source="test")
    assert isinstance(parsed.command, ProjectCommand)
    assert parsed.command.stream_id == "#XM-1"


QUANZHOU = PackRegistry.discover()


@given(
    registered_on=st.dates(dt.date(2016, 1, 1), dt.date(2026, 10, 31)),
    kind=st.sampled_from(["general", "complex"]),
    days_later=st.integers(0, 90),
)
def test_a_project_deadline_is_its_limit_in_working_days_and_it_is_red_only_after_it(
    registered_on: dt.date, kind: str, days_later: int
) -> None:
    moment = dt.datetime.combine(registered_on, dt.time(10), tzinfo=CST)
    event = RecordedEvent.chain(
        ProjectCommand.model_validate(project(1, registered(kind), moment)),
        version=1, prev_hash=GENESIS_HASH, recorded_at=moment,
    )  # fmt: skip
    as_of = moment + dt.timedelta(days=days_later)
    evaluation = evaluate_project("XM-1", [fact_from_event(event)], {}, QUANZHOU, as_of)
    calendar = QUANZHOU.get("quanzhou").calendar
    assert evaluation.deadline is not None and calendar.is_working_day(evaluation.deadline)
    limit = {"general": 28, "complex": 37}[kind]
    assert calendar.count_working_days(registered_on, evaluation.deadline).value == limit
    assert (evaluation.light is Light.RED) == (as_of.date() > evaluation.deadline)
