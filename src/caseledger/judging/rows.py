"""The row of a case on the supervision board: what the board and the statistics need of
it, with the days from which it is yellow and red, so that a board query for any ``as_of``
reads an index instead of judging every case.

A pure function of (facts, pack): the case is judged at its last event and at its horizon,
the day by which time alone has brought every finding it can. One of the modules a wheel
carries compiled (``hatch_build.py``): a rebuild makes a row for every case of the ledger.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, NamedTuple

from caseledger.judging.clock import ClockReport, pushed, run_clock
from caseledger.judging.evaluation import CaseEvaluation, Findings, findings_of
from caseledger.judging.facts import Fact
from caseledger.judging.judgement import Light
from caseledger.rules.model import ClockEffect, SanctionKind
from caseledger.rules.pack import PackIdentity, RulePack

__all__ = [
    "COLUMNS",
    "SANCTION_COLUMNS",
    "BoardRow",
    "BoardValues",
    "SanctionValues",
    "board_row",
    "case_row",
    "horizon",
]


class BoardValues(NamedTuple):
    """The board table's columns, in order, with their types: the one definition of the
    board row's schema (the table's DDL and statements are made from it,
    ``caseledger.readmodels.tables``). Dates are ordinals (``date.toordinal()``), flags 0/1."""

    case_no: str
    status: str
    closed_on: int | None
    received_on: int | None
    started_on: int | None
    decided_on: int | None
    deadline: int | None
    statutory_deadline: int | None
    promised_deadline: int | None
    yellow_from: int | None
    red_from: int | None
    paused: int
    provisional: int
    on_time: int | None
    early: int | None
    working_days_used: int | None
    item_code: str | None
    case_kind: str | None
    rule_pack: str
    pack_hash: str
    department: str
    window_code: str | None
    violations: str
    points: int
    received_month: str | None
    deadline_wd: int | None
    paused_left: int | None
    watched_until: int | None
    rating: str | None


class SanctionValues(NamedTuple):
    """The columns of the table of sanctions found on the board's cases, in order."""

    case_no: str
    day: int
    violation: str
    rule: str
    sanction: str
    label: str | None
    points: int | None
    due: int | None
    department: str
    window_code: str | None


COLUMNS = BoardValues._fields
SANCTION_COLUMNS = SanctionValues._fields


def _ordinal(day: dt.date | None) -> int | None:
    return day.toordinal() if day else None


class BoardRow(NamedTuple):
    """One case on the board: its values and its sanctions'. A named tuple: a rebuild makes
    one per case, and forked workers send them back."""

    values: BoardValues
    sanctions: list[SanctionValues]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values._asdict())


def horizon(clock: ClockReport) -> dt.date | None:
    """The day by which every finding that time alone can bring (overtime, inaction, a late
    certificate) has appeared, if nothing else happens; None if time can bring none."""
    days = []
    if clock.open and clock.deadline is not None:
        days.append(clock.deadline)
    if clock.started_on is None and clock.notice_due is not None and clock.closed_on is None:
        days.append(clock.notice_due)
    if clock.certificate_due is not None and clock.certificate_issued_on is None and clock.watched:
        days.append(clock.certificate_due)
    return max(days) + dt.timedelta(days=1) if days else None


def board_row(clock: ClockReport, future: CaseEvaluation, pack: RulePack) -> BoardRow:
    """The row of a case: ``clock`` its clock at its last event, ``future`` its evaluation at its
    horizon (or at its last event), so that findings time will bring are dated in advance."""
    found = Findings(future.status, future.findings, future.sanctions, future.holder, future.rating)
    return _board_row(clock, future.case_no, future.pack, found, pack)


