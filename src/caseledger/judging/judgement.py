"""Violations, sanctions and the supervision light (电子监察) of one case, as of a moment.

Violations are found from the facts, the clock and the pack; each is dated, tied to the
event that caused it (where one did) and to the unit responsible (the acting person's, or
the case holder's, department and window). Sanctions are the pack's sanction rules for each
violation on its date. The light is red when the case is past its deadline or has any
violation, whatever the time; yellow when the pack's threshold is reached; green otherwise.
A pack may set a violation's light to yellow (a sanction of kind ``light``), by severity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from caseledger.judging.clock import DECISIONS, ClockReport
from caseledger.judging.facts import Fact, case_kind
from caseledger.judging.frozen import reduced
from caseledger.rules.model import Decision, SanctionKind, Violation
from caseledger.rules.pack import RulePack

__all__ = [
    "Finding",
    "Holder",
    "Light",
    "SanctionDue",
    "account_lines",
    "find_violations",
    "light_of",
    "sanctions_for",
]

VIOLATION_ZH = {
    Violation.OVERTIME: "超时",
    Violation.ULTRA_VIRES: "越权审批",
    Violation.OUTSIDE_SYSTEM: "体外循环",
    Violation.MISSED_NOTICE: "未一次告知/逾期告知",
    Violation.PAUSE_WITHOUT_NOTICE: "中止计时未书面告知",
    Violation.NO_REASON_GIVEN: "未说明理由",
    Violation.INACTION: "不作为",
    Violation.EXCESS_EXTENSION: "超期延长",
    Violation.EXTENSION_WITHOUT_NOTICE: "延长期限未告知理由",
}


OUTSIDE_SYSTEM_REFERENCE = "行政许可法 第三十二条第二款（受理或不予受理应当出具书面凭证）"

ACT_ZH = {
    "accepted": "受理",
    "not_accepted": "不予受理",
    "approved": "准予许可",
    "denied": "不予许可",
    "extended": "延长期限",
}
"""The acts a finding can be about (:data:`caseledger.rules.model.Act`), by their event."""

_POWERS_ARTICLE = (
    "行政许可法 第二十二条（行政许可由具有行政许可权的行政机关在其法定职权范围内实施）"
)
ULTRA_VIRES_REFERENCES = {
    "accepted": f"{_POWERS_ARTICLE}；第三十二条第一款第（五）项"
    "（申请事项属于本行政机关职权范围……应当受理）",
    "not_accepted": f"{_POWERS_ARTICLE}；第三十二条第一款（行政机关对申请人提出的行政许可申请，"
    "应当根据下列情况分别作出处理）",
    "approved": "行政许可法 第七十四条第（一）项：超越法定职权作出准予行政许可决定的",
    "denied": f"{_POWERS_ARTICLE}；第三十八条第二款（行政机关依法作出不予行政许可的书面决定）",
    "extended": "行政许可法 第四十二条第一款：经本行政机关负责人批准，可以延长十日；"
    "第二款：经本级人民政府负责人批准，可以延长十五日",
}
"""What covers each ultra-vires act: Art. 74(1) names only the approval; the other acts are
outside the powers Art. 22, 32, 38 and 42 give, without a sanction of their own in Chapter 7."""


class Light(StrEnum):
    """The supervision light, worst last."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def zh(self) -> str:
        return {"green": "绿灯", "yellow": "黄灯（临界预警）", "red": "红灯（超时/违规）"}[
            self.value
        ]

    @property
    def rank(self) -> int:
        return list(Light).index(self)


