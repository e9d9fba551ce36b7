"""The declarative form of a rule pack (``pack.toml``), validated by pydantic.

Every rule is a list of dated versions (like OpenFisca parameters): each version applies
from its ``from`` date until the next version's ``from`` (or its own ``to``), and carries a
``reference`` to its source: an article of a law, or a seed document and the sentence it
rests on. A pack that ``extends`` another overrides only what differs, and says so on each
version with ``override = true``.

A date the source does not give is a **parameter** (``[parameters.NAME]``): a version's
``from`` or ``to`` may be ``"${NAME}"`` (or ``"${NAME}+1"``, ``"${NAME}-1"``: so many
calendar days later or earlier), and a pack that extends this one gives the value. The
model keeps what the file says; :class:`caseledger.rules.pack.RulePack` resolves it.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from caseledger.domain.values import ItemCode, Slug
from caseledger.domain.vocabulary import CaseKind, Stage

__all__ = [
    "PARAMETER_REFERENCE",
    "Act",
    "CalendarEntry",
    "CaseKindRule",
    "ClockEffect",
    "ClockRule",
    "DateParameter",
    "Decision",
    "Holder",
    "ItemVersion",
    "LimitRule",
    "PackData",
    "PackHeader",
    "ParameterDate",
    "PromiseCutRule",
    "SanctionKind",
    "SanctionRule",
    "ScopeRule",
    "ThresholdRule",
    "Version",
    "Violation",
]

Reference = Annotated[
    str,
    StringConstraints(min_length=3, max_length=1000),
    Field(description="Where the rule comes from: an article of a law, or a seed and sentence."),
]
ChineseLabel = Annotated[str, StringConstraints(min_length=1, max_length=200)]

PARAMETER_REFERENCE = re.compile(
    r"^\$\{(?P<name>[a-z][a-z0-9_]{0,63})\}(?:(?P<sign>[+-])(?P<days>[0-9]{1,4}))?$"
)
"""``${name}``, ``${name}+N`` or ``${name}-N``: a date parameter, shifted by N calendar days."""

ParameterDate = Annotated[
    str,
    StringConstraints(pattern=PARAMETER_REFERENCE.pattern),
    Field(
        description='A date parameter of the pack: "${name}", or "${name}+N" / "${name}-N" '
        "for N calendar days after or before it."
    ),
]


def _date_or_parameter(value: Any) -> Any:
    """A date (``2026-01-01``; quoted is tolerated) or a parameter reference (``"${name}"``)."""
    if isinstance(value, dt.datetime):
        raise ValueError("write a date as YYYY-MM-DD, without a time")
    if not isinstance(value, str):
        return value
    if value.startswith("${"):
        if not PARAMETER_REFERENCE.match(value):
            raise ValueError(
                f'{value!r} is not a parameter reference: write "${{name}}", or '
                f'"${{name}}+N" / "${{name}}-N" for N calendar days after or before it'
            )
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date: write dates as YYYY-MM-DD, unquoted, or a parameter "
            'of the pack as "${name}"'
        ) from None


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Version(_Strict):
    """What every dated rule version has."""

    from_: dt.date | ParameterDate = Field(
        alias="from",
        description='First day this version applies: a date, or a parameter "${name}".',
    )
    to: dt.date | ParameterDate | None = Field(
        default=None,
        description='Last day it applies, if it ends: a date, or a parameter "${name}".',
    )
    reference: Reference
    override: bool = Field(
        default=False, description="True when this replaces a rule of the pack it extends."
    )
    note: str | None = None

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _a_date_or_a_parameter(cls, value: Any) -> Any:
        return _date_or_parameter(value)

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Version:
        to, first = self.to, self.from_
        if isinstance(to, dt.date) and isinstance(first, dt.date) and to < first:
            raise ValueError(f"'to' ({self.to}) is before 'from' ({self.from_})")
        return self

    @property
    def starts(self) -> dt.date:
        """The first day (once the pack's parameters are resolved)."""
        if isinstance(self.from_, dt.date):
            return self.from_
        raise ValueError(f"'from' is {self.from_!r}: resolve the pack's parameters first")

    @property
    def ends(self) -> dt.date | None:
        """The last day, None if open-ended (once the pack's parameters are resolved)."""
        if self.to is None or isinstance(self.to, dt.date):
            return self.to
        raise ValueError(f"'to' is {self.to!r}: resolve the pack's parameters first")

    def parameter_references(self) -> list[tuple[str, str]]:
        """``(field, "${name}...")`` for each of ``from`` and ``to`` that names a parameter."""
        return [
            (label, point)
            for label, point in (("from", self.from_), ("to", self.to))
            if isinstance(point, str)
        ]


class ClockEffect(StrEnum):
    """What an event does to a case's clock."""

    PAUSE = "pause"
    """The time until the matching resume (or supplement) is not counted."""
    RESTART = "restart"
    """The limit starts again from the day after the matching resume (or supplement)."""
    NONE = "none"
    """The clock runs on."""


class Decision(StrEnum):
    """Decisions an authorisation scope can grant."""

    ACCEPT = "accept"
    """受理 / 不予受理."""
    PRE_REVIEW = "pre_review"
    """预审: review and pass on, without deciding."""
    DECIDE = "decide"
    """准予 / 不予许可."""
    EXTEND = "extend"
    """Approve an extension of the time limit (Art. 42)."""
    LEAD = "lead"
    """牵头受理: register a parallel-approval project as its lead unit, or designate the lead
    (Art. 26); judged on the actor who records ``project_registered``."""


class Violation(StrEnum):
    """Violations that sanction rules act on."""

    OVERTIME = "overtime"
    """超时: decided (or still open) past the deadline."""
    ULTRA_VIRES = "ultra_vires"
    """越权审批: decided by someone outside the authorised scope on that date."""
    OUTSIDE_SYSTEM = "outside_system"
    """体外循环: a decision with no acceptance on record."""
    MISSED_NOTICE = "missed_notice"
    """Art. 32: missing documents not told within the limit, or not all at once."""
    PAUSE_WITHOUT_NOTICE = "pause_without_notice"
    """Art. 45: an excluded period without the written notice."""
    NO_REASON_GIVEN = "no_reason_given"
    """Art. 38/72: a refusal without reasons."""
    INACTION = "inaction"
    """不作为: no acceptance, refusal or notice within the Art. 32 limit after receipt."""
    EXCESS_EXTENSION = "excess_extension"
    """超期延长: extended by more working days than the law allows."""
    EXTENSION_WITHOUT_NOTICE = "extension_without_notice"
    """Art. 42: an extension whose reasons are not told to the applicant (no notice on record)."""


Act = Literal["accepted", "not_accepted", "approved", "denied", "extended"]
"""The acts a finding can be about, by the event that records them: an acceptance (受理), a
refusal to accept (不予受理), an approval (准予许可), a denial (不予许可), an extension (延期)."""


class SanctionKind(StrEnum):
    """What a sanction rule imposes."""

    LIGHT = "light"
    """A red (or yellow) light on the supervision board."""
    RECTIFICATION_NOTICE = "rectification_notice"
    """效能督查整改通知书 / 责令改正: correct within a due date."""
    PUBLIC_CRITICISM = "public_criticism"
    """通报批评."""
    POINTS = "points"
    """Points off a score (e.g. the 1000-point score, 千分制)."""
    ACCOUNTABILITY = "accountability"
    """Referral for accountability (问责 / 行政处分)."""
    SUMMONS = "summons"
    """约谈: the unit's leaders are summoned by the supervision office."""


class PackHeader(_Strict):
    """``[pack]``: who the pack is."""

    name: Slug
    version: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$")]
    title: ChineseLabel
    extends: Slug | None = None
    utc_offset: Annotated[str, StringConstraints(pattern=r"^[+-][0-9]{2}:[0-9]{2}$")] = "+08:00"
    catalogue: Literal["open", "closed"] = Field(
        default="closed",
        description="open: any item code is judged by the case-kind defaults; closed: only "
        "catalogue items are known.",
    )
    reference: Reference
    description: str | None = None
    score_base: int | None = Field(
        default=None,
        ge=1,
        le=100000,
        description="The score units start from before points are taken off (e.g. 1000, 千分制).",
    )
    score_reference: str | None = Field(default=None, description="Where the score comes from.")

    @model_validator(mode="after")
    def _score_has_a_source(self) -> PackHeader:
        if self.score_base is not None and not self.score_reference:
            raise ValueError("score_base needs a score_reference citing its source")
        return self


class LimitRule(Version):
    """A named time limit in working days."""

    working_days: int = Field(ge=0, le=3650)
    label: ChineseLabel
    requires_notice: bool = Field(
        default=False,
        description="For an extension limit: the applicant must be told the reasons (Art. 42); "
        "an extension recorded without its notice is a violation (extension_without_notice).",
    )


class CaseKindRule(Version):
    """Which named limits apply to a case kind when its item does not say."""

    limit: Slug = Field(description="Name of the statutory limit (a key of [limits]).")
    extension: Slug | None = Field(default=None, description="Name of the extension limit.")


class ClockRule(Version):
    """What an event does to the clock: the key is ``<event type>.<reason or mode>``."""

    effect: ClockEffect
    requires_notice: bool = False


class ThresholdRule(Version):
    """When a running case turns yellow (临界预警)."""

    working_days_left: int | None = Field(default=None, ge=0, le=365)
    share_used: float | None = Field(default=None, gt=0, lt=1)

    @model_validator(mode="after")
    def _one_measure(self) -> ThresholdRule:
        if (self.working_days_left is None) == (self.share_used is None):
            raise ValueError("give exactly one of working_days_left or share_used")
        return self


class PromiseCutRule(Version):
    """How far a promised limit (承诺时限) may be cut below the statutory one: the largest
    share of the statutory limit an ordinary item's promise may take off (key ``largest``)."""

    share: float = Field(gt=0, lt=1, description="E.g. 0.7: a promise of at least 30%.")


class ItemVersion(Version):
    """An item (事项) of the catalogue."""

    name: ChineseLabel
    name_en: str | None = None
    department: ChineseLabel
    case_kind: CaseKind
    statutory_limit: int | None = Field(
        default=None, ge=0, le=3650, description="法定时限; default: the case kind's limit."
    )
    promised_limit: int | None = Field(default=None, ge=0, le=3650, description="承诺时限.")
    stage_limits: dict[Stage, int] = Field(default_factory=dict)
    legal_basis: str | None = None

    @model_validator(mode="after")
    def _promise_within_law(self) -> ItemVersion:
        if (
            self.promised_limit is not None
            and self.statutory_limit is not None
            and self.promised_limit > self.statutory_limit
        ):
            raise ValueError(
                f"promised_limit {self.promised_limit} exceeds statutory_limit "
                f"{self.statutory_limit}"
            )
        return self


class Holder(_Strict):
    """Who holds a power: a department (or ``*``), some roles, optionally some windows."""

    department: ChineseLabel = Field(description="A department, or * for any.")
    except_departments: list[ChineseLabel] = Field(
        default_factory=list,
        description="With department = *: the departments that do not hold the power.",
    )
    departments: list[ChineseLabel] = Field(
        default_factory=list,
        description="With department = *: only these departments hold it, each within its "
        "own powers (as the national organ_decides grants every organ its own).",
    )
    roles: list[Slug | Literal["*"]] = Field(min_length=1, description="Roles, or * for any.")
    windows: list[str] | None = None

    @model_validator(mode="after")
    def _exceptions_need_any(self) -> Holder:
        if (self.except_departments or self.departments) and self.department != "*":
            raise ValueError('except_departments and departments need department = "*"')
        if self.except_departments and self.departments:
            raise ValueError("give departments or except_departments, not both")
        return self


class ScopeRule(Version):
    """Who may take which decisions, on which items and case kinds, over which dates."""

    holder: Holder
    decisions: list[Decision] = Field(
        description="What the holder may decide; an override with none repeals the parent's scope."
    )
    items: list[ItemCode | Literal["*"]] = Field(default_factory=lambda: ["*"])
    except_items: list[ItemCode] = Field(
        default_factory=list,
        description='With items = ["*"]: the items the scope does not cover.',
    )
    case_kinds: list[CaseKind] = Field(default_factory=lambda: list(CaseKind))
    supersedes: list[str] = Field(
        default_factory=list,
        description="Scopes this one takes over from its 'from' date (a transfer of power).",
    )

    @model_validator(mode="after")
    def _grants_something(self) -> ScopeRule:
        if not self.decisions and not self.override:
            raise ValueError(
                "a scope must grant at least one decision (only an override may grant none, "
                "to repeal the scope it replaces)"
            )
        if self.except_items and "*" not in self.items:
            raise ValueError('except_items needs items = ["*"]')
        return self


class SanctionRule(Version):
    """Which violation gives which sanction."""

    violation: Violation
    sanction: SanctionKind
    label: ChineseLabel
    points: int | None = Field(default=None, ge=1, le=1000)
    due_working_days: int | None = Field(default=None, ge=1, le=365)
    light: Literal["yellow", "red"] | None = None
    acts: list[Act] = Field(
        default_factory=list,
        description="Only findings about these acts (an ultra-vires approval, an overtime "
        "approval...); none: every finding of the violation.",
    )
    limits: list[Literal["statutory", "promised", "certificate"]] = Field(
        default_factory=list,
        description="Only overtime findings that missed these deadlines (statutory: the law's "
        "法定期限, as Art. 74(2) says); none: whichever.",
    )

    def covers(self, act: str | None, limit: str | None) -> bool:
        """Whether this rule applies to a finding about ``act`` that missed ``limit``."""
        return (not self.acts or act in self.acts) and (not self.limits or limit in self.limits)

    @model_validator(mode="after")
    def _details_fit_the_kind(self) -> SanctionRule:
        if self.sanction is SanctionKind.POINTS and self.points is None:
            raise ValueError("a points sanction needs 'points'")
        if self.sanction is SanctionKind.LIGHT and self.light is None:
            raise ValueError("a light sanction needs 'light' (yellow or red)")
        if self.limits and self.violation is not Violation.OVERTIME:
            raise ValueError("'limits' (the deadlines missed) applies to overtime only")
        return self


class CalendarEntry(_Strict):
    """A local day off or working day, or (``published_year``) a year's schedule."""

    date: dt.date
    working: bool
    name: ChineseLabel
    reference: Reference
    override: bool = False


class CalendarData(_Strict):
    """``[calendar]``: local additions to the official calendar."""

    days: list[CalendarEntry] = Field(default_factory=list)
    published_years: list[int] = Field(
        default_factory=list,
        description="Years whose schedule the days above publish ahead of the holidays package.",
    )


class DateParameter(_Strict):
    """``[parameters.NAME]``: a date the pack's source does not give (e.g. the day a transfer
    of power takes effect, when the source masks the date of the meeting that sets it).

    The first pack of the lineage that names it declares it (``description``, and a
    ``reference`` saying why it is a parameter); a pack that extends it gives the ``value``,
    with a ``reference`` to where the value comes from. The nearest value in the lineage wins.
    A pack with a parameter that has no value can be listed, validated and tested, but judges
    no case. Other kinds of parameter would be further models with their own ``kind``.
    """

    kind: Literal["date"] = "date"
    description: str | None = Field(
        default=None,
        min_length=3,
        max_length=1000,
        description="What the date is; required where the parameter is declared.",
    )
    reference: Reference
    value: dt.date | None = Field(default=None, description="The date, YYYY-MM-DD.")
    note: str | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _a_date(cls, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            raise ValueError("write a date as YYYY-MM-DD, without a time")
        return value


class PackData(_Strict):
    """A whole ``pack.toml``."""

    pack: PackHeader
    parameters: dict[Slug, DateParameter] = Field(default_factory=dict)
    limits: dict[Slug, list[LimitRule]] = Field(default_factory=dict)
    case_kinds: dict[CaseKind, list[CaseKindRule]] = Field(default_factory=dict)
    clock: dict[str, list[ClockRule]] = Field(default_factory=dict)
    thresholds: dict[Literal["yellow"], list[ThresholdRule]] = Field(default_factory=dict)
    promise_cuts: dict[Literal["largest"], list[PromiseCutRule]] = Field(default_factory=dict)
    items: dict[ItemCode, list[ItemVersion]] = Field(default_factory=dict)
    scopes: dict[Slug, list[ScopeRule]] = Field(default_factory=dict)
    sanctions: dict[Slug, list[SanctionRule]] = Field(default_factory=dict)
    calendar: CalendarData = Field(default_factory=CalendarData)