def _board_row(
    clock: ClockReport, case_no: str, identity: PackIdentity, future: Findings, pack: RulePack
) -> BoardRow:
    """:func:`board_row` from what the evaluation at the horizon found (the light of that
    evaluation is not needed: a row's lights come from its findings' days)."""
    closed = clock.decided_on or clock.closed_on
    findings = future.findings
    yellow_from = red_from = None
    if findings:
        red = _red_findings(future)
        red_days = [f.day for f in findings if id(f) in red]
        yellow_days = [f.day for f in findings if id(f) not in red]
        red_from = min(red_days) if red_days else None
    else:
        yellow_days = []
    if closed is None:
        near = _yellow_from(clock, pack)
        if near is not None:
            yellow_days.append(near)
        yellow_from = min(yellow_days) if yellow_days else None
    deadline = clock.deadline
    decided = clock.decided_on is not None and deadline is not None
    received = clock.received_on
    holder = future.holder
    paused = clock.paused
    values = BoardValues(
        case_no=case_no,
        status=future.status.value,
        closed_on=closed.toordinal() if closed else None,
        received_on=received.toordinal() if received else None,
        started_on=_ordinal(clock.started_on),
        decided_on=_ordinal(clock.decided_on),
        deadline=deadline.toordinal() if deadline else None,
        statutory_deadline=_ordinal(clock.statutory_deadline),
        promised_deadline=_ordinal(clock.promised_deadline),
        yellow_from=yellow_from.toordinal() if yellow_from else None,
        red_from=red_from.toordinal() if red_from else None,
        paused=int(paused),
        provisional=int(bool(clock.provisional)),
        on_time=int(clock.decided_on <= deadline) if decided else None,  # type: ignore[operator]
        early=int(clock.decided_on < deadline) if decided else None,  # type: ignore[operator]
        working_days_used=clock.working_days_used,
        item_code=clock.item_code,
        case_kind=clock.case_kind.value if clock.case_kind else None,
        rule_pack=identity.name,
        pack_hash=identity.content_hash,
        department=holder[0],
        window_code=holder[1],
        violations=",".join(sorted({f.violation.value for f in findings})) if findings else "",
        points=sum(s.points or 0 for s in future.sanctions),
        received_month=_month(received) if received else None,
        deadline_wd=pack.calendar.working_day_index(deadline) if deadline else None,
        paused_left=clock.working_days_left if paused else None,
        watched_until=None if clock.watched else _ordinal(clock.certificate_issued_on or closed),
        rating=future.rating.value if future.rating else None,
    )
    sanctions = [
        SanctionValues(
            case_no=case_no,
            day=s.finding.day.toordinal(),
            violation=s.finding.violation.value,
            rule=s.rule,
            sanction=s.sanction.value,
            label=s.label,
            points=s.points,
            due=_ordinal(s.due),
            department=s.finding.department,
            window_code=s.finding.window,
        )
        for s in future.sanctions
    ]
    return BoardRow(values, sanctions)


def _red_findings(evaluation: Findings) -> set[int]:
    """The ids of the findings that light the case red: those whose first light sanction
    says red, and those without one."""
    lights: dict[int, bool] = {}
    for sanction in evaluation.sanctions:
        if sanction.sanction is SanctionKind.LIGHT:
            lights.setdefault(id(sanction.finding), sanction.light == Light.RED.value)
    return {id(f) for f in evaluation.findings if lights.get(id(f), True)}


def _month(day: dt.date) -> str:
    """``day.strftime("%Y-%m")``, without strftime's cost for four-digit years."""
    if day.year >= 1000:
        return day.isoformat()[:7]
    return day.strftime("%Y-%m")


def _yellow_from(clock: ClockReport, pack: RulePack) -> dt.date | None:
    """The first day the open case is yellow (its threshold reached), or None."""
    base = clock.limit_base or clock.started_on
    if base is None or clock.deadline is None:
        return None
    threshold = pack.yellow_threshold(clock.started_on or clock.as_of)
    if threshold is None:
        return None
    rule = threshold.rule
    total = (
        (clock.promised_limit or 0)
        if clock.promised_deadline
        else (clock.statutory_limit or 0) + clock.extension_days
    )
    if rule.working_days_left is not None:
        used = max(0, total - rule.working_days_left)
    else:
        used = math.ceil((rule.share_used or 0) * total)
    day = pushed(pack.calendar, base, used, clock.periods).value if used else base
    if clock.paused:
        pause_start = min(
            p.first for p in clock.periods if p.open and p.effect is ClockEffect.PAUSE
        )
        return day if day <= pause_start else None
    return day


def case_row(case_no: str, facts: list[Fact], pack: RulePack) -> BoardRow:
    """Judge the case now (at its last event) and at its horizon. Time does not change the
    facts, so the evaluation at the horizon is the only full one: now, only the clock runs."""
    last = facts[-1].at
    now = run_clock(facts, pack, last, trace=False)
    clock = now
    future: ClockReport | None = None
    for _ in range(3):  # deemed acceptance can start a clock that brings its own deadline
        day = horizon(clock)
        if day is None or day <= clock.as_of:
            break
        moment = max(dt.datetime.combine(day, dt.time(12), tzinfo=pack.utc_offset), last)
        clock = future = run_clock(facts, pack, moment, trace=False, days=now.days)
    if future is None:
        future = now
    elif now.started_on is None and future.started_on is not None:
        now = future  # the clock starts by deemed acceptance: its deadline is the row's
    return _board_row(now, case_no, pack.identity, findings_of(facts, pack, future), pack)
