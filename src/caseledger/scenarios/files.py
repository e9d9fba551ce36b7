"""Scenario files: a pack's tests, as data, with full-sentence names.

A scenario file (TOML, in the pack's ``scenarios/`` folder) holds ``[[scenarios]]``, each
with a ``name`` that says in a sentence what must hold, the facts of a case, and what is
expected of the pack, e.g.::

    [[scenarios]]
    name = "A promised case accepted before the Spring Festival is due on 19 March 2026."
    item = "ANY-1"
    case_kind = "promised"
    accepted_on = 2026-02-13
    [scenarios.expect]
    statutory_limit = 20
    statutory_deadline = 2026-03-19

Expectations that can be checked: ``statutory_limit``, ``statutory_deadline``,
``extension_limit``, ``promised_limit``, ``promised_deadline``, ``certificate_deadline``
(needs ``decided_on``), ``acceptance_notice_deadline`` (needs ``received_on``),
``provisional`` (whether a deadline depends on an unpublished holiday schedule),
``working_days`` (date → whether it is a working day), ``clock`` (clock key → effect),
``yellow`` (the threshold, or ``"none"``), ``authority`` (who may take which decision on a
date), ``sanctions`` (violation → the sanction rule keys that apply), ``limits`` (a named
limit → its working days), ``score_base`` and ``missing_parameters``.

A pack with parameters (``[parameters.NAME]``, a date its source does not give) is tested
with values given by the file (``parameters = { transfer_date = 2019-06-15 }`` before its
first ``[[scenarios]]``) or by a scenario (its own ``parameters``, which win). A scenario
judged by a pack with a parameter still lacking a value fails, unless it expects exactly
that: ``missing_parameters = ["transfer_date"]`` (the pack refuses to judge).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from caseledger.calendar import Counted
from caseledger.domain.values import Actor, Slug
from caseledger.domain.vocabulary import CaseKind, CaseStatus
from caseledger.errors import PackError, PackProblem
from caseledger.rules.loader import field_path, locate
from caseledger.rules.model import ClockEffect, Decision, Violation
from caseledger.rules.pack import RulePack
from caseledger.rules.validation import check_pack

__all__ = [
    "EVENT_EXPECTATIONS",
    "CaseCheck",
    "Mismatch",
    "Scenario",
    "ScenarioEvent",
    "ScenarioFile",
    "ScenarioResult",
    "load_scenarios",
    "run_scenario",
]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AuthorityCheck(_Strict):
    """May ``actor`` take ``decision`` on ``on``?"""

    actor: Actor
    decision: Decision
    on: dt.date
    allowed: bool


class Expectation(_Strict):
    statutory_limit: int | None = None
    statutory_deadline: dt.date | None = None
    extension_limit: int | None = None
    promised_limit: int | None = None
    promised_deadline: dt.date | None = None
    certificate_deadline: dt.date | None = None
    acceptance_notice_deadline: dt.date | None = None
    provisional: bool | None = None
    working_days: dict[dt.date, bool] = Field(default_factory=dict)
    clock: dict[str, ClockEffect] = Field(default_factory=dict)
    yellow: dict[str, float] | Literal["none"] | None = None
    authority: list[AuthorityCheck] = Field(default_factory=list)
    sanctions: dict[Violation, list[str]] = Field(default_factory=dict)
    limits: dict[str, int] = Field(default_factory=dict)
    score_base: int | None = None
    missing_parameters: list[Slug] | None = Field(
        default=None,
        description="The parameters still without a value: the pack refuses to judge.",
    )
    # -- of the case the scenario's events make, judged at its ``as_of``
    light: Literal["green", "yellow", "red"] | None = None
    violations: list[Violation] | None = Field(
        default=None, description="Every violation found, in any order ([] for none)."
    )
    case_sanctions: list[str] | None = Field(
        default=None, description="The keys of the sanction rules the findings bring."
    )
    deadline: dt.date | None = Field(
        default=None, description="The deadline supervision watches (promised, else statutory)."
    )
    working_days_left: int | None = None
    status: CaseStatus | None = None
    refused: str | None = Field(
        default=None,
        min_length=1,
        description="The ledger refuses one of the events, with an error saying this "
        "(nothing else can be expected of a case it refuses).",
    )

    def of_events(self) -> dict[str, Any]:
        """The expectations that need the scenario's events."""
        return self.model_dump(include=EVENT_EXPECTATIONS, exclude_none=True)


