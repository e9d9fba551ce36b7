"""What the supervision office sees of a case at a moment, from its evaluation alone.

:func:`watch_of` is the one judgement every view shows: ``status`` prints the evaluation it
comes from, the board lists the cases under supervision whose light is yellow or red with
this deadline, these working days left and these violations, and the statistics count a
finished case as on time only if it has no overtime finding. The read models store rows
from which they give the same answer for any day without judging (:mod:`.rows`); a property
test holds them equal, case by case and day by day.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from caseledger.domain.vocabulary import CaseStatus, Satisfaction
from caseledger.judging.evaluation import CaseEvaluation
from caseledger.judging.judgement import Light
from caseledger.rules.model import Violation

__all__ = ["Watch", "shown_deadline", "watch_of"]


class Watch(NamedTuple):
    """A case as the supervision office sees it at an evaluation's moment."""

    case_no: str
    status: CaseStatus
    watched: bool
    """Under supervision: open, or approved with its certificate (Art. 44) owed."""
    light: Light
    violations: tuple[str, ...]
    """The kinds of violation found by then, sorted."""
    deadline_kind: str | None
    """Which deadline decides the light: ``statutory``, ``promised`` or ``certificate``."""
    deadline: dt.date | None
    working_days_left: int | None
    paused: bool
    finished: bool
    """A decision was taken (approved or denied)."""
    on_time: bool
    """Finished, with no overtime finding."""
    early: bool
    """On time, and decided before its deadline (提前办结)."""
    overdue: bool
    """An overtime finding: decided, closed or still open past a deadline, or a late
    certificate."""
    open: bool
    working_days_used: int | None
    """Of a finished case: the working days its decision took."""
    rating: Satisfaction | None


def shown_deadline(evaluation: CaseEvaluation) -> tuple[str | None, dt.date | None]:
    """The deadline that decides the case's light, and which it is: an approved case owing
    its certificate is watched for the certificate's; an open one for its promised deadline,
    else its statutory one."""
    clock = evaluation.clock
    if not clock.open and clock.watched:
        return "certificate", clock.certificate_due
    if clock.deadline is None:
        return None, None
    return clock.governing_limit, clock.deadline


def watch_of(evaluation: CaseEvaluation) -> Watch:
    """The case as the supervision office sees it at the evaluation's moment."""
    clock = evaluation.clock
    kind, deadline = shown_deadline(evaluation)
    left: int | None = None
    if kind == "certificate" and deadline is not None:
        index = evaluation.calendar.working_day_index
        left = index(deadline) - index(clock.as_of)
    elif clock.open:
        left = clock.working_days_left
    overdue = any(f.violation is Violation.OVERTIME for f in evaluation.findings)
    finished = clock.decided_on is not None
    on_time = finished and not overdue
    decided_by = clock.deadline
    return Watch(
        case_no=evaluation.case_no,
        status=evaluation.status,
        watched=clock.watched,
        light=evaluation.light,
        violations=tuple(sorted({f.violation.value for f in evaluation.findings})),
        deadline_kind=kind,
        deadline=deadline,
        working_days_left=left,
        paused=clock.paused,
        finished=finished,
        on_time=on_time,
        early=on_time and decided_by is not None and clock.decided_on < decided_by,  # type: ignore[operator]
        overdue=overdue,
        open=clock.open,
        working_days_used=clock.working_days_used if finished else None,
        rating=evaluation.rating,
    )
