"""What can happen to a case, or to a parallel-approval project: one frozen model per event
type, named in the past tense.

Each body class fixes its ``type`` (also its stored topic, a fixed name that never changes
with module paths) and its ``class_version``. When a body's fields change, raise its
``class_version`` and add a static ``upcast_vN_vN+1(state: dict) -> None`` that rewrites
a stored state of the old version in place, as eventsourcing does.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Field

from caseledger.domain.values import (
    Actor,
    CaseNo,
    CommandId,
    ContentHash,
    Frozen,
    ItemCode,
    MissingDocument,
    Name,
    PackVersionText,
    Party,
    ProjectStage,
    Slug,
    Text,
    WrittenNotice,
)
from caseledger.domain.vocabulary import (
    CaseKind,
    Channel,
    ComplaintOutcome,
    DecisionAlteration,
    DocumentRequestMode,
    EscalationTarget,
    ProjectKind,
    RatingSource,
    Satisfaction,
    Stage,
    SuspensionReason,
)

__all__ = [
    "EVENT_TYPES",
    "PACK_EVENT_TYPES",
    "PROJECT_EVENT_TYPES",
    "STORED_EVENT_TYPES",
    "Accepted",
    "AnyEvent",
    "AnyProjectEvent",
    "AnyStoredEvent",
    "ApplicationWithdrawn",
    "Approved",
    "CaseLinked",
    "CertificateIssued",
    "ClockResumed",
    "ClockSuspended",
    "ComplaintFiled",
    "ComplaintResolved",
    "DecisionAltered",
    "Denied",
    "DocumentsRequested",
    "DocumentsSupplemented",
    "Escalated",
    "EventBody",
    "Extended",
    "NotAccepted",
    "PackRecorded",
    "ProjectCompleted",
    "ProjectRegistered",
    "ProjectStageCompleted",
    "ProjectWithdrawn",
    "Received",
    "ServiceRated",
    "StageCompleted",
    "Transferred",
    "upcast",
]


class EventBody(Frozen):
    """What happened, without who, when and where in the chain (see ``RecordedEvent``)."""

    type: str
    class_version: ClassVar[int] = 1
    zh: ClassVar[str] = ""


class Received(EventBody):
    """收件: the application and its materials reached the service centre."""

    type: Literal["received"] = "received"
    zh: ClassVar[str] = "收件"
    channel: Channel
    applicant: Name = Field(description="Reference to the applicant (not personal data).")
    item_code: ItemCode | None = None
    documents: tuple[Name, ...] = ()


class Accepted(EventBody):
    """受理: the case is accepted, and from now on judged under the named rule pack."""

    type: Literal["accepted"] = "accepted"
    zh: ClassVar[str] = "受理"
    item_code: ItemCode
    case_kind: CaseKind
    rule_pack: Slug = Field(description="Name of the rule pack the case is judged under.")
    notice_no: Name | None = Field(default=None, description="受理通知书 number.")
    rule_pack_version: PackVersionText | None = Field(
        default=None,
        description="The version of the rule pack; the ledger fills it in (the installed "
        "version) when a command leaves it out.",
    )
    rule_pack_hash: ContentHash | None = Field(
        default=None,
        description="The content hash of that version (with every pack it extends), recorded "
        "in the ledger's pack streams: the case is judged under it. The ledger fills it in.",
    )
    class_version: ClassVar[int] = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 named the pack only: such a case is judged under the installed version
        of its pack (there is no recorded one)."""
        state.setdefault("rule_pack_version", None)
        state.setdefault("rule_pack_hash", None)


class NotAccepted(EventBody):
    """不予受理: the application is refused at the door (Art. 32), with reasons."""

    type: Literal["not_accepted"] = "not_accepted"
    zh: ClassVar[str] = "不予受理"
    reason: Text
    notice_no: Name | None = None


class DocumentsRequested(EventBody):
    """补正/容缺: the applicant is told, once and completely, what is still missing."""

    type: Literal["documents_requested"] = "documents_requested"
    zh: ClassVar[str] = "补正告知"
    mode: DocumentRequestMode
    missing: tuple[MissingDocument, ...] = Field(min_length=1)
    notice_date: dt.date
    notice_no: Name | None = None


class DocumentsSupplemented(EventBody):
    """补齐材料: the applicant supplied some or all of the missing documents."""

    type: Literal["documents_supplemented"] = "documents_supplemented"
    zh: ClassVar[str] = "材料补齐"
    documents: tuple[Name, ...] = Field(min_length=1)


class Transferred(EventBody):
    """转办: the case moves to another window, department or body."""

    type: Literal["transferred"] = "transferred"
    zh: ClassVar[str] = "转办"
    to: Party
    reason: Text


class ClockSuspended(EventBody):
    """中止计时: a procedure whose time is not counted (Art. 45) begins."""

    type: Literal["clock_suspended"] = "clock_suspended"
    zh: ClassVar[str] = "中止计时"
    reason: SuspensionReason
    notice: WrittenNotice | None = Field(
        default=None, description="The written notice to the applicant; Art. 45 requires one."
    )


