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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from caseledger.domain.values import Actor, Slug
from caseledger.domain.vocabulary import CaseKind, CaseStatus
from caseledger.errors import PackError, PackProblem
from caseledger.rules.loader import field_path, locate
from caseledger.rules.model import ClockEffect, Decision, Violation

__all__ = [
    "EVENT_EXPECTATIONS",
    "Mismatch",
    "Scenario",
    "ScenarioEvent",
    "ScenarioFile",
    "ScenarioResult",
    "load_scenarios",
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
"""What only a case made of events can show (checked by :mod:`caseledger.scenarios.cases`)."""

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