@dataclass(frozen=True)
class Finding:
    """A violation found on a case."""

    violation: Violation
    day: dt.date
    detail: str
    reference: str
    department: str
    window: str | None
    version: int | None = None
    act: str | None = None
    """The act it is about, by its event type (``approved``, ``extended``...), if one."""
    limit: str | None = None
    """For overtime: the deadline missed (``statutory``, ``promised``, ``certificate``)."""

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return reduced(self)  # pickles and copies alike when compiled (frozen.py)

    @property
    def label(self) -> str:
        return f"{VIOLATION_ZH[self.violation]} ({self.violation.value})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "violation": self.violation.value,
            "label": self.label,
            "day": self.day.isoformat(),
            "detail": self.detail,
            "reference": self.reference,
            "department": self.department,
            "window": self.window,
            "version": self.version,
            "act": self.act,
            "limit": self.limit,
        }


@dataclass(frozen=True)
class SanctionDue:
    """A sanction the pack gives for a finding."""

    finding: Finding
    rule: str
    sanction: SanctionKind
    label: str
    reference: str
    points: int | None = None
    due: dt.date | None = None
    light: str | None = None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return reduced(self)  # pickles and copies alike when compiled (frozen.py)

    def as_dict(self) -> dict[str, Any]:
        return {
            "violation": self.finding.violation.value,
            "rule": self.rule,
            "sanction": self.sanction.value,
            "label": self.label,
            "points": self.points,
            "due": self.due.isoformat() if self.due else None,
            "light": self.light,
            "department": self.finding.department,
            "window": self.finding.window,
            "reference": self.reference,
        }


_POWERS = {
    "accepted": Decision.ACCEPT,
    "not_accepted": Decision.ACCEPT,
    "approved": Decision.DECIDE,
    "denied": Decision.DECIDE,
    "extended": Decision.EXTEND,
}


class Holder:
    """Who holds the case on a day: the acceptor's unit, then transfers."""

    def __init__(
        self, facts: list[Fact], pack: RulePack, days: dict[int, dt.date] | None = None
    ) -> None:
        self.changes: list[tuple[dt.date, str, str | None]] = []
        for fact in facts:
            day = days[fact.version] if days else pack.local_date(fact.at)
            if not self.changes:
                self.changes.append((day, fact.department, fact.window))
            if fact.type == "accepted":
                self.changes.append((day, fact.department, fact.window))
            elif fact.type == "transferred":
                to = fact.get("to", {})
                department, window = self.changes[-1][1], self.changes[-1][2]
                if to.get("kind") == "window":
                    window = to.get("code")
                else:
                    department, window = to.get("code"), None
                self.changes.append((day, department, window))

    def on(self, day: dt.date) -> tuple[str, str | None]:
        current = self.changes[0][1:] if self.changes else ("", None)
        for changed, department, window in self.changes:
            if changed <= day:
                current = (department, window)
        return current


def find_violations(
    facts: list[Fact], clock: ClockReport, pack: RulePack, holder: Holder | None = None
) -> list[Finding]:
    """Every violation of the case in ``facts`` (those known at the clock's moment), in the
    order of their day, event and kind."""
    finder = _Finder(facts, clock, pack, holder)
    finder.inaction()
    finder.late_or_repeated_corrections()
    for fact in facts:
        finder.outside_system(fact)
        finder.ultra_vires(fact)
        finder.pause_without_notice(fact)
        finder.extension_without_notice(fact)
    finder.excess_extensions()
    finder.overtime()
    found = finder.found
    if len(found) > 1:
        found.sort(key=lambda f: (f.day, f.version or 0, f.violation.value))
    return found


