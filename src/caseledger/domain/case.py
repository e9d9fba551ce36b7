"""The ``Case`` aggregate: a case's state, rebuilt from its events, guarding its lifecycle.

``Case.start`` and ``Case.record`` turn a :class:`Command` into the next
:class:`RecordedEvent` or raise a typed error, changing nothing. ``Case.apply`` folds an
event into the state without judging it, so replaying a stream always reproduces the
state that accepted it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from caseledger.domain.events import (
    EVENT_TYPES,
    Accepted,
    CertificateIssued,
    ComplaintFiled,
    ComplaintResolved,
    DecisionAltered,
    DocumentsRequested,
    DocumentsSupplemented,
    Received,
    StageCompleted,
    Transferred,
)
from caseledger.domain.lifecycle import ALLOWED_FROM, allowed_actions, next_status
from caseledger.domain.records import Command, RecordedEvent
from caseledger.domain.stream import EventStream
from caseledger.domain.values import Party
from caseledger.domain.vocabulary import CaseKind, CaseStatus, Channel, Stage
from caseledger.errors import (
    CaseAlreadyExists,
    CaseNotFound,
    IllegalTransition,
    InvalidCommand,
)

__all__ = ["Case"]


_STAGE_ORDER = list(Stage)
_NONE_FILED: frozenset[str] = frozenset()
"""No complaint filed yet (one empty set for every case)."""


def _first_holder(window: str | None, department: str) -> Party:
    """The party holding a case before any transfer: the window that received it, else its
    department (one frozen model for each, shared by the cases they hold)."""
    key = (window, department)
    found = _HOLDERS.get(key)
    if found is None:
        if len(_HOLDERS) >= 4096:
            _HOLDERS.clear()
        kind = "window" if window else "department"
        found = _HOLDERS[key] = Party(kind=kind, code=window or department)
    return found


_HOLDERS: dict[tuple[str | None, str], Party] = {}

_FOLDED = (Received, Accepted, DocumentsRequested, DocumentsSupplemented, Transferred,
           StageCompleted, CertificateIssued, ComplaintFiled, ComplaintResolved)  # fmt: skip
"""The event types whose fold changes more than the status (``Case.apply``)."""
_STATUS_ONLY = frozenset(kind for kind in EVENT_TYPES.values() if not issubclass(kind, _FOLDED))
"""The event types whose fold changes only the status (exactly these types)."""


@dataclass
class Case(EventStream):
    """The state of one case, as its events left it."""

    noun: ClassVar[str] = "case"

    case_no: str
    status: CaseStatus = CaseStatus.RECEIVED
    applicant: str | None = None
    channel: Channel | None = None
    item_code: str | None = None
    case_kind: CaseKind | None = None
    rule_pack: str | None = None
    holder: Party | None = None
    outstanding_documents: tuple[str, ...] = ()
    stages_completed: tuple[Stage, ...] = ()
    certificate_no: str | None = None
    open_complaints: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        super().__post_init__()
        self._filed: frozenset[str] = _NONE_FILED
        """Every complaint ever filed (not a field: what the events say, kept so that a
        check reads no event)."""

    # -- eventsourcing's aggregate protocol ------------------------------------------------
    @property
    def id(self) -> str:
        return self.case_no

    @property
    def stream_id(self) -> str:
        return self.case_no

    @classmethod
    def empty(cls, stream_id: str) -> Case:
        return cls(case_no=stream_id)

    # -- commands ----------------------------------------------------------------------------
    @classmethod
    def check_start(cls, command: Command) -> None:
        """Raise if ``command`` cannot open a case: only 'received' does."""
        if not isinstance(command.event, Received):
            raise CaseNotFound(
                command.case_no,
                hint=f"a case starts with a 'received' event, not {command.event.type!r}",
            )

    def check(self, command: Command) -> None:
        """Raise if the lifecycle refuses ``command`` now; record nothing."""
        if command.case_no != self.case_no:
            raise InvalidCommand(
                [("case_no", f"command is for {command.case_no!r}, not {self.case_no!r}")]
            )
        if isinstance(command.event, Received):
            raise CaseAlreadyExists(self.case_no)
        self._check_transition(command)

    def allowed_actions(self) -> list[str]:
        """Event types the lifecycle allows now, given what is outstanding."""
        unavailable = set()
        if not self.outstanding_documents:
            unavailable.add("documents_supplemented")
        if not self.open_complaints:
            unavailable.add("complaint_resolved")
        if self.certificate_no is not None:
            unavailable.add("certificate_issued")
        if len(self.stages_completed) == len(_STAGE_ORDER):
            unavailable.add("stage_completed")
        return [action for action in allowed_actions(self.status) if action not in unavailable]

    # -- state ---------------------------------------------------------------------------
    def apply(self, event: RecordedEvent) -> None:
        """Fold one recorded event into the state (no judging: it was judged when recorded)."""
        body = event.event
        if type(body) in _STATUS_ONLY:  # most events: only the status changes
            pass
        elif isinstance(body, Received):
            self.applicant, self.channel = body.applicant, body.channel
            self.item_code = body.item_code
        elif isinstance(body, Accepted):
            self.item_code, self.case_kind = body.item_code, body.case_kind
            self.rule_pack = body.rule_pack
        elif isinstance(body, DocumentsRequested):
            new = [d.name for d in body.missing if d.name not in self.outstanding_documents]
            self.outstanding_documents = (*self.outstanding_documents, *new)
        elif isinstance(body, DocumentsSupplemented):
            supplied = set(body.documents)
            self.outstanding_documents = tuple(
                d for d in self.outstanding_documents if d not in supplied
            )
        elif isinstance(body, Transferred):
            self.holder = body.to
        elif isinstance(body, StageCompleted):
            self.stages_completed = (*self.stages_completed, body.stage)
        elif isinstance(body, CertificateIssued):
            self.certificate_no = body.certificate_no
        elif isinstance(body, ComplaintFiled):
            self.open_complaints = self.open_complaints | {body.complaint_id}
            self._filed = self._filed | {body.complaint_id}
        elif isinstance(body, ComplaintResolved):
            self.open_complaints = self.open_complaints - {body.complaint_id}
        self.status = next_status(
            self.status,
            body.type,
            documents_outstanding=bool(self.outstanding_documents),
            alteration=body.alteration.value if isinstance(body, DecisionAltered) else None,
        )
        if self.holder is None:
            actor = event.actor
            self.holder = _first_holder(actor.window, actor.department)
        self._applied(event)

    # -- internals -------------------------------------------------------------------------
    def _refuse(self, command: Command, reason: str = "") -> IllegalTransition:
        return IllegalTransition(
            self.case_no,
            self.status.value,
            command.event.type,
            self.allowed_actions(),
            reason=reason,
        )

    def _check_transition(self, command: Command) -> None:
        body = command.event
        if self.status not in ALLOWED_FROM[body.type]:
            raise self._refuse(command)
        if isinstance(body, DocumentsSupplemented):
            unknown = [d for d in body.documents if d not in self.outstanding_documents]
            if unknown:
                outstanding = ", ".join(self.outstanding_documents) or "none"
                raise self._refuse(
                    command, f"not requested: {', '.join(unknown)}; outstanding: {outstanding}"
                )
        elif isinstance(body, DocumentsRequested):
            names = [d.name for d in body.missing]
            if len(set(names)) != len(names):
                raise InvalidCommand([("event.missing", "a document is listed twice")])
        elif isinstance(body, StageCompleted):
            expected = _STAGE_ORDER[len(self.stages_completed) :]
            if not expected or body.stage is not expected[0]:
                done = ", ".join(s.value for s in self.stages_completed) or "none"
                raise self._refuse(
                    command,
                    f"stage {body.stage.value!r} is out of order; completed so far: {done}",
                )
        elif isinstance(body, CertificateIssued) and self.certificate_no is not None:
            raise self._refuse(command, f"certificate {self.certificate_no!r} already issued")
        elif isinstance(body, ComplaintFiled) and body.complaint_id in self._complaint_ids():
            raise self._refuse(command, f"complaint {body.complaint_id!r} already filed")
        elif isinstance(body, ComplaintResolved) and body.complaint_id not in self.open_complaints:
            open_ids = ", ".join(sorted(self.open_complaints)) or "none"
            raise self._refuse(
                command, f"complaint {body.complaint_id!r} is not open; open: {open_ids}"
            )

    def _complaint_ids(self) -> frozenset[str]:
        return self._filed
