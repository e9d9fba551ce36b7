"""The field's closed vocabularies, English identifiers with their Chinese terms.

Each member's value is its stable English identifier (what is stored); ``.zh`` is the
Chinese term used in the field, and ``.label`` shows both, e.g. ``承诺件 (promised)``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CaseKind",
    "CaseStatus",
    "Channel",
    "ComplaintOutcome",
    "DecisionAlteration",
    "DocumentRequestMode",
    "EscalationTarget",
    "PartyKind",
    "ProjectKind",
    "ProjectStatus",
    "Stage",
    "SuspensionReason",
]


class _Labelled(StrEnum):
    """A string enum whose members carry their Chinese term."""

    zh: str

    def __new__(cls, value: str, zh: str = "") -> _Labelled:
        member = str.__new__(cls, value)
        member._value_ = value
        member.zh = zh
        return member

    @property
    def label(self) -> str:
        return f"{self.zh} ({self.value})"


class CaseKind(_Labelled):
    """办件类型: how a case is handled, which decides who may decide it."""

    IMMEDIATE = "immediate", "即办件"
    PROMISED = "promised", "承诺件"
    JOINT = "joint", "联办件"
    REPORTED = "reported", "上报件"
    SUPPLEMENTED = "supplemented", "补办件"
    RETURNED = "returned", "退回件"


class Stage(_Labelled):
    """The three stages of the approval flow (受理 → 审查 → 决定), in order."""

    ACCEPTANCE = "acceptance", "受理"
    REVIEW = "review", "审查"
    DECISION = "decision", "决定"


class Channel(_Labelled):
    """How the application reached the service centre."""

    WINDOW = "window", "窗口"
    ONLINE = "online", "网上申报"
    APPOINTMENT = "appointment", "预约"
    MAIL = "mail", "邮寄"
    AGENCY = "agency", "代办"


class DocumentRequestMode(_Labelled):
    """Why documents are requested: 补正 before acceptance (Administrative Licensing Law
    Art. 32), or 容缺 (accepted while a non-essential document is still missing)."""

    CORRECTION = "correction", "补正"
    TOLERATED = "tolerated", "容缺"


class SuspensionReason(_Labelled):
    """Procedures whose time is not counted (Administrative Licensing Law Art. 45), and
    on-site verification, which a rule pack may or may not treat the same way."""

    HEARING = "hearing", "听证"
    TENDERING = "tendering", "招标"
    AUCTION = "auction", "拍卖"
    TESTING = "testing", "检验"
    INSPECTION = "inspection", "检测"
    QUARANTINE = "quarantine", "检疫"
    APPRAISAL = "appraisal", "鉴定"
    EXPERT_REVIEW = "expert_review", "专家评审"
    ON_SITE_VERIFICATION = "on_site_verification", "现场核查"


class ProjectKind(_Labelled):
    """How demanding a parallel-approval project (并联审批项目) is; the pack's overall limit
    for the project is its limit named ``project_<kind>``."""

    GENERAL = "general", "一般项目"
    COMPLEX = "complex", "复杂项目"
    DOUBLE_KEY = "double_key", "“双重点”项目"


class ProjectStatus(_Labelled):
    """Where a parallel-approval project stands."""

    OPEN = "open", "办理中"
    COMPLETED = "completed", "已办结"
    WITHDRAWN = "withdrawn", "已撤回"


class PartyKind(_Labelled):
    """What a transfer or a push names: a window, a department or another body."""

    WINDOW = "window", "窗口"
    DEPARTMENT = "department", "部门"
    BODY = "body", "机关"


class EscalationTarget(_Labelled):
    """Where a case is escalated: reported to a higher level (Art. 43) or to supervision."""

    HIGHER_LEVEL = "higher_level", "上报上级机关"
    SUPERVISION_OFFICE = "supervision_office", "电子监察"


class DecisionAlteration(_Labelled):
    """What a supervising department may push onto an approved decision."""

    AMENDED = "amended", "变更"
    WITHDRAWN = "withdrawn", "撤回"
    REVOKED = "revoked", "撤销"
    CANCELLED = "cancelled", "注销"


class ComplaintOutcome(_Labelled):
    """How a complaint about a case ended."""

    UPHELD = "upheld", "投诉属实"
    PARTLY_UPHELD = "partly_upheld", "部分属实"
    REJECTED = "rejected", "投诉不实"
    WITHDRAWN = "withdrawn", "撤诉"


class Satisfaction(_Labelled):
    """The applicant's rating of a finished case, on the five grades of the State Council's
    政务服务“好差评” (国办发〔2019〕51号); seed 001 names a rating system but no scale."""

    VERY_SATISFIED = "very_satisfied", "非常满意"
    SATISFIED = "satisfied", "满意"
    BASICALLY_SATISFIED = "basically_satisfied", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"
    VERY_DISSATISFIED = "very_dissatisfied", "非常不满意"

    @property
    def good(self) -> bool:
        """好评 (the three upper grades), as against 差评 (the two lower)."""
        return self in _GOOD_GRADES


_GOOD_GRADES = frozenset(
    {Satisfaction.VERY_SATISFIED, Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED}
)


class RatingSource(_Labelled):
    """Where a rating comes from."""

    EVALUATION_SYSTEM = "evaluation_system", "评价系统"
    FOLLOW_UP_CALL = "follow_up_call", "电话回访"


class CaseStatus(_Labelled):
    """Where a case stands in its lifecycle."""

    RECEIVED = "received", "已收件"
    AWAITING_DOCUMENTS = "awaiting_documents", "待补正"
    ACCEPTED = "accepted", "已受理"
    SUSPENDED = "suspended", "中止计时"
    APPROVED = "approved", "准予许可"
    DENIED = "denied", "不予许可"
    NOT_ACCEPTED = "not_accepted", "不予受理"
    WITHDRAWN = "withdrawn", "申请撤回"
    DECISION_WITHDRAWN = "decision_withdrawn", "许可已撤回"
    DECISION_REVOKED = "decision_revoked", "许可已撤销"
    DECISION_CANCELLED = "decision_cancelled", "许可已注销"