class _Finder:
    """The violations of one case, one kind a method, gathered in :attr:`found`."""

    def __init__(
        self, facts: list[Fact], clock: ClockReport, pack: RulePack, holder: Holder | None
    ) -> None:
        self.facts = facts
        self.clock = clock
        self.pack = pack
        self.days = clock.days or {f.version: pack.local_date(f.at) for f in facts}
        self.holder = holder or Holder(facts, pack, self.days)
        self.found: list[Finding] = []
        self.accepted_version = next((f.version for f in facts if f.type == "accepted"), None)
        notice = pack.limit("acceptance_notice", clock.received_on) if clock.received_on else None
        self.notice_reference = f"{notice.pack}: {notice.reference}" if notice else ""

    def held(
        self,
        violation: Violation,
        day: dt.date,
        detail: str,
        ref: str,
        version: int | None,
        act: str | None = None,
        limit: str | None = None,
    ) -> None:
        """A finding against whoever held the case on ``day``."""
        department, window = self.holder.on(day)
        self.found.append(
            Finding(violation, day, detail, ref, department, window, version, act, limit)
        )

    def acted(
        self, violation: Violation, fact: Fact, detail: str, ref: str, act: str | None = None
    ) -> None:
        """A finding against whoever recorded ``fact``, on its day."""
        day = self.days[fact.version]
        self.found.append(
            Finding(violation, day, detail, ref, fact.department, fact.window, fact.version, act)
        )

    def before_acceptance(self, fact: Fact) -> bool:
        return self.accepted_version is None or fact.version < self.accepted_version

    def inaction(self) -> None:
        """Art. 32: no reaction within the notice limit (the case is deemed accepted)."""
        clock = self.clock
        if not clock.deemed_accepted or clock.notice_due is None:
            return
        reaction = clock.first_reaction
        if reaction is not None and reaction.type == "documents_requested":
            return
        late = (
            "no reaction"
            if reaction is None
            else f"{reaction.type} only on {self.days[reaction.version]}"
        )
        detail = (
            f"{late}: nothing done within the notice limit ending {clock.notice_due}; "
            "deemed accepted on receipt"
        )
        version = reaction.version if reaction else None
        self.held(
            Violation.INACTION,
            clock.notice_due + dt.timedelta(days=1),
            detail,
            self.notice_reference,
            version,
        )

    def late_or_repeated_corrections(self) -> None:
        """Art. 32: everything missing told at once, within the notice limit; it governs
        every request before acceptance, whatever its mode."""
        corrections = [
            f for f in self.facts if f.type == "documents_requested" and self.before_acceptance(f)
        ]
        notice_due = self.clock.notice_due
        for index, fact in enumerate(corrections):
            day = self.days[fact.version]
            if index > 0:
                self.acted(
                    Violation.MISSED_NOTICE,
                    fact,
                    "a second correction notice: everything missing must be told at once",
                    self.notice_reference,
                )
            elif notice_due is not None and day > notice_due:
                self.acted(
                    Violation.MISSED_NOTICE,
                    fact,
                    f"correction notice on {day}, after the limit ending {notice_due}",
                    self.notice_reference,
                )

    def outside_system(self, fact: Fact) -> None:
        """体外循环: a decision with no acceptance on record before it."""
        if fact.type in DECISIONS and self.before_acceptance(fact):
            self.acted(
                Violation.OUTSIDE_SYSTEM,
                fact,
                f"{fact.type} with no acceptance on record",
                OUTSIDE_SYSTEM_REFERENCE,
            )

    def ultra_vires(self, fact: Fact) -> None:
        """越权: a power used outside every scope the pack allows on that day."""
        decision = _POWERS.get(fact.type)
        if decision is None:
            return
        if fact.type == "extended":
            approver = fact.get("approver", {})
            person, role = approver.get("person"), approver.get("role")
            department, window = approver.get("department"), approver.get("window")
        else:
            person, role, department, window = (
                fact.person,
                fact.role,
                fact.department,
                fact.window,
            )
        accepting = fact.type == "accepted"
        kind = case_kind(fact.get("case_kind")) if accepting else self.clock.case_kind
        item = fact.get("item_code") if accepting else self.clock.item_code
        day = self.days[fact.version]
        who = (role, department, window)
        if self.pack.authorising_scope(who, decision, item, kind, day) is not None:
            return
        self.found.append(
            Finding(
                Violation.ULTRA_VIRES,
                day,
                f"{ACT_ZH[fact.type]} ({fact.type}) by {person} ({role}, {department}) outside "
                f"every scope allowed to {decision.value} on {day}",
                f"{ULTRA_VIRES_REFERENCES[fact.type]}; "
                f"{self.pack.name}: authorisation scopes in force on {day}",
                department,
                window,
                fact.version,
                fact.type,
            )
        )

    def pause_without_notice(self, fact: Fact) -> None:
        """A suspension whose clock rule requires a written notice, without one."""
        if fact.type != "clock_suspended":
            return
        # the rule version the clock used (the start day's), so that the effect and the
        # notice it requires come from one rule
        on = self.clock.started_on or self.days[fact.version]
        rule = self.pack.clock_rule("clock_suspended", fact.get("reason"), on)
        if rule is not None and rule.rule.requires_notice and not fact.get("notice"):
            self.acted(
                Violation.PAUSE_WITHOUT_NOTICE,
                fact,
                f"{fact.get('reason')} suspension without the written notice",
                f"{rule.pack}: {rule.reference}",
            )

    def extension_without_notice(self, fact: Fact) -> None:
        """Art. 42: an extension whose limit rule requires the reasons told to the applicant,
        recorded without the notice that tells them."""
        if fact.type != "extended" or fact.get("notice"):
            return
        kind = self.clock.case_kind
        if kind is None:
            return
        # the extension limit the clock used (the start day's), as for pauses
        on = self.clock.started_on or self.days[fact.version]
        rule = self.pack.extension_limit(kind, on)
        if rule is not None and rule.rule.requires_notice:
            self.acted(
                Violation.EXTENSION_WITHOUT_NOTICE,
                fact,
                f"+{fact.get('working_days')} working days extended without the notice "
                "telling the applicant the reasons",
                f"{rule.pack}: {rule.reference}",
                "extended",
            )

    def excess_extensions(self) -> None:
        """Art. 42: an extension only within the limit, and no more days than allowed."""
        clock = self.clock
        for extension in clock.late_extensions:
            detail = (
                f"extension approved on {self.days[extension.version]}, after the deadline it "
                "would extend; Art. 42 allows extending only within the limit"
            )
            self.acted(Violation.EXCESS_EXTENSION, extension, detail, "行政许可法 第四十二条")
        if clock.extension_days > clock.extension_allowed:
            last = next(f for f in self.facts[::-1] if f.type == "extended")
            self.acted(
                Violation.EXCESS_EXTENSION,
                last,
                f"{clock.extension_days} working days of "
                f"extension, more than the {clock.extension_allowed} allowed",
                "",
            )

    def overtime(self) -> None:
        """超时: decided, closed or still open past the deadline; a certificate late."""
        clock, pack = self.clock, self.pack
        deadline = clock.deadline
        if deadline is None:
            return
        which = clock.governing_limit
        statutory = clock.statutory_deadline
        after = deadline + dt.timedelta(days=1)
        limit = f"{pack.name}: {which} limit"

        def missed(day: dt.date) -> str:
            """The worst deadline missed by ``day``: the law's before the promise."""
            return "statutory" if statutory is not None and day > statutory else which

        if clock.decided_on is not None and clock.decided_on > deadline:
            also = ""
            if which == "promised" and statutory and clock.decided_on > statutory:
                also = " and the statutory one"
            detail = f"decided on {clock.decided_on}, after the {which} deadline {deadline}{also}"
            self.held(
                Violation.OVERTIME, after, detail, limit, None, clock.decision,
                missed(clock.decided_on),
            )  # fmt: skip
        elif clock.closed_on is not None and clock.closed_on > deadline:
            detail = (
                f"closed on {clock.closed_on} without a decision, past the {which} deadline "
                f"{deadline}"
            )
            self.held(Violation.OVERTIME, after, detail, limit, None, None, missed(clock.closed_on))
        elif clock.open and clock.as_of > deadline:
            detail = f"still open on {clock.as_of}, past the {which} deadline {deadline}"
            self.held(Violation.OVERTIME, after, detail, limit, None, None, missed(clock.as_of))
        due = clock.certificate_due
        ended = clock.decision_ended_on
        if due is None or (ended is not None and ended <= due):
            return
        issued = clock.certificate_issued_on
        if (issued is not None and issued > due) or (issued is None and clock.as_of > due):
            when = f"issued on {issued}" if issued else f"not issued by {clock.as_of}"
            self.held(
                Violation.OVERTIME,
                (issued or due + dt.timedelta(days=1)),
                f"certificate {when}, after its deadline {due}",
                "行政许可法 第四十四条",
                None,
                None,
                "certificate",
            )


