"""Judging a parallel-approval project (并联审批项目) as of a moment: its overall clock,
light, violations and sanctions, its stages and the standing of its cases, and why.

A pure function of (the project's facts, its cases' evaluations, the pack, ``as_of``):

- **Start.** The day the project is registered (牵头受理: the lead unit accepts it); the
  limit runs from the next working day, as a case's does.
- **Limit.** The pack's limit named ``project_<kind>`` (e.g. ``project_general``) in force on
  the start day; a pack without one sets no overall limit, and the project has no deadline.
  Time is not paused at the project level: its cases' own clocks do that.
- **Light.** Red when the project is completed after its deadline, or still open past it
  (超时, the lead unit answerable); yellow when the pack's threshold is reached; else green.
  The pack's sanction rules for ``overtime`` apply to the project's overtime.
- **Cases.** Each linked case is listed with its stage and its own light, as evaluated at
  ``as_of``; they do not change the project's light, which judges the project's own limit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from caseledger.domain.moments import happened_by
from caseledger.domain.values import Party
from caseledger.domain.vocabulary import ProjectKind, ProjectStatus
from caseledger.judging.evaluation import CaseEvaluation, pack_dict, pack_line
from caseledger.judging.facts import Fact
from caseledger.judging.judgement import (
    Finding,
    Light,
    SanctionDue,
    account_lines,
    sanctions_for,
)
from caseledger.rules.model import Decision, SanctionKind, Violation
from caseledger.rules.pack import PackIdentity, RulePack
from caseledger.rules.registry import PackRegistry

__all__ = ["LinkedCase", "ProjectEvaluation", "StageState", "evaluate_project"]


@dataclass(frozen=True)
class StageState:
    """One stage of the project as of the moment."""

    number: int
    name: str
    lead: str | None
    completed_on: dt.date | None
    cases: list[str]


@dataclass(frozen=True)
class LinkedCase:
    """A case of the project, with its stage and its own standing as of the moment."""

    case_no: str
    stage: int
    status: str | None
    light: Light | None
    deadline: dt.date | None


@dataclass(frozen=True)
class ProjectEvaluation:
    """How a project stands at ``as_of`` under its pack."""

    project_no: str
    as_of: dt.datetime
    pack: PackIdentity
    status: ProjectStatus
    title: str
    kind: ProjectKind
    lead: Party
    series: str | None
    registered_on: dt.date
    limit: int | None
    limit_reference: str
    deadline: dt.date | None
    completed_on: dt.date | None
    withdrawn_on: dt.date | None
    working_days_used: int | None
    working_days_left: int | None
    provisional: list[str]
    stages: list[StageState]
    cases: list[LinkedCase]
    light: Light
    reasons: list[str]
    findings: list[Finding]
    sanctions: list[SanctionDue]

    def as_dict(self) -> dict[str, Any]:
        """A deterministic, JSON-ready account."""

        def iso(day: dt.date | None) -> str | None:
            return day.isoformat() if day else None

        return {
            "project_no": self.project_no,
            "as_of": self.as_of.isoformat(),
            "pack": pack_dict(self.pack),
            "status": self.status.value,
            "status_label": self.status.label,
            "title": self.title,
            "kind": self.kind.value,
            "kind_label": self.kind.label,
            "lead": self.lead.code,
            "series": self.series,
            "light": self.light.value,
            "light_label": self.light.zh,
            "reasons": self.reasons,
            "clock": {
                "registered_on": iso(self.registered_on),
                "limit": self.limit,
                "limit_reference": self.limit_reference,
                "deadline": iso(self.deadline),
                "completed_on": iso(self.completed_on),
                "withdrawn_on": iso(self.withdrawn_on),
                "working_days_used": self.working_days_used,
                "working_days_left": self.working_days_left,
                "provisional": self.provisional,
            },
            "stages": [
                {
                    "number": s.number,
                    "name": s.name,
                    "lead": s.lead,
                    "completed_on": iso(s.completed_on),
                    "cases": s.cases,
                }
                for s in self.stages
            ],
            "cases": [
                {
                    "case_no": c.case_no,
                    "stage": c.stage,
                    "status": c.status,
                    "light": c.light.value if c.light else None,
                    "deadline": iso(c.deadline),
                }
                for c in self.cases
            ],
            "violations": [f.as_dict() for f in self.findings],
            "sanctions": [s.as_dict() for s in self.sanctions],
        }

    def explain(self) -> list[str]:
        """A human-readable account of the project's deadline, light and stages."""
        lines = [
            f"project {self.project_no} as of {self.as_of.isoformat()}: {self.title}",
            pack_line(self.pack),
            f"status: {self.status.label}; {self.kind.label}; lead unit {self.lead.code}"
            + (f"; series {self.series}" if self.series else ""),
            f"light: {self.light.zh} ({self.light.value})",
        ]
        lines += [f"  because {reason}" for reason in self.reasons]
        lines.append(f"  registered (牵头受理) on {self.registered_on}; the limit runs after it")
        if self.limit is None:
            lines.append(f"  no overall limit: {self.limit_reference}")
        else:
            lines.append(
                f"  overall limit: {self.limit} working days [{self.limit_reference}]; "
                f"deadline {self.deadline}"
            )
        if self.working_days_used is not None:
            left = "" if self.working_days_left is None else f", {self.working_days_left} left"
            lines.append(f"  working days used: {self.working_days_used}{left}")
        for reason in self.provisional:
            lines.append(f"  PROVISIONAL: {reason}")
        for stage in self.stages:
            done = f"completed on {stage.completed_on}" if stage.completed_on else "open"
            lead = f", led by {stage.lead}" if stage.lead else ""
            cases = ", ".join(stage.cases) or "no case linked"
            lines.append(f"stage {stage.number} {stage.name}{lead}: {done}; cases: {cases}")
        for case in self.cases:
            light = case.light.value if case.light else "not received yet"
            lines.append(
                f"  case {case.case_no} (stage {case.stage}): {case.status or '-'}, {light}"
                + (f", deadline {case.deadline}" if case.deadline else "")
            )
        return lines + account_lines(self.findings, self.sanctions)


