"""The case of a scenario: its events recorded as the ledger would, then judged at its
``as_of`` under the pack being tested (``[[scenarios.events]]`` in a scenario file).

Given these events, at this moment, expect this light, these violations and sanctions, this
deadline: the events go through the ``Case`` aggregate, so a scenario whose events the
ledger would refuse fails with the ledger's own error, and the evaluation is the one
``caseledger status`` gives. No store is needed and nothing reads the wall clock.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from caseledger.domain.case import Case
from caseledger.domain.records import Command
from caseledger.errors import CaseLedgerError
from caseledger.judging.clock import run_clock
from caseledger.judging.evaluation import CaseEvaluation, judge
from caseledger.judging.facts import fact_from_event
from caseledger.rules.pack import RulePack
from caseledger.scenarios.files import Mismatch, Scenario

__all__ = ["SCENARIO_CASE_NO", "check_case", "scenario_evaluation"]

SCENARIO_CASE_NO = "SCENARIO-1"


def scenario_evaluation(pack: RulePack, scenario: Scenario) -> CaseEvaluation:
    """Record the scenario's events as one case and judge it at ``as_of`` (default: the
    moment of its last event); a refused event raises the ledger's error."""
    case: Case | None = None
    for number, line in enumerate(scenario.events, start=1):
        body: dict[str, Any] = dict(line.event)
        if body.get("type") == "accepted":
            body.setdefault("rule_pack", pack.name)
            body.setdefault("item_code", scenario.item)
            body.setdefault("case_kind", scenario.case_kind.value)
        try:
            command = Command.model_validate(
                {
                    "case_no": SCENARIO_CASE_NO,
                    "command_id": f"event-{number}",
                    "at": line.at,
                    "actor": line.actor,
                    "event": body,
                }
            )
            if case is None:
                case = Case.start(command, recorded_at=line.at)
            else:
                case.record(command, recorded_at=line.at)
        except (CaseLedgerError, ValidationError) as error:
            error.add_note(f"event {number} ({body.get('type')})")
            raise
    assert case is not None, "a scenario with expectations of its case has events"
    as_of = scenario.as_of or scenario.events[-1].at
    known = [f for f in map(fact_from_event, case.events) if f.at <= as_of]
    return judge(SCENARIO_CASE_NO, known, pack, run_clock(known, pack, as_of), as_of)


def check_case(pack: RulePack, scenario: Scenario) -> list[Mismatch]:
    """Every mismatch between the scenario's case, as judged, and what it expects."""
    expect = scenario.expect
    try:
        evaluation = scenario_evaluation(pack, scenario)
    except (CaseLedgerError, ValidationError) as error:
        message = _reason(error)
        if expect.refused is not None and expect.refused in message:
            return []
        return [Mismatch("events", expect.refused or "events the ledger records", message)]
    if expect.refused is not None:
        return [Mismatch("refused", expect.refused, "every event recorded")]
    actual: dict[str, Any] = {
        "light": evaluation.light.value,
        "violations": sorted({f.violation.value for f in evaluation.findings}),
        "case_sanctions": sorted({s.rule for s in evaluation.sanctions}),
        "deadline": evaluation.clock.deadline,
        "working_days_left": evaluation.clock.working_days_left,
        "status": evaluation.status.value,
    }
    expected: dict[str, Any] = expect.of_events()
    for key in ("violations", "case_sanctions"):
        if key in expected:
            expected[key] = sorted({str(v) for v in expected[key]})
    mismatches = [
        Mismatch(key, value, actual[key]) for key, value in expected.items() if value != actual[key]
    ]
    if mismatches:
        mismatches.append(Mismatch("why (the evaluation's reasons)", "", evaluation.reasons))
    return mismatches


def _reason(error: Exception) -> str:
    """What was wrong, in one line, after the event it was wrong of: the field and message
    of each pydantic error, or the ledger's own message."""
    where = "".join(f"{note}: " for note in getattr(error, "__notes__", ()))
    if isinstance(error, ValidationError):
        return where + "; ".join(
            f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg']}"
            for detail in error.errors()
        )
    return where + str(error)
