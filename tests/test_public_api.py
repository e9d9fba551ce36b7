"""The public API is pinned: changing it is a decision, not an accident."""

from __future__ import annotations

import caseledger

PUBLIC = [
    "EVENT_TYPES", "PROJECT_EVENT_TYPES", "Accepted", "Actor", "ApplicationWithdrawn", "Approved",
    "BatchItemError", "BatchRejected", "BatchResult", "CalendarRangeError", "Case",
    "CaseAlreadyExists", "CaseHead", "CaseKind", "CaseLedger", "CaseLedgerError", "CaseLinked",
    "CaseNotFound", "CaseStatus", "CertificateIssued", "ChainBreak", "Channel", "ClockResumed",
    "ClockSuspended", "Command", "CommandIdReused", "ComplaintFiled", "ComplaintOutcome",
    "ComplaintResolved", "ConcurrencyConflict", "DecisionAlteration", "DecisionAltered", "Denied",
    "DocumentRequestMode", "DocumentsRequested", "DocumentsSupplemented", "Escalated",
    "EscalationTarget", "EventBody", "Extended", "IllegalTransition", "InvalidCommand",
    "LedgerNotFound", "LedgerURLError", "MissingDocument", "NotAccepted", "PackError",
    "PackParameterMissing",
    "PackProblem", "PackRegistry", "PackSource", "Party", "PartyKind", "Project", "ProjectCommand",
    "ProjectCompleted", "ProjectKind", "ProjectNotFound", "ProjectRegistered", "ProjectStage",
    "ProjectStageCompleted", "ProjectStatus", "ProjectWithdrawn", "RatingSource", "Received",
    "RecordResult", "RecordedEvent", "RulePack", "Satisfaction", "Seal", "SealError",
    "ServiceRated", "Stage", "StageCompleted", "StoreError", "SuspensionReason", "Transferred",
    "UnknownItem", "UnknownRulePack", "VerificationReport", "WorkingCalendar", "WrittenNotice",
    "__version__", "hookimpl", "load_seal",
]  # fmt: skip


def test_the_public_api_is_exactly_the_pinned_list() -> None:
    assert caseledger.__all__ == PUBLIC


def test_every_public_name_exists_and_is_documented() -> None:
    for name in caseledger.__all__:
        member = getattr(caseledger, name)
        if isinstance(member, type):
            assert member.__doc__, f"{name} has no docstring"


def test_every_exception_caseledger_raises_derives_from_the_one_root() -> None:
    from caseledger import errors

    records = {"BatchItemError", "PackProblem"}
    exceptions = [getattr(errors, n) for n in errors.__all__ if n not in records]
    assert len(exceptions) == 18
    for error in exceptions:
        assert issubclass(error, caseledger.CaseLedgerError)
        assert getattr(caseledger, error.__name__) is error
    assert issubclass(caseledger.InvalidCommand, ValueError)
    assert issubclass(caseledger.CaseNotFound, LookupError)


def test_every_vocabulary_member_carries_its_chinese_term() -> None:
    enums = [caseledger.CaseKind, caseledger.CaseStatus, caseledger.SuspensionReason,
             caseledger.DecisionAlteration, caseledger.Stage]  # fmt: skip
    for enum in enums:
        for member in enum:
            assert member.zh and any("\u4e00" <= ch <= "\u9fff" for ch in member.zh)
            assert member.label == f"{member.zh} ({member.value})"
    for event_type, body in caseledger.EVENT_TYPES.items():
        assert body.zh, f"{event_type} has no Chinese label"