def sanctions_for(findings: list[Finding], pack: RulePack) -> list[SanctionDue]:
    """The pack's sanctions for each finding, with their due dates."""
    dues: list[SanctionDue] = []
    for finding in findings:
        for rule in pack.sanction_rules(finding.violation, finding.day):
            r = rule.rule
            if not r.covers(finding.act, finding.limit):
                continue
            due = None
            if r.due_working_days is not None:
                due = pack.calendar.add_working_days(finding.day, r.due_working_days).value
            dues.append(
                SanctionDue(
                    finding,
                    rule.key,
                    r.sanction,
                    r.label,
                    f"{rule.pack}: {rule.reference}",
                    r.points,
                    due,
                    r.light,
                )
            )
    return dues


def account_lines(findings: list[Finding], sanctions: list[SanctionDue]) -> list[str]:
    """The explanation's lines for each violation and each sanction."""
    lines = []
    for finding in findings:
        lines.append(
            f"violation: {finding.label} on {finding.day}: {finding.detail} "
            f"({finding.department}{', ' + finding.window if finding.window else ''})"
            + (f" [{finding.reference}]" if finding.reference else "")
        )
    for sanction in sanctions:
        extra = f", {sanction.points} points" if sanction.points else ""
        due = f", due {sanction.due}" if sanction.due else ""
        lines.append(
            f"sanction: {sanction.label} ({sanction.sanction.value}{extra}{due}) "
            f"[{sanction.reference}]"
        )
    return lines


