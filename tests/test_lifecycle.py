"""The case lifecycle: what may be recorded when, and typed refusals that change nothing."""

from __future__ import annotations

import pytest

from caseledger import (
    CaseAlreadyExists,
    CaseLedger,
    CaseNotFound,
    CaseStatus,
    IllegalTransition,
    InvalidCommand,
)
from tests.helpers import (
    ACCEPTED,
    APPROVED,
    CHIEF,
    HEAD,
    RECEIVED,
    accepted_case,
    at,
    command,
    snapshot,
)

SUSPEND = {
    "type": "clock_suspended",
    "reason": "expert_review",
    "notice": {"number": "告知1号", "date": "2026-10-13", "expected_working_days": 5},
}


def test_a_full_promised_case_runs_from_receipt_to_certificate(ledger: CaseLedger) -> None:
    accepted_case(ledger)
    steps = [
        {"type": "stage_completed", "stage": "acceptance"},
        {
            "type": "transferred",
            "to": {"kind": "department", "code": "审批科"},
            "reason": "转审查",
        },
        SUSPEND,
        {"type": "clock_resumed"},
        {
            "type": "extended",
            "working_days": 10,
            "approver": HEAD,
            "reason": "情况复杂",
        },
        {"type": "stage_completed", "stage": "review"},
        APPROVED,
        {"type": "stage_completed", "stage": "decision"},
        {"type": "certificate_issued", "certificate_no": "证1号", "delivered_on": "2026-10-30"},
    ]
    for n, event in enumerate(steps, start=3):
        ledger.record(command("QZ-1", n, event, at(13 + n)))
    case = ledger.case("QZ-1")
    assert case.status is CaseStatus.APPROVED
    assert case.version == 11
    assert case.certificate_no == "证1号"
    assert case.holder is not None and case.holder.code == "审批科"
    assert [s.value for s in case.stages_completed] == ["acceptance", "review", "decision"]


def test_missing_documents_hold_a_case_until_every_one_is_supplied(ledger: CaseLedger) -> None:
    ledger.record(command("QZ-2", 1, RECEIVED, at(12)))
    request = {
        "type": "documents_requested",
        "mode": "correction",
        "missing": [{"name": "身份证明"}, {"name": "平面图"}],
        "notice_date": "2026-10-12",
    }
    ledger.record(command("QZ-2", 2, request, at(12, 10)))
    assert ledger.case("QZ-2").status is CaseStatus.AWAITING_DOCUMENTS
    ledger.record(
        command("QZ-2", 3, {"type": "documents_supplemented", "documents": ["平面图"]}, at(13))
    )
    assert ledger.case("QZ-2").outstanding_documents == ("身份证明",)
    assert ledger.case("QZ-2").status is CaseStatus.AWAITING_DOCUMENTS
    ledger.record(
        command("QZ-2", 4, {"type": "documents_supplemented", "documents": ["身份证明"]}, at(14))
    )
    assert ledger.case("QZ-2").status is CaseStatus.RECEIVED
    ledger.record(command("QZ-2", 5, ACCEPTED, at(14, 10)))
    assert ledger.case("QZ-2").status is CaseStatus.ACCEPTED


def test_a_decision_with_no_acceptance_is_recorded_for_supervision_to_flag(
    ledger: CaseLedger,
) -> None:
    ledger.record(command("QZ-3", 1, RECEIVED, at(12)))
    ledger.record(command("QZ-3", 2, APPROVED, at(12, 11), CHIEF))
    assert ledger.case("QZ-3").status is CaseStatus.APPROVED


def test_a_supervising_departments_revocation_closes_an_approved_case(ledger: CaseLedger) -> None:
    accepted_case(ledger)
    ledger.record(command("QZ-1", 3, APPROVED, at(14), CHIEF))
    revoke = {
        "type": "decision_altered",
        "alteration": "revoked",
        "requested_by": {"kind": "department", "code": "执法支队"},
        "reason": "以欺骗手段取得许可",
    }
    ledger.record(command("QZ-1", 4, revoke, at(20)))
    assert ledger.case("QZ-1").status is CaseStatus.DECISION_REVOKED
    with pytest.raises(IllegalTransition):
        ledger.record(command("QZ-1", 5, revoke, at(21)))