class ClockResumed(EventBody):
    """恢复计时: the excluded procedure ended and the clock runs again."""

    type: Literal["clock_resumed"] = "clock_resumed"
    zh: ClassVar[str] = "恢复计时"
    note: Text | None = None


class Extended(EventBody):
    """延期: the time limit is extended (Art. 42) with a named approver."""

    type: Literal["extended"] = "extended"
    zh: ClassVar[str] = "延期"
    working_days: int = Field(ge=1, le=365)
    approver: Actor
    reason: Text
    notice: WrittenNotice | None = None


class StageCompleted(EventBody):
    """环节办结: one of 受理/审查/决定 is complete."""

    type: Literal["stage_completed"] = "stage_completed"
    zh: ClassVar[str] = "环节办结"
    stage: Stage
    note: Text | None = None


class Escalated(EventBody):
    """上报/督办: the case is reported upwards (Art. 43) or to the supervision office."""

    type: Literal["escalated"] = "escalated"
    zh: ClassVar[str] = "上报"
    to: EscalationTarget
    reason: Text
    body: Party | None = Field(default=None, description="The higher body, when named.")


class Approved(EventBody):
    """准予许可: the decision to grant."""

    type: Literal["approved"] = "approved"
    zh: ClassVar[str] = "准予许可"
    decision_no: Name
    note: Text | None = None


class Denied(EventBody):
    """不予许可: the decision to refuse, with reasons (Art. 38)."""

    type: Literal["denied"] = "denied"
    zh: ClassVar[str] = "不予许可"
    decision_no: Name
    reason: Text


class ApplicationWithdrawn(EventBody):
    """申请撤回: the applicant withdrew the application."""

    type: Literal["application_withdrawn"] = "application_withdrawn"
    zh: ClassVar[str] = "申请撤回"
    reason: Text | None = None


class CertificateIssued(EventBody):
    """发证: the licence is issued and delivered (Art. 44)."""

    type: Literal["certificate_issued"] = "certificate_issued"
    zh: ClassVar[str] = "发证"
    certificate_no: Name
    delivered_on: dt.date | None = None


class DecisionAltered(EventBody):
    """变更/撤回/撤销/注销: a supervising department's push onto an approved decision."""

    type: Literal["decision_altered"] = "decision_altered"
    zh: ClassVar[str] = "许可变更/撤回/撤销/注销"
    alteration: DecisionAlteration
    requested_by: Party
    reason: Text
    document_no: Name | None = None


class ComplaintFiled(EventBody):
    """投诉: a complaint about how the case is handled."""

    type: Literal["complaint_filed"] = "complaint_filed"
    zh: ClassVar[str] = "投诉"
    complaint_id: CommandId
    summary: Text


class ComplaintResolved(EventBody):
    """投诉办结: a complaint is resolved."""

    type: Literal["complaint_resolved"] = "complaint_resolved"
    zh: ClassVar[str] = "投诉办结"
    complaint_id: CommandId
    outcome: ComplaintOutcome
    note: Text | None = None


class ServiceRated(EventBody):
    """办结评价: after the case is finished, the applicant's rating, from the evaluation
    system or a follow-up call (回访) on service quality, handling time and integrity."""

    type: Literal["service_rated"] = "service_rated"
    zh: ClassVar[str] = "办结评价"
    satisfaction: Satisfaction
    source: RatingSource
    note: Text | None = None


_CaseEvent = (
    Received
    | Accepted
    | NotAccepted
    | DocumentsRequested
    | DocumentsSupplemented
    | Transferred
    | ClockSuspended
    | ClockResumed
    | Extended
    | StageCompleted
    | Escalated
    | Approved
    | Denied
    | ApplicationWithdrawn
    | CertificateIssued
    | DecisionAltered
    | ComplaintFiled
    | ComplaintResolved
    | ServiceRated
)
AnyEvent = Annotated[_CaseEvent, Field(discriminator="type")]

EVENT_TYPES: dict[str, type[EventBody]] = {
    cls.model_fields["type"].default: cls for cls in get_args(get_args(AnyEvent)[0])
}
"""Every event type by its fixed name (its ``type`` and stored topic)."""


# -- parallel-approval projects (并联审批) ---------------------------------------------------


class ProjectRegistered(EventBody):
    """并联审批项目登记: a project of several cases across departments, with a lead unit
    (牵头单位) that accepts it (牵头受理); the pack's overall limit runs from this day."""

    type: Literal["project_registered"] = "project_registered"
    zh: ClassVar[str] = "并联审批项目登记"
    title: Name
    kind: ProjectKind
    lead: Party = Field(description="The lead unit (牵头单位) answerable for the whole project.")
    rule_pack: Slug = Field(description="Name of the rule pack the project is judged under.")
    stages: tuple[ProjectStage, ...] = Field(min_length=1, max_length=12)
    series: Name | None = Field(
        default=None, description="The project series (系列), e.g. 房屋建筑及市政基础设施工程."
    )
    designated_by: Party | None = Field(
        default=None,
        description="The body that designated the lead unit (指定), when the lead registers "
        "the project on its designation rather than by a power of its own.",
    )