def evaluate_project(
    project_no: str,
    facts: list[Fact],
    cases: dict[str, CaseEvaluation | None],
    packs: PackRegistry,
    as_of: dt.datetime,
) -> ProjectEvaluation:
    """Judge the project made of ``facts`` as it stood at ``as_of``; ``cases`` holds the
    evaluation at ``as_of`` of each linked case (None if not received by then)."""
    known = happened_by(facts, as_of)
    if not known or known[0].type != "project_registered":
        raise ValueError(f"project {project_no!r} was not registered by {as_of.isoformat()}")
    registered = known[0]
    pack = packs.get(registered.get("rule_pack"))
    day = {f.version: pack.local_date(f.at) for f in known}
    today = pack.local_date(as_of)
    start = day[registered.version]
    kind = ProjectKind(registered.get("kind"))
    lead = Party.model_validate(registered.get("lead"))
    provisional: list[str] = []

    def note(reason: str | None) -> None:
        if reason and reason not in provisional:
            provisional.append(reason)

    resolved = pack.limit(f"project_{kind.value}", start)
    deadline = None
    if resolved is not None:
        limit: int | None = resolved.rule.working_days
        reference = f"{resolved.pack}: {resolved.reference}"
        counted = pack.calendar.add_working_days(start, resolved.rule.working_days)
        deadline = counted.value
        note(counted.provisional)
    else:
        limit = None
        reference = f"pack {pack.name} sets no limit named project_{kind.value}"
    completed_on = next((day[f.version] for f in known if f.type == "project_completed"), None)
    withdrawn_on = next((day[f.version] for f in known if f.type == "project_withdrawn"), None)
    end = completed_on or withdrawn_on
    status = (
        ProjectStatus.COMPLETED
        if completed_on
        else ProjectStatus.WITHDRAWN
        if withdrawn_on
        else ProjectStatus.OPEN
    )
    used = left = None
    if deadline is not None:
        counted_used = pack.calendar.count_working_days(start, max(end or today, start))
        used = counted_used.value
        note(counted_used.provisional)
        if end is None:
            counted_left = pack.calendar.count_working_days(today, deadline)
            left = counted_left.value
            note(counted_left.provisional)
    findings = _lead_authority(registered, pack, start)
    findings += _overtime(start, deadline, completed_on, end, today, lead, limit, reference)
    sanctions = sanctions_for(findings, pack)
    light, reasons = _light(findings, sanctions, pack, start, end, used, left, limit, deadline)
    stage_defs = registered.get("stages", [])
    linked = {f.get("case_no"): int(f.get("stage")) for f in known if f.type == "case_linked"}
    stage_done = {
        int(f.get("stage")): day[f.version] for f in known if f.type == "project_stage_completed"
    }
    stages = [
        StageState(
            number,
            definition["name"],
            (definition.get("lead") or {}).get("code"),
            stage_done.get(number),
            [case_no for case_no, stage in linked.items() if stage == number],
        )
        for number, definition in enumerate(stage_defs, start=1)
    ]
    linked_cases = []
    for case_no, stage in linked.items():
        evaluation = cases.get(case_no)
        linked_cases.append(
            LinkedCase(
                case_no,
                stage,
                evaluation.status.value if evaluation else None,
                evaluation.light if evaluation else None,
                evaluation.clock.deadline if evaluation else None,
            )
        )
    return ProjectEvaluation(
        project_no, as_of, pack.identity, status, registered.get("title"), kind, lead,
        registered.get("series"), start, limit, reference, deadline, completed_on, withdrawn_on,
        used, left, provisional, stages, linked_cases, light, reasons, findings, sanctions,
    )  # fmt: skip