EVENT_EXPECTATIONS = {
    "light", "violations", "case_sanctions", "deadline", "working_days_left", "status", "refused"
}  # fmt: skip
"""What only a case made of events can show (checked by ``caseledger.projections``)."""

_CLERK = Actor(person="A1", role="window_a", department="scenario department", window="W01")


class ScenarioEvent(_Strict):
    """One event of a scenario's case, as a line of the ledger's JSON Lines without its case
    number and command id: ``accepted`` may leave out ``rule_pack`` (the pack under test),
    ``item_code`` and ``case_kind`` (the scenario's)."""

    at: dt.datetime = Field(description="When it happened, with its UTC offset.")
    actor: Actor = Field(default=_CLERK, description="Who did it (a window clerk if left out).")
    event: dict[str, Any] = Field(description="The event body, with its type.")

    @model_validator(mode="after")
    def _a_moment_and_a_type(self) -> ScenarioEvent:
        if self.at.tzinfo is None:
            raise ValueError("at needs its UTC offset, e.g. 2026-03-02T09:00:00+08:00")
        if not isinstance(self.event.get("type"), str):
            raise ValueError('event needs its type, e.g. event = { type = "received", ... }')
        return self


Parameters = dict[Slug, dt.date]


class Scenario(_Strict):
    name: str = Field(min_length=12, description="What must hold, in a full sentence.")
    item: str = "ANY-ITEM"
    case_kind: CaseKind = CaseKind.PROMISED
    received_on: dt.date | None = None
    accepted_on: dt.date | None = None
    decided_on: dt.date | None = None
    parameters: Parameters = Field(
        default_factory=dict,
        description="Values of the pack's parameters (they win over the file's).",
    )
    events: list[ScenarioEvent] = Field(
        default_factory=list, description="The case's events, in the order they happened."
    )
    as_of: dt.datetime | None = Field(
        default=None, description="The moment the case is judged (default: its last event)."
    )
    expect: Expectation

    @model_validator(mode="after")
    def _events_for_case_expectations(self) -> Scenario:
        wanted = self.expect.of_events()
        if not self.expect.model_dump(exclude_defaults=True):
            raise ValueError("expect names nothing to check: give at least one expectation")
        if wanted and not self.events:
            raise ValueError(
                f"expectations {', '.join(sorted(wanted))} judge a case: "
                "give its [[scenarios.events]]"
            )
        if self.expect.refused is not None and len(wanted) > 1:
            raise ValueError(
                "refused cannot go with other expectations of the case: a refused case is "
                "not recorded, so nothing else can be judged"
            )
        if self.as_of is None:
            return self
        if self.as_of.tzinfo is None:
            raise ValueError("as_of needs its UTC offset, e.g. 2026-03-02T17:00:00+08:00")
        late = [n for n, e in enumerate(self.events, start=1) if e.at > self.as_of]
        if late:
            raise ValueError(
                f"event {late[0]} is after as_of: a scenario's case is judged after all its "
                "events (move as_of, or leave the later events out)"
            )
        return self


class ScenarioFile(_Strict):
    parameters: Parameters = Field(
        default_factory=dict, description="Values of the pack's parameters for every scenario."
    )
    scenarios: list[Scenario] = Field(min_length=1)


@dataclass(frozen=True)
class Mismatch:
    what: str
    expected: Any
    actual: Any

    def __str__(self) -> str:
        return f"{self.what}: expected {self.expected!r}, got {self.actual!r}"


@dataclass(frozen=True)
class ScenarioResult:
    file: str
    name: str
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.mismatches


