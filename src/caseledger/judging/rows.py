"""The rows of a case on the supervision board: what the board, the statistics and the scores
need of it, stored so that a query for any day ``D`` reads indexes and gives what
``evaluate(case, end of D)`` gives (:func:`caseledger.judging.supervision.watch_of`).

A case's history is cut in **segments**, one per day on which it has events: the segment of
day ``d`` holds what the case's events up to the end of ``d`` bring, for every day from
``d`` until the day before its next events (the last segment has no end). Within a segment
the events are fixed and only time passes, so everything the board shows is a function of
the day that the row can store: the days its findings fall on (a finding, once found, stays),
the days it turns yellow and red, the day its clock starts running (deemed acceptance), its
deadline and the working-day index of it, or while a pause moves the deadline, the working
days it keeps left.

A pure function of (facts, pack): each segment is judged once at its last day, and the last
one at its horizon, the day by which time alone has brought every finding it can. One of
the modules a wheel carries compiled (``hatch_build.py``): a rebuild makes the rows of every
case of the ledger.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any, NamedTuple

from caseledger.domain.moments import end_of_day
from caseledger.judging.clock import ClockReport, pushed, run_clock
from caseledger.judging.evaluation import Findings, findings_of
from caseledger.judging.facts import Fact
from caseledger.judging.judgement import Light
from caseledger.rules.model import ClockEffect, SanctionKind, Violation
from caseledger.rules.pack import RulePack

__all__ = [
    "COLUMNS",
    "SANCTION_COLUMNS",
    "BoardRow",
    "BoardValues",
    "SanctionValues",
    "board_day",
    "case_rows",
    "horizon",
    "segment_row",
]


# The schema is written in NamedTuple's functional form: its field types stay readable at run
# time when the module is compiled (the table's DDL is made from them, and mypyc keeps the
# types of a class-form NamedTuple only as ``type``; ruff's UP014 would turn it back).
BoardValues = NamedTuple(  # noqa: UP014 (see above)
    "BoardValues",
    [
        ("case_no", str),
        ("seg_from", int),
        ("seg_to", int | None),
        ("watched", int),
        ("status", str),
        ("received_on", int | None),
        ("decided_on", int | None),
        ("closed_on", int | None),
        ("started_from", int | None),
        ("deadline_kind", str | None),
        ("deadline", int | None),
        ("deadline_wd", int | None),
        ("paused", int),
        ("paused_left", int | None),
        ("yellow_from", int | None),
        ("red_from", int | None),
        ("alert_from", int | None),
        ("overtime_from", int | None),
        ("findings", str),
        ("decision_deadline", int | None),
        ("working_days_used", int | None),
        ("provisional", int),
        ("item_code", str | None),
        ("case_kind", str | None),
        ("rule_pack", str),
        ("pack_hash", str),
        ("department", str),
        ("window_code", str | None),
        ("received_month", str | None),
        ("rating", str | None),
    ],
)


# BoardValues: The board table's columns, in order, with their types: the one definition
# of the board row's schema (the table's DDL and statements are made from it,
# ``caseledger.readmodels.tables``). One row is one segment of a case; days are ordinals
# (``date.toordinal()``), flags 0/1.
#
# - ``seg_from``, ``seg_to``: the first and last day the segment answers for (the day of its
# events, and the day before the case's next ones; ``seg_to`` None: no end).
# - ``watched``: under supervision in this segment (open, or approved owing its certificate).
# - ``closed_on``: the day of the decision, or of the end without one.
# - ``started_from``: the first day the clock runs (deemed acceptance starts it later than the
# segment); None: it does not start in this segment.
# - ``deadline_kind``, ``deadline``, ``deadline_wd``: which deadline the board shows
# (``statutory``, ``promised`` or ``certificate``), as judged at the segment's last day or
# horizon, and its working-day index; while a pause moves it, the day's deadline is the one
# ``paused_left`` working days after the day.
# - ``yellow_from``, ``red_from``, ``overtime_from``: the first day of each (overtime: from
# then the case counts as overdue); ``alert_from``: the first day it is yellow or red.
# - ``findings``: every finding as ``day:violation``, by day, comma-separated.
# - ``decision_deadline``: the decision's deadline (promised, else statutory), for early
# completion; ``working_days_used``: of a finished case.


SanctionValues = NamedTuple(  # noqa: UP014 (see above)
    "SanctionValues",
    [
        ("case_no", str),
        ("seg_from", int),
        ("seg_to", int | None),
        ("day", int),
        ("violation", str),
        ("rule", str),
        ("sanction", str),
        ("label", str | None),
        ("points", int | None),
        ("due", int | None),
        ("department", str),
        ("window_code", str | None),
    ],
)


# SanctionValues: The columns of the table of sanctions found on the board's cases, in
# order: one row is one sanction of one segment of a case (found on ``day``).


COLUMNS = BoardValues._fields
SANCTION_COLUMNS = SanctionValues._fields

_SLACK = dt.timedelta(microseconds=999_999)


def _ordinal(day: dt.date | None) -> int | None:
    return day.toordinal() if day else None


class BoardRow(NamedTuple):
    """One segment of a case on the board: its values and its sanctions'. A named tuple: a
    rebuild makes several per case, and forked workers send them back."""

    values: BoardValues
    sanctions: list[SanctionValues]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values._asdict())


def board_day(pack: RulePack, moment: dt.datetime) -> dt.date:
    """The first day whose end (:func:`~caseledger.domain.moments.end_of_day`, 23:59:59 in
    the pack's zone) an event at ``moment`` had happened by: its local day, unless it
    happened within that day's last second."""
    return pack.local_date(moment + _SLACK)


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


def case_rows(
    case_no: str, facts: list[Fact], pack_of: Callable[[list[Fact]], RulePack]
) -> list[BoardRow]:
    """The rows of every segment of the case (``facts``: all its facts, in order), each
    judged under the pack its facts name (``pack_of``: the default until acceptance names
    one, as ``evaluate`` does)."""
    rows: list[BoardRow] = []
    pack = pack_of(facts)
    seen = [board_day(pack, f.at) for f in facts]
    # the local date of each fact, by version, shared by the segments judged in one zone
    days: dict[dt.tzinfo, dict[int, dt.date]] = {}
    start = 0
    while start < len(facts):
        end = start + 1
        while end < len(facts) and seen[end] == seen[start]:
            end += 1
        until = seen[end] - dt.timedelta(days=1) if end < len(facts) else None
        known = facts if end == len(facts) else facts[:end]
        pack = pack_of(known)
        zone = days.get(pack.utc_offset)
        if zone is None:
            zone = days[pack.utc_offset] = pack.local_dates((f.version, f.at) for f in facts)
        rows.append(segment_row(case_no, known, pack, seen[start], until, zone))
        start = end
    return rows


def segment_row(
    case_no: str,
    facts: list[Fact],
    pack: RulePack,
    first: dt.date,
    last: dt.date | None,
    days: dict[int, dt.date] | None = None,
) -> BoardRow:
    """The row of the segment of ``facts`` (the case's facts up to the segment's day,
    ``first``) that answers from ``first`` to ``last`` (None: no end). ``days``: the local
    date of each fact, if worked out already."""
    if last is not None:
        clock = run_clock(facts, pack, end_of_day(last, pack.utc_offset), trace=False, days=days)
    else:
        clock = _at_horizon(facts, pack, days)
    return _row(case_no, first, last, clock, findings_of(facts, pack, clock), pack)


def _at_horizon(facts: list[Fact], pack: RulePack, days: dict[int, dt.date] | None) -> ClockReport:
    """The clock of the last segment at its horizon (or at its last event, if time brings
    nothing). Time does not change the facts, so only the clock runs until then."""
    last = facts[-1].at
    clock = run_clock(facts, pack, last, trace=False, days=days)
    for _ in range(3):  # deemed acceptance can start a clock that brings its own deadline
        day = horizon(clock)
        if day is None or day <= clock.as_of:
            break
        moment = max(end_of_day(day, pack.utc_offset), last)
        clock = run_clock(facts, pack, moment, trace=False, days=clock.days)
    return clock


def _row(
    case_no: str,
    first: dt.date,
    last: dt.date | None,
    clock: ClockReport,
    found: Findings,
    pack: RulePack,
) -> BoardRow:
    """The row of a segment from its clock and findings judged at a day after every day it
    answers for (its last, or its horizon)."""
    findings = found.findings
    started_from = _started_from(clock, first)
    kind, deadline = _shown_deadline(clock)
    if kind == "certificate":
        started_from = first  # owed since the decision, whether or not a clock ran before
    moving_pause = clock.paused and _pause_moves(clock)
    red = _red_findings(found)
    red_days = [f.day for f in findings if id(f) in red]
    yellow_days = [f.day for f in findings if id(f) not in red]
    if clock.open and started_from is not None:
        near = _yellow_from(clock, pack)
        if near is not None:
            yellow_days.append(max(near, started_from))
    overtime = [f.day for f in findings if f.violation is Violation.OVERTIME]
    closed = clock.decided_on or clock.closed_on
    received = clock.received_on
    segment = (first.toordinal(), _ordinal(last))
    values = BoardValues(
        case_no=case_no,
        seg_from=segment[0],
        seg_to=segment[1],
        watched=int(clock.watched),
        status=found.status.value,
        received_on=_ordinal(received),
        decided_on=_ordinal(clock.decided_on),
        closed_on=_ordinal(closed),
        started_from=_ordinal(started_from),
        deadline_kind=kind,
        deadline=_ordinal(deadline),
        deadline_wd=pack.calendar.working_day_index(deadline) if deadline else None,
        paused=int(clock.paused),
        paused_left=clock.working_days_left if moving_pause else None,
        yellow_from=_ordinal(min(yellow_days)) if yellow_days else None,
        red_from=_ordinal(min(red_days)) if red_days else None,
        alert_from=_ordinal(min(yellow_days + red_days)) if yellow_days or red_days else None,
        overtime_from=_ordinal(min(overtime)) if overtime else None,
        findings=",".join(f"{f.day.toordinal()}:{f.violation.value}" for f in findings),
        decision_deadline=_ordinal(clock.deadline),
        working_days_used=clock.working_days_used if clock.decided_on else None,
        provisional=int(bool(clock.provisional)),
        item_code=clock.item_code,
        case_kind=clock.case_kind.value if clock.case_kind else None,
        rule_pack=pack.name,
        pack_hash=pack.identity.content_hash,
        department=found.holder[0],
        window_code=found.holder[1],
        received_month=_month(received) if received else None,
        rating=found.rating.value if found.rating else None,
    )
    sanctions = [
        SanctionValues(
            case_no=case_no,
            seg_from=segment[0],
            seg_to=segment[1],
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
        for s in found.sanctions
    ]
    return BoardRow(values, sanctions)


def _started_from(clock: ClockReport, first: dt.date) -> dt.date | None:
    """The first day of the segment on which its clock runs: deemed acceptance for want of
    any reaction starts it the day after the notice limit ends (Art. 32)."""
    if clock.started_on is None:
        return None
    if clock.deemed_accepted and clock.first_reaction is None and clock.notice_due is not None:
        return max(first, clock.notice_due + dt.timedelta(days=1))
    return first


def _shown_deadline(clock: ClockReport) -> tuple[str | None, dt.date | None]:
    """The deadline the board shows, and which it is (:func:`~caseledger.judging.supervision.
    shown_deadline` of the evaluation, without the evaluation)."""
    if not clock.open and clock.watched:
        return "certificate", clock.certificate_due
    if clock.deadline is None:
        return None, None
    return clock.governing_limit, clock.deadline


def _pause_moves(clock: ClockReport) -> bool:
    """Whether an open pause moves the deadline day by day (it began before the deadline);
    one that began after it holds nothing back."""
    deadline = clock.deadline
    return deadline is not None and any(
        p.open and p.effect is ClockEffect.PAUSE and p.first < deadline for p in clock.periods
    )


def _red_findings(found: Findings) -> set[int]:
    """The ids of the findings that light the case red: those whose first light sanction
    says red, and those without one."""
    lights: dict[int, bool] = {}
    for sanction in found.sanctions:
        if sanction.sanction is SanctionKind.LIGHT:
            lights.setdefault(id(sanction.finding), sanction.light == Light.RED.value)
    return {id(f) for f in found.findings if lights.get(id(f), True)}


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
        pauses = [p.first for p in clock.periods if p.open and p.effect is ClockEffect.PAUSE]
        pause_start = min(pauses)
        return day if day <= pause_start else None
    return day
