"""The lifecycle of a case: which event may be recorded in which status, and where it leads.

The ledger records what happened, including what the supervision office will flag: a
decision on a case with no acceptance on record (体外循环) is recorded, because it did
happen, and the projections light it red. What the lifecycle refuses is what cannot have
happened: deciding a case twice, resuming a clock that is not suspended, issuing a
certificate for a refused application, anything on a closed case.
"""

from __future__ import annotations

from caseledger.domain.vocabulary import CaseStatus, DecisionAlteration

__all__ = ["ALLOWED_FROM", "OPEN_STATUSES", "TERMINAL_STATUSES", "allowed_actions", "next_status"]

S = CaseStatus

OPEN_STATUSES = frozenset({S.RECEIVED, S.AWAITING_DOCUMENTS, S.ACCEPTED, S.SUSPENDED})
"""Statuses of a case still being handled."""

TERMINAL_STATUSES = frozenset(
    {S.NOT_ACCEPTED, S.WITHDRAWN, S.DECISION_WITHDRAWN, S.DECISION_REVOKED, S.DECISION_CANCELLED}
)
"""Statuses after which only complaints may still be recorded."""

_EVERY_STATUS = frozenset(S)
_BEFORE_ACCEPTANCE = frozenset({S.RECEIVED, S.AWAITING_DOCUMENTS})

ALLOWED_FROM: dict[str, frozenset[CaseStatus]] = {
    "received": frozenset(),  # only ever the first event of a case
    "accepted": _BEFORE_ACCEPTANCE,
    "not_accepted": _BEFORE_ACCEPTANCE,
    "documents_requested": frozenset({S.RECEIVED, S.AWAITING_DOCUMENTS, S.ACCEPTED}),
    "documents_supplemented": frozenset({S.AWAITING_DOCUMENTS, S.ACCEPTED, S.SUSPENDED}),
    "transferred": OPEN_STATUSES,
    "clock_suspended": frozenset({S.ACCEPTED}),
    "clock_resumed": frozenset({S.SUSPENDED}),
    "extended": frozenset({S.ACCEPTED, S.SUSPENDED}),
    "stage_completed": frozenset({S.ACCEPTED, S.APPROVED, S.DENIED}),
    "escalated": OPEN_STATUSES,
    "approved": frozenset({S.RECEIVED, S.ACCEPTED}),
    "denied": frozenset({S.RECEIVED, S.ACCEPTED}),
    "application_withdrawn": OPEN_STATUSES,
    "certificate_issued": frozenset({S.APPROVED}),
    "decision_altered": frozenset({S.APPROVED}),
    "complaint_filed": _EVERY_STATUS,
    "complaint_resolved": _EVERY_STATUS,
    # seed 001 line 20: 事项办结后,评价系统给予评价 (a rating only once the case is finished)
    "service_rated": frozenset({S.APPROVED, S.DENIED, S.NOT_ACCEPTED}),
}
"""For each event type, the statuses in which it may be recorded."""

_ALTERED_TO: dict[str, CaseStatus] = {
    DecisionAlteration.AMENDED.value: S.APPROVED,
    DecisionAlteration.WITHDRAWN.value: S.DECISION_WITHDRAWN,
    DecisionAlteration.REVOKED.value: S.DECISION_REVOKED,
    DecisionAlteration.CANCELLED.value: S.DECISION_CANCELLED,
}

_LEADS_TO: dict[str, CaseStatus] = {
    "received": S.RECEIVED,
    "accepted": S.ACCEPTED,
    "not_accepted": S.NOT_ACCEPTED,
    "clock_suspended": S.SUSPENDED,
    "clock_resumed": S.ACCEPTED,
    "approved": S.APPROVED,
    "denied": S.DENIED,
    "application_withdrawn": S.WITHDRAWN,
}


def allowed_actions(status: CaseStatus) -> list[str]:
    """The event types the lifecycle allows in ``status``."""
    return sorted(name for name, statuses in ALLOWED_FROM.items() if status in statuses)


def next_status(
    status: CaseStatus,
    event_type: str,
    *,
    documents_outstanding: bool,
    alteration: str | None = None,
) -> CaseStatus:
    """The status after an event of ``event_type``; ``documents_outstanding`` is after the
    event too, and ``alteration`` is a ``decision_altered`` event's (its value). The one state
    machine: the ``Case`` aggregate folds events with it, and judging folds facts with it."""
    if event_type in _LEADS_TO:
        return _LEADS_TO[event_type]
    if event_type == "documents_requested" and status in _BEFORE_ACCEPTANCE:
        return S.AWAITING_DOCUMENTS
    if event_type == "documents_supplemented" and status is S.AWAITING_DOCUMENTS:
        return S.AWAITING_DOCUMENTS if documents_outstanding else S.RECEIVED
    if event_type == "decision_altered" and alteration is not None:
        return _ALTERED_TO[alteration]
    return status