def light_of(
    clock: ClockReport, findings: list[Finding], sanctions: list[SanctionDue], pack: RulePack
) -> tuple[Light, list[str]]:
    """The light and the reasons for it."""
    reasons: list[str] = []
    light = Light.GREEN
    lights = {s.finding: s.light for s in sanctions if s.sanction is SanctionKind.LIGHT}
    for finding in findings:
        colour = Light(lights.get(finding, "red") or "red")
        reasons.append(f"{colour.value}: {finding.label}: {finding.detail}")
        light = max(light, colour, key=lambda c: c.rank)
    if (
        light is Light.GREEN
        and clock.open
        and clock.deadline
        and clock.working_days_left is not None
    ):
        threshold = pack.yellow_threshold(clock.started_on or clock.as_of)
        if threshold is not None:
            rule = threshold.rule
            total = (clock.working_days_used or 0) + clock.working_days_left
            near = (
                rule.working_days_left is not None
                and clock.working_days_left <= rule.working_days_left
            ) or (
                rule.share_used is not None
                and total > 0
                and (clock.working_days_used or 0) / total >= rule.share_used
            )
            if near:
                light = Light.YELLOW
                measure = (
                    f"{rule.working_days_left} working days left"
                    if rule.working_days_left is not None
                    else f"{rule.share_used:.0%} of the limit used"
                )
                reasons.append(
                    f"yellow: {clock.working_days_left} working days left to the "
                    f"{clock.governing_limit} deadline {clock.deadline}; threshold {measure}"
                    f" ({threshold.pack}: {threshold.reference})"
                )
    if not reasons:
        reasons.append("green: on time, no violation")
    return light, reasons
