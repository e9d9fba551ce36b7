"""Judging one case as of a moment: clock, light, violations, sanctions, and why.

``evaluate(case_no, facts, packs, as_of)`` is a pure function: the same facts, the same
pack and the same ``as_of`` give the same evaluation, byte for byte (``as_dict`` is
deterministic). It records the pack it used: name, version and content hash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from caseledger.calendar import WorkingCalendar
from caseledger.domain.lifecycle import next_status
from caseledger.domain.moments import happened_by
from caseledger.domain.vocabulary import CaseStatus, Satisfaction
from caseledger.judging.clock import ClockReport, run_clock
from caseledger.judging.facts import Fact
from caseledger.judging.frozen import reduced
from caseledger.judging.judgement import (
    Finding,
    Holder,
    Light,
    SanctionDue,
    account_lines,
    find_violations,
    light_of,
    sanctions_for,
)
from caseledger.rules.pack import PackIdentity, RulePack
from caseledger.rules.registry import PackRegistry

__all__ = [
    "DEFAULT_PACK",
    "CaseEvaluation",
    "Findings",
    "evaluate",
    "findings_of",
    "judge",
    "pack_dict",
    "pack_for",
    "pack_line",
    "rating_of",
    "status_of",
]

DEFAULT_PACK = "national"
"""The pack that judges a case not (yet) accepted under a pack of its own, unless the ledger
names another (a city's ledger names its city's pack)."""


def status_of(facts: list[Fact]) -> CaseStatus:
    """The lifecycle status after ``facts``: the Case aggregate's state machine
    (:func:`~caseledger.domain.lifecycle.next_status`), folded over facts."""
    status = CaseStatus.RECEIVED
    outstanding: set[str] = set()
    for fact in facts:
        kind = fact.type
        if kind == "documents_requested":
            outstanding |= {m["name"] for m in fact.get("missing", [])}
        elif kind == "documents_supplemented":
            outstanding -= set(fact.get("documents", []))
        status = next_status(
            status,
            kind,
            documents_outstanding=bool(outstanding),
            alteration=fact.get("alteration"),
        )
    return status


def pack_for(facts: list[Fact], packs: PackRegistry, default: str = DEFAULT_PACK) -> RulePack:
    """The pack version the case was accepted under (its name, version and content hash, as
    recorded), chosen as ``packs.judge_under`` says (:meth:`PackRegistry.for_case`); before
    acceptance, ``default``."""
    accepted = next((f for f in facts if f.type == "accepted"), None)
    if accepted is None:
        return packs.get(default)
    return packs.for_case(
        accepted.get("rule_pack"), accepted.get("rule_pack_hash"), accepted.get("rule_pack_version")
    )


@dataclass(frozen=True)
class CaseEvaluation:
    """How a case stands at ``as_of`` under its pack."""

    case_no: str
    as_of: dt.datetime
    pack: PackIdentity
    status: CaseStatus
    clock: ClockReport
    light: Light
    reasons: list[str]
    findings: list[Finding]
    sanctions: list[SanctionDue]
    holder: tuple[str, str | None]
    calendar: WorkingCalendar
    rating: Satisfaction | None = None
    """The latest rating after completion (办结评价), if any."""
    judged_under: str = "recorded"
    """How the pack was chosen: ``recorded`` (the version the case was accepted under),
    ``installed``, or the ``NAME@VERSION`` (or what-if) asked for."""

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return reduced(self)  # pickles and copies alike when compiled (frozen.py)

    @property
    def non_working_days(self) -> list[tuple[dt.date, str]]:
        """Weekdays off between the start and the deadline, with their names."""
        clock = self.clock
        if clock.started_on is None or clock.deadline is None:
            return []
        return [
            (day, self.calendar.day_name(day) or "day off")
            for day in self.calendar.non_working_days_in(clock.started_on, clock.deadline)
            if day.weekday() < 5
        ]

    @property
    def make_up_days(self) -> list[dt.date]:
        """Weekend days counted as working days between the start and the deadline."""
        clock = self.clock
        if clock.started_on is None or clock.deadline is None:
            return []
        return [
            d
            for d in self.calendar.working_days_in(clock.started_on, clock.deadline)
            if d.weekday() >= 5
        ]

    def as_dict(self) -> dict[str, Any]:
        """A deterministic, JSON-ready account."""
        clock = self.clock

        def iso(day: dt.date | None) -> str | None:
            return day.isoformat() if day else None

        return {
            "case_no": self.case_no,
            "as_of": self.as_of.isoformat(),
            "pack": pack_dict(self.pack),
            "judged_under": self.judged_under,
            "status": self.status.value,
            "status_label": self.status.label,
            "department": self.holder[0],
            "window": self.holder[1],
            "rating": self.rating.value if self.rating else None,
            "light": self.light.value,
            "light_label": self.light.zh,
            "reasons": self.reasons,
            "clock": {
                "received_on": iso(clock.received_on),
                "notice_due": iso(clock.notice_due),
                "started_on": iso(clock.started_on),
                "deemed_accepted": clock.deemed_accepted,
                "item_code": clock.item_code,
                "case_kind": clock.case_kind.value if clock.case_kind else None,
                "statutory_limit": clock.statutory_limit,
                "promised_limit": clock.promised_limit,
                "extension_days": clock.extension_days,
                "statutory_deadline": iso(clock.statutory_deadline),
                "promised_deadline": iso(clock.promised_deadline),
                "deadline": iso(clock.deadline),
                "governing_limit": clock.governing_limit if clock.deadline else None,
                "paused": clock.paused,
                "periods": [
                    {
                        "from": iso(p.first),
                        "to": iso(p.last),
                        "effect": p.effect.value,
                        "why": p.why,
                        "working_days": p.working_days,
                        "reference": p.reference,
                    }
                    for p in clock.periods
                ],
                "decided_on": iso(clock.decided_on),
                "decision": clock.decision,
                "closed_on": iso(clock.closed_on),
                "certificate_due": iso(clock.certificate_due),
                "certificate_issued_on": iso(clock.certificate_issued_on),
                "working_days_used": clock.working_days_used,
                "working_days_left": clock.working_days_left,
                "provisional": clock.provisional,
                "steps": [s.as_dict() for s in clock.steps],
                "non_working_days": [[iso(d), name] for d, name in self.non_working_days],
                "make_up_working_days": [iso(d) for d in self.make_up_days],
            },
            "violations": [f.as_dict() for f in self.findings],
            "sanctions": [s.as_dict() for s in self.sanctions],
        }

    def explain(self) -> list[str]:
        """A human-readable account of how every deadline and the light were reached."""
        clock = self.clock
        lines = [
            f"case {self.case_no} as of {self.as_of.isoformat()}",
            pack_line(self.pack)
            + ("" if self.judged_under == "recorded" else f" ({self.judged_under})"),
            f"status: {self.status.label}; held by {self.holder[0]}"
            + (f", window {self.holder[1]}" if self.holder[1] else "")
            + (f"; rated {self.rating.label}" if self.rating else ""),
            f"light: {self.light.zh} ({self.light.value})",
        ]
        lines += [f"  because {reason}" for reason in self.reasons]
        lines.append("clock:")
        for step in clock.steps:
            ref = f" [{step.reference}]" if step.reference else ""
            lines.append(f"  - {step.what}: {step.detail}{ref}")
        if self.non_working_days:
            days = ", ".join(f"{d} {name}" for d, name in self.non_working_days)
            lines.append(f"  days not counted (weekends aside): {days}")
        if self.make_up_days:
            lines.append(
                "  make-up working days counted: " + ", ".join(str(d) for d in self.make_up_days)
            )
        if clock.working_days_used is not None:
            left = "" if clock.working_days_left is None else f", {clock.working_days_left} left"
            lines.append(f"  working days used: {clock.working_days_used}{left}")
        for reason in clock.provisional:
            lines.append(f"  PROVISIONAL: {reason}")
        return lines + account_lines(self.findings, self.sanctions)


def pack_dict(pack: PackIdentity) -> dict[str, str]:
    """The pack an evaluation used, for its JSON account."""
    return {"name": pack.name, "version": pack.version, "content_hash": pack.content_hash}


def pack_line(pack: PackIdentity) -> str:
    """The pack an evaluation used, for its explanation."""
    return f"judged under {pack.name} {pack.version} (content hash {pack.content_hash[:16]}…)"


def evaluate(
    case_no: str,
    facts: list[Fact],
    packs: PackRegistry,
    as_of: dt.datetime,
    *,
    default_pack: str = DEFAULT_PACK,
    trace: bool = True,
) -> CaseEvaluation:
    """Judge the case made of ``facts`` as it stood at ``as_of`` (under ``default_pack`` while
    no acceptance names a pack)."""
    known = list(happened_by(facts, as_of))
    pack = pack_for(known, packs, default_pack)
    pack.calendar.check(pack.local_date(as_of))  # the day in the pack's own zone
    clock = run_clock(known, pack, as_of, trace=trace)
    return judge(case_no, known, pack, clock, as_of, judged_under=packs.judge_under)


class Findings(NamedTuple):
    """What a case's facts and clock bring, before the light: what read models store."""

    status: CaseStatus
    findings: list[Finding]
    sanctions: list[SanctionDue]
    holder: tuple[str, str | None]
    rating: Satisfaction | None


