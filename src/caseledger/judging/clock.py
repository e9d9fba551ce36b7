"""The clock of a case: when it started, its deadlines, what paused it, how much is left.

A pure function of (facts, pack, as_of): nothing here reads the wall clock. Dates are the
pack's local dates; limits follow the counting convention of :mod:`caseledger.calendar`.

How it runs:

- **Start.** The day of acceptance. Administrative Licensing Law Art. 32: when the organ
  neither accepts, refuses nor tells the applicant what is missing within the
  ``acceptance_notice`` limit after receipt, the case counts as accepted on the day the
  materials were received; the clock then starts that day (deemed acceptance).
- **Limits.** The statutory limit of the item (else of its case kind), the promised limit of
  the item if it has one, and the extensions granted; all resolved on the start day.
- **Pauses.** An event whose pack clock rule says ``pause`` (Art. 45 procedures; missing
  documents, where the pack says so) excludes the working days after its day up to and
  including the day it ends (resume, or the last missing document supplied): its own day is
  counted, as every event's day is counted to the limit it falls in. A pause that begins on
  or before a deadline (the deadline is the end of its day, so a pause begun on the deadline
  day begins within the limit) moves that deadline by exactly its working days; one still
  open at ``as_of`` counts up to ``as_of``. A pause that begins after a deadline moves
  nothing: the limit had run out, and Art. 45 takes the time of a procedure out of a limit,
  it does not give back one already spent; its days are not taken off the days used either.
  ``restart`` starts the limit again from the day the period ends; while it is still open
  the clock stands, as in a pause.
- **As of.** Working days used are counted after the start up to ``as_of`` (or the decision),
  less paused days; left are the working days after ``as_of`` up to the deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from caseledger.calendar import Counted, WorkingCalendar
from caseledger.domain.vocabulary import CaseKind
from caseledger.judging.facts import Fact, case_kind
from caseledger.judging.frozen import reduced
from caseledger.rules.model import ClockEffect, Version
from caseledger.rules.pack import Resolved, RulePack

__all__ = ["ClockReport", "Period", "Step", "pushed", "run_clock"]

DECISIONS = ("approved", "denied")
CLOSING = ("not_accepted", "application_withdrawn")
REACTIONS = ("accepted", "not_accepted", "documents_requested", "approved", "denied")
_OPENING = frozenset({"clock_suspended", "documents_requested"})
"""The facts that can open a period of the clock (see ``_Run.periods``)."""


@dataclass(frozen=True)
class Step:
    """One line of an explanation: what was decided, from which rule."""

    what: str
    detail: str
    reference: str = ""
    day: dt.date | None = None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return reduced(self)  # pickles and copies alike when compiled (frozen.py)

    def as_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "detail": self.detail,
            "reference": self.reference,
            "day": self.day.isoformat() if self.day else None,
        }


@dataclass(frozen=True)
class Period:
    """Days excluded from (or restarting) the clock: after ``first`` up to ``last``."""

    first: dt.date
    last: dt.date | None
    effect: ClockEffect
    why: str
    reference: str
    version: int
    working_days: int = 0

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return reduced(self)  # pickles and copies alike when compiled (frozen.py)

    @property
    def open(self) -> bool:
        return self.last is None


@dataclass
class ClockReport:
    """Everything the clock worked out for one case, as of one moment."""

    as_of: dt.date
    received_on: dt.date | None = None
    notice_due: dt.date | None = None
    started_on: dt.date | None = None
    deemed_accepted: bool = False
    first_reaction: Fact | None = None
    item_code: str | None = None
    case_kind: CaseKind | None = None
    statutory_limit: int | None = None
    promised_limit: int | None = None
    extension_days: int = 0
    extension_allowed: int = 0
    late_extensions: list[Fact] = field(default_factory=list)
    statutory_deadline: dt.date | None = None
    promised_deadline: dt.date | None = None
    periods: list[Period] = field(default_factory=list)
    decided_on: dt.date | None = None
    decision: str | None = None
    closed_on: dt.date | None = None
    certificate_due: dt.date | None = None
    certificate_issued_on: dt.date | None = None
    decision_ended_on: dt.date | None = None
    limit_base: dt.date | None = None
    working_days_used: int | None = None
    working_days_left: int | None = None
    provisional: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    days: dict[int, dt.date] = field(default_factory=dict, repr=False)
    """The local date of each known fact, by version (computed once, shared by judgement)."""

    @property
    def deadline(self) -> dt.date | None:
        """The deadline supervision watches: the promised one if the item has a promise."""
        return self.promised_deadline or self.statutory_deadline

    @property
    def governing_limit(self) -> str:
        return "promised" if self.promised_deadline else "statutory"

    @property
    def open(self) -> bool:
        return self.decided_on is None and self.closed_on is None

    @property
    def watched(self) -> bool:
        """Still under supervision: open, or approved with its certificate (Art. 44) owed."""
        awaiting = (
            self.decision == "approved"
            and self.certificate_issued_on is None
            and self.decision_ended_on is None
        )
        return self.open or (awaiting and self.certificate_due is not None)

    @property
    def paused(self) -> bool:
        return any(p.open and p.effect is ClockEffect.PAUSE for p in self.periods)


def pushed(
    calendar: WorkingCalendar, base: dt.date, days: int, periods: list[Period]
) -> Counted[dt.date]:
    """The day the ``days``-th working day after ``base`` is used up, moved by every pause
    that starts on or before it (``periods`` measured, in order): the deadline is the end of
    its day, so a pause begun that day still stops the clock."""
    counted = calendar.add_working_days(base, days)
    day, provisional = counted.value, counted.provisional
    for period in periods:
        if period.effect is ClockEffect.PAUSE and base <= period.first <= day:
            moved = calendar.add_working_days(day, period.working_days)
            day, provisional = moved.value, provisional or moved.provisional
    return Counted(day, provisional)


def run_clock(
    facts: list[Fact],
    pack: RulePack,
    as_of: dt.datetime,
    *,
    trace: bool = True,
    days: dict[int, dt.date] | None = None,
) -> ClockReport:
    """Run the clock of a case's ``facts`` (all of them; those after ``as_of`` are ignored).
    ``trace=False`` skips the explanation steps (read models need only the results).
    ``days``: the local date of each fact by version, if an earlier run of these facts
    under this pack worked them out (its report's ``days``)."""
    today = pack.local_date(as_of)
    # facts are in version order, and a stream's moments never go back
    known = facts if not facts or facts[-1].at <= as_of else [f for f in facts if f.at <= as_of]
    report = ClockReport(as_of=today)
    run = _Run(pack, pack.calendar, report, known, trace, days)
    run.start()
    if report.started_on is not None:
        run.limits()
        run.periods()
        run.deadlines()
    run.outcome()
    run.usage()
    return report


class _Run:
    def __init__(
        self,
        pack: RulePack,
        calendar: WorkingCalendar,
        report: ClockReport,
        facts: list[Fact],
        trace: bool,
        known_days: dict[int, dt.date] | None = None,
    ) -> None:
        self.trace = trace
        self.pack = pack
        self.calendar = calendar
        self.report = report
        self.facts = facts
        if known_days is None:
            known_days = pack.local_dates((fact.version, fact.at) for fact in facts)
        of_type: dict[str, list[Fact]] = {}
        for fact in facts:
            same = of_type.get(fact.type)
            if same is None:
                of_type[fact.type] = [fact]
            else:
                same.append(fact)
        self._days = report.days = known_days
        self._of_type = of_type

    def day(self, fact: Fact) -> dt.date:
        return self._days[fact.version]

    def add(self, start: dt.date, days: int) -> dt.date:
        counted = self.calendar.add_working_days(start, days)
        if counted.provisional and counted.provisional not in self.report.provisional:
            self.report.provisional.append(counted.provisional)
        return counted.value

    def count(self, after: dt.date, through: dt.date) -> int:
        counted = self.calendar.count_working_days(after, through)
        if counted.provisional and counted.provisional not in self.report.provisional:
            self.report.provisional.append(counted.provisional)
        return counted.value

    def first(self, *types: str) -> Fact | None:
        """The earliest fact of any of ``types``, or None."""
        best = None
        for kind in types:
            facts = self._of_type.get(kind)
            if facts is not None and (best is None or facts[0].version < best.version):
                best = facts[0]
        return best

    def of_type(self, kind: str) -> list[Fact]:
        """The facts of type ``kind``, in order."""
        return self._of_type.get(kind, [])

    # -- start -----------------------------------------------------------------------------
    def start(self) -> None:
        report = self.report
        received = self.first("received")
        if received is None:
            return
        report.received_on = self.day(received)
        report.item_code = received.get("item_code")
        notice = self.pack.limit("acceptance_notice", report.received_on)
        if notice is not None:
            report.notice_due = self.add(report.received_on, notice.rule.working_days)
        reaction = self.first(*REACTIONS)
        report.first_reaction = reaction
        accepted = self.first("accepted")
        if accepted is not None:
            report.item_code = accepted.get("item_code")
            report.case_kind = case_kind(accepted.get("case_kind"))
        late = report.notice_due is not None and (
            (reaction is None and report.as_of > report.notice_due)
            or (reaction is not None and self.day(reaction) > report.notice_due)
        )
        refused_in_time = reaction is not None and reaction.type == "not_accepted" and not late
        if late and not refused_in_time and notice is not None:
            report.deemed_accepted = True
            report.started_on = report.received_on
            if self.trace:
                what = (
                    "no reaction"
                    if reaction is None
                    else f"{reaction.type} on {self.day(reaction)}"
                )
                report.steps.append(
                    Step(
                        "start",
                        f"deemed accepted on receipt, {report.received_on}: {what}, after the "
                        f"{notice.rule.working_days}-working-day limit ending {report.notice_due}",
                        notice.reference,
                        report.received_on,
                    )
                )
        elif accepted is not None:
            report.started_on = self.day(accepted)
            if self.trace:
                report.steps.append(
                    Step(
                        "start",
                        f"accepted on {report.started_on}; the limit runs from the next day",
                        "",
                        report.started_on,
                    )
                )
        if report.case_kind is None and report.started_on is not None:
            item = self.pack.item(report.item_code or "", report.started_on)
            report.case_kind = item.rule.case_kind if item else CaseKind.PROMISED

    # -- limits ----------------------------------------------------------------------------
    def limits(self) -> None:
        report, pack = self.report, self.pack
        assert report.started_on is not None and report.case_kind is not None
        on, code = report.started_on, report.item_code or ""
        statutory = pack.statutory_limit(code, report.case_kind, on)
        if statutory is not None:
            report.statutory_limit = statutory[0]
            if self.trace:
                refs = references(statutory[1])
                report.steps.append(
                    Step(
                        "statutory limit",
                        f"{report.statutory_limit} working days ({report.case_kind.zh})",
                        refs,
                    )
                )
        promised = pack.promised_limit(code, on)
        if promised is not None:
            report.promised_limit = promised.rule.promised_limit
            if self.trace:
                report.steps.append(
                    Step(
                        "promised limit",
                        f"{report.promised_limit} working days (item {code})",
                        f"{promised.pack}: {promised.reference}",
                    )
                )
        extension = pack.extension_limit(report.case_kind, on)
        report.extension_allowed = extension.rule.working_days if extension else 0
        for fact in self.of_type("extended"):
            days = int(fact.get("working_days"))
            report.extension_days += days
            if self.trace:
                reference = f"{extension.pack}: {extension.reference}" if extension else ""
                report.steps.append(
                    Step(
                        "extension",
                        f"+{days} working days approved by "
                        f"{fact.get('approver', {}).get('person')}",
                        reference,
                        self.day(fact),
                    )
                )

    # -- pauses and restarts -----------------------------------------------------------------
    def periods(self) -> None:
        report = self.report
        assert report.started_on is not None
        pending: set[str] = set()  # requested since the document pause opened
        doc_period: tuple[Fact, ClockEffect, str] | None = None
        suspension: tuple[Fact, ClockEffect, str] | None = None
        if not (self._of_type.keys() & _OPENING):
            return  # nothing stops or restarts the clock
        for fact in self.facts:
            day = self.day(fact)
            if fact.type == "clock_suspended" and day >= report.started_on:
                suspension = self._opening(fact, "clock_suspended", fact.get("reason"))
            elif fact.type == "clock_resumed" and suspension is not None:
                self._close(suspension, day)
                suspension = None
            elif fact.type == "documents_requested":
                after_start = day >= report.started_on and fact.version > self._start_version()
                if doc_period is None and after_start:
                    doc_period = self._opening(fact, "documents_requested", fact.get("mode"))
                if doc_period is not None:
                    pending |= {m["name"] for m in fact.get("missing", [])}
            elif fact.type == "documents_supplemented" and doc_period is not None:
                pending -= set(fact.get("documents", []))
                if not pending:
                    self._close(doc_period, day)
                    doc_period = None
        for still_open in (suspension, doc_period):
            if still_open is not None:
                self._close(still_open, None)

    def _start_version(self) -> int:
        accepted = self.first("accepted")
        return accepted.version if accepted is not None else 0

    def _opening(self, fact: Fact, event: str, detail: str) -> tuple[Fact, ClockEffect, str]:
        assert self.report.started_on is not None
        rule = self.pack.clock_rule(event, detail, self.report.started_on)
        effect = rule.rule.effect if rule else ClockEffect.NONE
        reference = f"{rule.pack}: {rule.reference}" if rule else "no clock rule: the clock runs"
        return fact, effect, reference

    def _close(self, opening: tuple[Fact, ClockEffect, str], last: dt.date | None) -> None:
        fact, effect, reference = opening
        if effect is ClockEffect.NONE:
            if self.trace:
                self.report.steps.append(
                    Step(
                        "no pause",
                        f"{fact.type} ({fact.get('reason') or fact.get('mode')}) does "
                        "not stop the clock",
                        reference,
                        self.day(fact),
                    )
                )
            return
        why = f"{fact.type} ({fact.get('reason') or fact.get('mode')})"
        self.report.periods.append(
            Period(self.day(fact), last, effect, why, reference, fact.version)
        )

    # -- deadlines -------------------------------------------------------------------------
    def measure_pauses(self) -> None:
        """Working days each pause excludes (overlapping pauses counted once)."""
        report = self.report
        if not report.periods:
            return
        covered: dt.date | None = None
        measured = []
        for period in sorted(report.periods, key=lambda p: (p.first, p.version)):
            if period.effect is ClockEffect.RESTART and period.open:
                # the limit will start again when the period ends; until then the clock
                # stands, or the case would run out of time waiting for what restarts it
                period = replace(
                    period, effect=ClockEffect.PAUSE, why=f"{period.why}, until it restarts"
                )
            if period.effect is not ClockEffect.PAUSE:
                measured.append(period)
                continue
            first = period.first if covered is None else max(period.first, covered)
            last = period.last or max(report.as_of, period.first)
            excluded = self.count(first, last) if last > first else 0
            covered = max(covered or last, last)
            measured.append(
                Period(
                    period.first,
                    period.last,
                    period.effect,
                    period.why,
                    period.reference,
                    period.version,
                    excluded,
                )
            )
            until = f"to {period.last}" if period.last else f"still open on {report.as_of}"
            if self.trace:
                report.steps.append(
                    Step(
                        "pause",
                        f"{period.why} from {period.first} {until}: {excluded} working "
                        "days not counted",
                        period.reference,
                        period.first,
                    )
                )
        report.periods = measured

    def deadlines(self) -> None:
        report = self.report
        assert report.started_on is not None
        self.measure_pauses()
        base = report.started_on
        for period in report.periods:
            if period.effect is ClockEffect.RESTART and period.last and period.last <= report.as_of:
                base = max(base, period.last)
                if self.trace:
                    report.steps.append(
                        Step(
                            "restart",
                            f"the limit starts again after {period.last} ({period.why})",
                            period.reference,
                            period.last,
                        )
                    )
        report.limit_base = base
        if report.statutory_limit is not None:
            self.timely_extensions(base, report.statutory_limit)
            extended = f" + {report.extension_days} extension" if report.extension_days else ""
            report.statutory_deadline = self.pushed(
                base, report.statutory_limit + report.extension_days
            )
            if self.trace:
                report.steps.append(
                    Step(
                        "statutory deadline",
                        f"{report.statutory_deadline}: {report.statutory_limit}{extended}"
                        f" working days after {base}, moved by the pauses before it",
                        "",
                        report.statutory_deadline,
                    )
                )
        if report.promised_limit is not None:
            report.promised_deadline = self.pushed(base, report.promised_limit)
            if self.trace:
                report.steps.append(
                    Step(
                        "promised deadline",
                        f"{report.promised_deadline}: {report.promised_limit} working "
                        f"days after {base}, moved by the pauses before it",
                        "",
                        report.promised_deadline,
                    )
                )
        self.late_pauses()

    def late_pauses(self) -> None:
        """Say of each pause begun after the deadline it would have moved that it moves
        nothing (Art. 45 leaves out a procedure's time from a limit still running)."""
        report = self.report
        deadline = report.deadline
        if not self.trace or deadline is None:
            return
        for period in report.periods:
            if period.effect is ClockEffect.PAUSE and period.first > deadline:
                report.steps.append(
                    Step(
                        "late pause",
                        f"{period.why} begins on {period.first}, after the "
                        f"{report.governing_limit} deadline {deadline}: the limit had run out, "
                        "so it moves nothing",
                        period.reference,
                        period.first,
                    )
                )

    def timely_extensions(self, base: dt.date, limit: int) -> None:
        """Art. 42: an extension is decided within the limit it extends. One recorded after
        the deadline moves nothing; supervision flags it."""
        report = self.report
        granted = 0
        for fact in self.of_type("extended"):
            if self.day(fact) <= self.pushed(base, limit + granted):
                granted += int(fact.get("working_days"))
            else:
                report.late_extensions.append(fact)
                if self.trace:
                    report.steps.append(
                        Step("late extension", f"+{fact.get('working_days')} working days "
                             "approved after the deadline: not counted", "", self.day(fact))
                    )  # fmt: skip
        report.extension_days = granted

    def pushed(self, base: dt.date, days: int) -> dt.date:
        result = pushed(self.calendar, base, days, self.report.periods)
        if result.provisional and result.provisional not in self.report.provisional:
            self.report.provisional.append(result.provisional)
        return result.value

    # -- outcome ---------------------------------------------------------------------------
    def outcome(self) -> None:
        report = self.report
        decision = self.first(*DECISIONS)
        if decision is not None:
            report.decided_on, report.decision = self.day(decision), decision.type
        closing = self.first(*CLOSING)
        if closing is not None and decision is None:
            report.closed_on = self.day(closing)
        if decision is not None and decision.type == "approved":
            limit = self.pack.limit("certificate", self.day(decision))
            if limit is not None:
                report.certificate_due = self.add(self.day(decision), limit.rule.working_days)
                if self.trace:
                    report.steps.append(
                        Step(
                            "certificate deadline",
                            f"{report.certificate_due} ({limit.rule.working_days}"
                            f" working days after approval)",
                            f"{limit.pack}: {limit.reference}",
                            report.certificate_due,
                        )
                    )
            issued = self.first("certificate_issued")
            if issued is not None:
                report.certificate_issued_on = self.day(issued)
            for fact in self.of_type("decision_altered"):  # a withdrawn, revoked or
                if fact.get("alteration") != "amended":  # cancelled decision owes nothing
                    report.decision_ended_on = self.day(fact)
                    break

    def usage(self) -> None:
        report = self.report
        if report.started_on is None or report.deadline is None:
            return
        base = report.limit_base or report.started_on
        end = max(report.decided_on or report.closed_on or report.as_of, base)
        deadline = report.deadline
        excluded = sum(
            p.working_days
            for p in report.periods
            if p.effect is ClockEffect.PAUSE and base <= p.first <= deadline
        )
        report.working_days_used = max(0, self.count(base, end) - excluded)
        if report.open:
            if report.as_of <= report.deadline:
                report.working_days_left = self.count(report.as_of, report.deadline)
            else:
                report.working_days_left = -self.count(report.deadline, report.as_of)


def references(rules: Sequence[Resolved[Version]]) -> str:
    """The references of the rules a value rests on, each provision once: where two rules of
    one pack cite the same provision (the text before its gloss or quotation, ``行政许可法
    第四十二条第一款``), the longer citation is kept, in the place of the first."""
    kept: dict[tuple[str, str], str] = {}
    for rule in rules:
        key = (rule.pack, _provision(rule.reference))
        if len(rule.reference) > len(kept.get(key, "")):
            kept[key] = rule.reference
    return "; ".join(f"{pack}: {reference}" for (pack, _), reference in kept.items())


def _provision(reference: str) -> str:
    cut = min((i for i in (reference.find(c) for c in "：（(:") if i >= 0), default=len(reference))
    return reference[:cut].strip()