def _lead_authority(registered: Fact, pack: RulePack, start: dt.date) -> list[Finding]:
    """越权: a project registered (牵头受理) by a unit no scope lets lead it, unless a body
    that may lead projects designated it (``designated_by``, a body acting as such: judged
    by the scopes that grant every role of it)."""
    actor = (registered.role, registered.department, registered.window)
    designator = (registered.get("designated_by") or {}).get("code")
    if designator is not None:
        if pack.authorising_scope(("*", designator, None), Decision.LEAD, None, None, start):
            return []
    elif pack.authorising_scope(actor, Decision.LEAD, None, None, start) is not None:
        return []
    grants = [s for s in pack.scopes_on(start) if Decision.LEAD in s.rule.decisions]
    reference = "; ".join(f"{s.pack}: {s.reference}" for s in grants) or (
        f"pack {pack.name} lets no unit lead a project on {start}"
    )
    detail = (
        f"registered on {start} by {registered.department} ({registered.role}), which may not "
        "lead the project or designate its lead unit"
        if designator is None
        else f"registered on {start} by {registered.department} on the designation of "
        f"{designator}, which may not designate a project's lead unit"
    )
    finding = Finding(
        Violation.ULTRA_VIRES, start, detail, reference,
        registered.department, registered.window, registered.version,
    )  # fmt: skip
    return [finding]


def _overtime(
    start: dt.date,
    deadline: dt.date | None,
    completed_on: dt.date | None,
    end: dt.date | None,
    today: dt.date,
    lead: Party,
    limit: int | None,
    reference: str,
) -> list[Finding]:
    if deadline is None:
        return []
    late = dt.timedelta(days=1)
    if completed_on is not None and completed_on > deadline:
        detail = f"completed on {completed_on}, after the overall deadline {deadline}"
    elif end is None and today > deadline:
        detail = f"still open on {today}, past the overall deadline {deadline}"
    else:
        return []
    detail += f" ({limit} working days after registration on {start})"
    return [Finding(Violation.OVERTIME, deadline + late, detail, reference, lead.code, None)]


def _light(
    findings: list[Finding],
    sanctions: list[SanctionDue],
    pack: RulePack,
    start: dt.date,
    end: dt.date | None,
    used: int | None,
    left: int | None,
    limit: int | None,
    deadline: dt.date | None,
) -> tuple[Light, list[str]]:
    lights = {s.finding: s.light for s in sanctions if s.sanction is SanctionKind.LIGHT}
    light, reasons = Light.GREEN, []
    for finding in findings:
        colour = Light(lights.get(finding) or "red")
        reasons.append(f"{colour.value}: {finding.label}: {finding.detail}")
        light = max(light, colour, key=lambda c: c.rank)
    threshold = pack.yellow_threshold(start)
    if light is Light.GREEN and end is None and left is not None and limit and threshold:
        rule = threshold.rule
        near = (rule.working_days_left is not None and left <= rule.working_days_left) or (
            rule.share_used is not None and (used or 0) / limit >= rule.share_used
        )
        if near:
            light = Light.YELLOW
            reasons.append(
                f"yellow: {left} working days left to the overall deadline {deadline} "
                f"({threshold.pack}: {threshold.reference})"
            )
    if not reasons:
        reasons.append("green: within the overall limit" if limit else "green: no overall limit")
    return light, reasons