def rating_of(facts: list[Fact]) -> Satisfaction | None:
    """The latest rating after completion (办结评价) among ``facts``."""
    for fact in facts[::-1]:  # (not reversed(): mypyc 2.4 fails on it, see bench_compiled)
        if fact.type == "service_rated":
            return Satisfaction(fact.get("satisfaction"))
    return None


def findings_of(known: list[Fact], pack: RulePack, clock: ClockReport) -> Findings:
    """The status, violations, sanctions and holder of ``known`` whose clock has been run."""
    holder = Holder(known, pack, clock.days)
    findings = find_violations(known, clock, pack, holder)
    return Findings(
        status_of(known),
        findings,
        sanctions_for(findings, pack),
        holder.on(clock.as_of) if known else ("", None),
        rating_of(known),
    )


def judge(
    case_no: str,
    known: list[Fact],
    pack: RulePack,
    clock: ClockReport,
    as_of: dt.datetime,
    *,
    judged_under: str = "recorded",
) -> CaseEvaluation:
    """The evaluation of ``known`` (the facts up to ``as_of``) whose clock has been run."""
    found = findings_of(known, pack, clock)
    light, reasons = light_of(clock, found.findings, found.sanctions, pack)
    return CaseEvaluation(
        case_no,
        as_of,
        pack.identity,
        found.status,
        clock,
        light,
        reasons,
        found.findings,
        found.sanctions,
        found.holder,
        pack.calendar,
        found.rating,
        judged_under,
    )