class CaseLinked(EventBody):
    """关联办件: a case of the ledger is handled as part of a stage of the project."""

    type: Literal["case_linked"] = "case_linked"
    zh: ClassVar[str] = "关联办件"
    case_no: CaseNo
    stage: int = Field(ge=1, le=12, description="The stage, numbered from 1.")


class ProjectStageCompleted(EventBody):
    """阶段办结: every department of a stage has finished its part."""

    type: Literal["project_stage_completed"] = "project_stage_completed"
    zh: ClassVar[str] = "阶段办结"
    stage: int = Field(ge=1, le=12)
    note: Text | None = None


class ProjectCompleted(EventBody):
    """项目办结: the project's approvals are all done."""

    type: Literal["project_completed"] = "project_completed"
    zh: ClassVar[str] = "项目办结"
    note: Text | None = None


class ProjectWithdrawn(EventBody):
    """项目撤回: the applicant withdrew the project."""

    type: Literal["project_withdrawn"] = "project_withdrawn"
    zh: ClassVar[str] = "项目撤回"
    reason: Text | None = None


_ProjectEvent = (
    ProjectRegistered | CaseLinked | ProjectStageCompleted | ProjectCompleted | ProjectWithdrawn
)
AnyProjectEvent = Annotated[_ProjectEvent, Field(discriminator="type")]

PROJECT_EVENT_TYPES: dict[str, type[EventBody]] = {
    cls.model_fields["type"].default: cls for cls in get_args(get_args(AnyProjectEvent)[0])
}
"""Every event type of a project's stream by its fixed name."""

# -- rule-pack versions (issue 12) -----------------------------------------------------------


class PackRecorded(EventBody):
    """规则包版本入账: the content of one version of a rule pack, recorded the first time a case
    is accepted under it (or under a pack extending it), in a stream of its own whose id is
    ``@`` and its content hash. ``content`` is the pack's ``pack.toml`` as validated (with the
    items its hooks give); ``extends_hash`` names the recorded version of the pack it
    extends. Hooks are code, never stored: ``hooks_digest`` (the SHA-256 of their source) is
    part of the content hash, and judging never calls them."""

    type: Literal["pack_recorded"] = "pack_recorded"
    zh: ClassVar[str] = "规则包版本入账"
    name: Slug
    version: PackVersionText
    content_hash: ContentHash
    extends: Slug | None = None
    extends_hash: ContentHash | None = None
    hooks_digest: str = Field(default="", pattern=r"^([0-9a-f]{64})?$")
    parameters_given: dict[Slug, dt.date] = Field(default_factory=dict)
    first_case: CaseNo | None = Field(
        default=None, description="The case whose acceptance first used this version."
    )
    content: dict[str, Any] = Field(description="The pack's data (pack.toml), validated.")


PACK_EVENT_TYPES: dict[str, type[EventBody]] = {"pack_recorded": PackRecorded}
"""The event types of a pack version's stream."""

AnyStoredEvent = Annotated[_CaseEvent | _ProjectEvent | PackRecorded, Field(discriminator="type")]
"""Any event the ledger stores: a case's or a project's."""

STORED_EVENT_TYPES: dict[str, type[EventBody]] = {
    **EVENT_TYPES,
    **PROJECT_EVENT_TYPES,
    **PACK_EVENT_TYPES,
}
"""Every stored event type (cases', projects' and pack versions') by its fixed name and topic."""


def upcast(topic: str, body: dict[str, Any], from_version: int) -> dict[str, Any]:
    """The stored body of a ``topic`` event of class version ``from_version``, brought to the
    body class's current version through its ``upcast_vN_vN+1`` steps (a copy; ``body`` itself
    when it is current). The one upcaster: the mapper, building events, and the facts that
    judging reads both call it. Raises ``ValueError`` saying what is wrong with the state."""
    body_class = STORED_EVENT_TYPES.get(topic)
    if body_class is None:
        raise ValueError(f"unknown event topic {topic!r}; is caseledger too old?")
    current = body_class.class_version
    if from_version == current:
        return body
    if not isinstance(from_version, int) or from_version < 1:
        raise ValueError("stored state is malformed (class_version)")
    if from_version > current:
        raise ValueError(
            f"stored {topic!r} is class version {from_version}, newer than this caseledger "
            f"knows ({current}); upgrade caseledger"
        )
    body = dict(body)  # upcast a copy, never the caller's state
    try:
        while from_version < current:
            getattr(body_class, f"upcast_v{from_version}_v{from_version + 1}")(body)
            from_version += 1
    except Exception as error:
        raise ValueError(f"upcasting the stored state failed: {error}") from error
    return body