def load_scenarios(path: Path) -> ScenarioFile:
    """Read one scenario file, or raise :class:`PackError` naming file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except OSError as error:
        problem = PackProblem(str(path), "", f"cannot read: {error.strerror}", "check the path")
        raise PackError([problem]) from error
    except tomllib.TOMLDecodeError as error:
        problem = PackProblem(str(path), "", f"not valid TOML: {error}", "fix the syntax")
        raise PackError([problem]) from None
    try:
        loaded = ScenarioFile.model_validate(raw)
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            line = locate(text, detail["loc"])
            where = field_path(detail["loc"]) + (f" (line {line})" if line else "")
            problems.append(PackProblem(str(path), where, detail["msg"]))
        raise PackError(problems) from None
    if not loaded.parameters:
        return loaded
    scenarios = [
        s.model_copy(update={"parameters": {**loaded.parameters, **s.parameters}})
        for s in loaded.scenarios
    ]
    return loaded.model_copy(update={"scenarios": scenarios})


CaseCheck = Callable[[RulePack, "Scenario"], list["Mismatch"]]
"""Checks the expectations of a scenario's case: records its events and judges it (the
projections layer gives one: ``caseledger.scenarios.cases.check_case``)."""


def run_scenario(
    pack: RulePack, scenario: Scenario, *, file: str = "", case_check: CaseCheck | None = None
) -> ScenarioResult:
    """Check every expectation of ``scenario`` against ``pack`` (with the scenario's
    parameter values, if it gives any); the expectations of its events' case through
    ``case_check``."""
    if scenario.parameters:
        try:
            pack = _with_parameters(pack, scenario.parameters, file)
        except PackError as error:
            mismatch = Mismatch("parameters", "values the pack accepts", str(error))
            return ScenarioResult(file, scenario.name, [mismatch])
    checks = _Checks(pack, scenario)
    checks.run()
    if scenario.events and not pack.missing_parameters:
        if case_check is None:
            checks.mismatches.append(
                Mismatch("events", "a runner that judges cases", "none given (case_check)")
            )
        else:
            checks.mismatches += case_check(pack, scenario)
    return ScenarioResult(file, scenario.name, checks.mismatches)


def _with_parameters(pack: RulePack, values: Parameters, file: str) -> RulePack:
    """``pack`` with ``values``, checked as the pack that gives them would be."""
    given = pack.with_parameters(values, source=file)
    problems = check_pack(given)
    if problems:
        raise PackError(problems)
    return given


class _Checks:
    def __init__(self, pack: RulePack, scenario: Scenario) -> None:
        self.pack = pack
        self.s = scenario
        self.e = scenario.expect
        self.mismatches: list[Mismatch] = []
        self.provisional: list[str | None] = []

    def check(self, what: str, expected: Any, actual: Any) -> None:
        if expected is not None and expected != actual:
            self.mismatches.append(Mismatch(what, expected, actual))

    def need(self, what: str, value: dt.date | None, needed_for: str) -> dt.date | None:
        if value is None:
            self.mismatches.append(Mismatch(needed_for, f"a scenario with {what}", None))
        return value

    def deadline(self, start: dt.date, days: int) -> dt.date:
        counted: Counted[dt.date] = self.pack.calendar.add_working_days(start, days)
        self.provisional.append(counted.provisional)
        return counted.value

    def run(self) -> None:
        pack, s, e = self.pack, self.s, self.e
        missing = pack.missing_parameters
        if e.missing_parameters is not None:
            self.check("missing_parameters", sorted(e.missing_parameters), missing)
        if missing:
            others = e.model_dump(exclude_defaults=True, exclude={"missing_parameters"})
            if e.missing_parameters is None or others:
                self.mismatches.append(
                    Mismatch(
                        "parameters",
                        "a value for each parameter (parameters = { name = YYYY-MM-DD } in "
                        "the scenario or its file)",
                        f"no value for {', '.join(missing)}: the pack judges no case",
                    )
                )
            return
        on = s.accepted_on or s.received_on or s.decided_on
        if on is not None:
            self.limits(on)
        else:  # a limit is the one in force on a day: without a day there is none to check
            for what in (
                "statutory_limit", "statutory_deadline", "extension_limit", "promised_limit",
                "promised_deadline",
            ):  # fmt: skip
                if getattr(e, what) is not None:
                    self.need("accepted_on", None, what)
        self.named_limit_deadline(
            "acceptance_notice_deadline", "received_on", s.received_on, "acceptance_notice"
        )
        self.named_limit_deadline("certificate_deadline", "decided_on", s.decided_on, "certificate")
        for day, working in e.working_days.items():
            self.check(f"working day {day}", working, pack.calendar.is_working_day(day))
        for key, effect in e.clock.items():
            event, _, detail = key.partition(".")
            clock_day = self.need("accepted_on", on, f"clock {key}")
            rule = pack.clock_rule(event, detail, clock_day) if clock_day else None
            self.check(f"clock {key}", effect, rule.rule.effect if rule else None)
        if e.yellow is not None and self.need("accepted_on", on, "yellow") and on is not None:
            threshold = pack.yellow_threshold(on)
            measured: Any = "none"
            if threshold is not None:
                dumped = threshold.rule.model_dump(include={"working_days_left", "share_used"})
                measured = {k: v for k, v in dumped.items() if v is not None}
            self.check("yellow", e.yellow, measured)
        for check in e.authority:
            scope = pack.authorising_scope(
                check.actor, check.decision, s.item, s.case_kind, check.on
            )
            label = f"authority of {check.actor.role}@{check.actor.department} to {check.decision}"
            self.check(f"{label} on {check.on}", check.allowed, scope is not None)
        for violation, keys in e.sanctions.items():
            sanction_day = self.need("accepted_on", on, f"sanctions for {violation.value}")
            rules = pack.sanction_rules(violation, sanction_day) if sanction_day else []
            found_keys = sorted(r.key for r in rules)
            self.check(f"sanctions for {violation.value}", sorted(keys), found_keys)
        for name, days in e.limits.items():
            limit_day = self.need("accepted_on", on, f"limit {name}")
            found = pack.limit(name, limit_day) if limit_day else None
            self.check(f"limit {name}", days, found.rule.working_days if found else None)
        self.check("score_base", e.score_base, pack.score_base)
        if e.provisional is not None:
            actual_provisional = any(reason is not None for reason in self.provisional)
            self.check("provisional", e.provisional, actual_provisional)

    def named_limit_deadline(
        self, what: str, start_field: str, start: dt.date | None, limit_name: str
    ) -> None:
        """Check the expected ``what``: the named limit counted from ``start``."""
        expected = getattr(self.e, what)
        if expected is None:
            return
        day = self.need(start_field, start, what)
        limit = self.pack.limit(limit_name, day) if day else None
        if day and limit:
            self.check(what, expected, self.deadline(day, limit.rule.working_days))

    def limits(self, on: dt.date) -> None:
        pack, s, e = self.pack, self.s, self.e
        statutory = pack.statutory_limit(s.item, s.case_kind, on)
        days = statutory[0] if statutory else None
        self.check("statutory_limit", e.statutory_limit, days)
        if e.statutory_deadline is not None:
            accepted = self.need("accepted_on", s.accepted_on, "statutory_deadline")
            if accepted and days is not None:
                actual = self.deadline(accepted, days)
                self.check("statutory_deadline", e.statutory_deadline, actual)
        extension = pack.extension_limit(s.case_kind, on)
        self.check(
            "extension_limit", e.extension_limit, extension.rule.working_days if extension else None
        )
        promised = pack.promised_limit(s.item, on)
        promised_days = promised.rule.promised_limit if promised else None
        self.check("promised_limit", e.promised_limit, promised_days)
        if e.promised_deadline is not None:
            accepted = self.need("accepted_on", s.accepted_on, "promised_deadline")
            if accepted and promised_days is not None:
                self.check(
                    "promised_deadline", e.promised_deadline, self.deadline(accepted, promised_days)
                )