def test_an_illegal_transition_names_case_state_action_and_what_is_allowed(
    ledger: CaseLedger,
) -> None:
    accepted_case(ledger)
    before = snapshot(ledger)
    with pytest.raises(IllegalTransition) as caught:
        ledger.record(command("QZ-1", 3, {"type": "clock_resumed"}, at(13)))
    error = caught.value
    assert (error.case_no, error.state, error.action) == ("QZ-1", "accepted", "clock_resumed")
    assert "clock_suspended" in error.allowed and "approved" in error.allowed
    assert "clock_resumed" not in error.allowed
    assert "QZ-1" in str(error) and "accepted" in str(error) and "clock_suspended" in str(error)
    assert snapshot(ledger) == before


@pytest.mark.parametrize(
    ("setup", "event", "reason_part"),
    [
        ([APPROVED], APPROVED, ""),
        (
            [APPROVED],
            {"type": "accepted", **{k: v for k, v in ACCEPTED.items() if k != "type"}},
            "",
        ),
        ([], {"type": "certificate_issued", "certificate_no": "x"}, ""),
        ([SUSPEND], APPROVED, ""),
        ([], {"type": "documents_supplemented", "documents": ["平面图"]}, "not requested"),
        ([], {"type": "stage_completed", "stage": "review"}, "out of order"),
        ([], {"type": "complaint_resolved", "complaint_id": "T1", "outcome": "upheld"}, "not open"),
        (
            [{"type": "application_withdrawn"}],
            {"type": "escalated", "to": "supervision_office", "reason": "x"},
            "",
        ),
    ],
    ids=[
        "deciding twice",
        "accepting a decided case",
        "a certificate before approval",
        "deciding while the clock is suspended",
        "supplementing a document never requested",
        "completing review before acceptance",
        "resolving a complaint never filed",
        "escalating a withdrawn case",
    ],
)
def test_impossible_events_are_refused_and_leave_the_ledger_unchanged(
    ledger: CaseLedger, setup: list[dict[str, object]], event: dict[str, object], reason_part: str
) -> None:
    accepted_case(ledger)
    for n, step in enumerate(setup, start=3):
        ledger.record(command("QZ-1", n, step, at(13)))
    before = snapshot(ledger)
    with pytest.raises(IllegalTransition) as caught:
        ledger.record(command("QZ-1", 99, event, at(20)))
    assert reason_part in str(caught.value)
    assert snapshot(ledger) == before


def test_a_case_must_start_with_receipt(ledger: CaseLedger) -> None:
    with pytest.raises(CaseNotFound, match="starts with a 'received' event"):
        ledger.record(command("QZ-9", 1, ACCEPTED, at(12)))
    assert snapshot(ledger) == []


def test_receiving_a_case_number_twice_is_refused(ledger: CaseLedger) -> None:
    ledger.record(command("QZ-1", 1, RECEIVED, at(12)))
    with pytest.raises(CaseAlreadyExists, match="already received"):
        ledger.record(command("QZ-1", 2, RECEIVED, at(12)))


def test_events_must_be_recorded_in_the_order_they_happened(ledger: CaseLedger) -> None:
    accepted_case(ledger)
    before = snapshot(ledger)
    with pytest.raises(InvalidCommand, match="earlier than the case's last event"):
        ledger.record(command("QZ-1", 3, APPROVED, at(11)))
    assert snapshot(ledger) == before


def test_an_event_in_the_future_is_refused(ledger: CaseLedger) -> None:
    with pytest.raises(InvalidCommand, match="in the future"):
        ledger.record(command("QZ-1", 1, RECEIVED, at(1, month=12)))
    assert snapshot(ledger) == []


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c.pop("actor"), "actor"),
        (lambda c: c.update(at="2026-10-12T09:00:00"), "at"),
        (lambda c: c.update(case_no="bad case no!"), "case_no"),
        (lambda c: c["event"].update(type="teleported"), "event"),
        (lambda c: c["event"].pop("item_code"), "event.accepted.item_code"),
        (lambda c: c["event"].update(case_kind="urgent"), "event.accepted.case_kind"),
        (lambda c: c["event"].update(colour="red"), "event.accepted.colour"),
    ],
    ids=[
        "no actor",
        "a naive time",
        "a malformed case number",
        "an unknown event type",
        "a missing item code",
        "an unknown case kind",
        "an unknown field",
    ],
)
def test_a_malformed_command_gets_a_typed_error_naming_the_field(
    ledger: CaseLedger, mutate: object, field: str
) -> None:
    accepted_case(ledger, "QZ-1")
    bad = command("QZ-1", 3, dict(ACCEPTED), at(13))
    bad["event"] = dict(bad["event"])
    mutate(bad)  # type: ignore[operator]
    before = snapshot(ledger)
    with pytest.raises(InvalidCommand) as caught:
        ledger.record(bad)
    assert field in [path for path, _ in caught.value.problems]
    assert snapshot(ledger) == before


def test_state_as_of_a_past_moment_replays_only_what_had_happened(ledger: CaseLedger) -> None:
    accepted_case(ledger)
    ledger.record(command("QZ-1", 3, SUSPEND, at(13)))
    ledger.record(command("QZ-1", 4, {"type": "clock_resumed"}, at(20)))
    import datetime as dt

    moment = dt.datetime.fromisoformat(at(15))
    assert ledger.case("QZ-1", as_of=moment).status is CaseStatus.SUSPENDED
    assert ledger.case("QZ-1").status is CaseStatus.ACCEPTED
    with pytest.raises(CaseNotFound, match="received after"):
        ledger.case("QZ-1", as_of=dt.datetime.fromisoformat(at(1)))


def test_an_offset_with_seconds_is_refused_so_every_stored_time_reads_back(
    ledger: CaseLedger,
) -> None:
    import datetime as dt

    odd = dt.timezone(dt.timedelta(hours=8, seconds=17))
    moment = dt.datetime(2026, 10, 12, 9, tzinfo=odd)
    with pytest.raises(InvalidCommand, match="whole minutes"):
        ledger.record(command("QZ-1", 1, RECEIVED, moment))  # type: ignore[arg-type]
    with pytest.raises(InvalidCommand, match="at"):
        ledger.record(command("QZ-1", 1, RECEIVED, "2026-10-12T09:00:00+08:00:17"))
    assert snapshot(ledger) == []


def test_times_are_ordered_as_instants_even_across_a_daylight_saving_fold(
    ledger: CaseLedger,
) -> None:
    """01:50 EDT is 20 minutes before 01:10 EST although its wall clock reads later."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from caseledger import BatchRejected, Command

    new_york = ZoneInfo("America/New_York")
    first = dt.datetime(2026, 11, 1, 1, 10, tzinfo=new_york, fold=1)
    earlier = dt.datetime(2026, 11, 1, 1, 50, tzinfo=new_york, fold=0)
    batch = [
        Command.model_validate(command("NY-1", 1, RECEIVED, first)),  # type: ignore[arg-type]
        Command.model_validate(command("NY-1", 2, ACCEPTED, earlier)),  # type: ignore[arg-type]
    ]
    with pytest.raises(BatchRejected, match="earlier than the case's last event"):
        ledger.record_batch(batch)
    assert snapshot(ledger) == []


def test_a_year_outside_1950_to_2100_is_refused_with_a_typed_error(ledger: CaseLedger) -> None:
    for when in ("0026-10-12T09:00:00+08:00", "9999-12-31T23:00:00-05:00"):
        with pytest.raises(InvalidCommand, match=r"outside 1950\.\.2100"):
            ledger.record(command("QZ-1", 1, RECEIVED, when))
    assert snapshot(ledger) == []
