"""Running a scenario: every expectation it has checked against the pack under test, the
rules on their dates here, the case its events make through :func:`.cases.check_case`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from caseledger.calendar import Counted
from caseledger.errors import PackError
from caseledger.rules.pack import RulePack
from caseledger.rules.validation import check_pack
from caseledger.scenarios.cases import check_case
from caseledger.scenarios.files import Mismatch, Parameters, Scenario, ScenarioResult

__all__ = ["run_scenario"]


def run_scenario(pack: RulePack, scenario: Scenario, *, file: str = "") -> ScenarioResult:
    """Check every expectation of ``scenario`` against ``pack`` (with the scenario's
    parameter values, if it gives any): the rules on their dates, and the case its events
    make, recorded and judged as the ledger would (:func:`.cases.check_case`)."""
    if scenario.parameters:
        try:
            pack = _with_parameters(pack, scenario.parameters, file)
        except PackError as error:
            mismatch = Mismatch("parameters", "values the pack accepts", str(error))
            return ScenarioResult(file, scenario.name, [mismatch])
    checks = _Checks(pack, scenario)
    checks.run()
    if scenario.events and not pack.missing_parameters:
        checks.mismatches += check_case(pack, scenario)
    return ScenarioResult(file, scenario.name, checks.mismatches)


def _with_parameters(pack: RulePack, values: Parameters, file: str) -> RulePack:
    """``pack`` with ``values``, checked as the pack that gives them would be."""
    given = pack.with_parameters(values, source=file)
    problems = check_pack(given)
    if problems:
        raise PackError(problems)
    return given


class _Checks:
    """The expectations of one scenario that need no case, each checked against the pack."""

    def __init__(self, pack: RulePack, scenario: Scenario) -> None:
        self.pack = pack
        self.scenario = scenario
        self.expect = scenario.expect
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
        pack, scenario, expect = self.pack, self.scenario, self.expect
        missing = pack.missing_parameters
        if expect.missing_parameters is not None:
            self.check("missing_parameters", sorted(expect.missing_parameters), missing)
        if missing:
            others = expect.model_dump(exclude_defaults=True, exclude={"missing_parameters"})
            if expect.missing_parameters is None or others:
                self.mismatches.append(
                    Mismatch(
                        "parameters",
                        "a value for each parameter (parameters = { name = YYYY-MM-DD } in "
                        "the scenario or its file)",
                        f"no value for {', '.join(missing)}: the pack judges no case",
                    )
                )
            return
        on = scenario.accepted_on or scenario.received_on or scenario.decided_on
        if on is not None:
            self.limits(on)
        else:  # a limit is the one in force on a day: without a day there is none to check
            for what in (
                "statutory_limit", "statutory_deadline", "extension_limit", "promised_limit",
                "promised_deadline",
            ):  # fmt: skip
                if getattr(expect, what) is not None:
                    self.need("accepted_on", None, what)
        self.named_limit_deadline(
            "acceptance_notice_deadline", "received_on", scenario.received_on, "acceptance_notice"
        )
        self.named_limit_deadline(
            "certificate_deadline", "decided_on", scenario.decided_on, "certificate"
        )
        for day, working in expect.working_days.items():
            self.check(f"working day {day}", working, pack.calendar.is_working_day(day))
        for key, effect in expect.clock.items():
            event, _, detail = key.partition(".")
            clock_day = self.need("accepted_on", on, f"clock {key}")
            rule = pack.clock_rule(event, detail, clock_day) if clock_day else None
            self.check(f"clock {key}", effect, rule.rule.effect if rule else None)
        if expect.yellow is not None and self.need("accepted_on", on, "yellow") and on is not None:
            threshold = pack.yellow_threshold(on)
            measured: Any = "none"
            if threshold is not None:
                dumped = threshold.rule.model_dump(include={"working_days_left", "share_used"})
                measured = {k: v for k, v in dumped.items() if v is not None}
            self.check("yellow", expect.yellow, measured)
        for check in expect.authority:
            scope = pack.authorising_scope(
                check.actor, check.decision, scenario.item, scenario.case_kind, check.on
            )
            label = f"authority of {check.actor.role}@{check.actor.department} to {check.decision}"
            self.check(f"{label} on {check.on}", check.allowed, scope is not None)
        for violation, keys in expect.sanctions.items():
            sanction_day = self.need("accepted_on", on, f"sanctions for {violation.value}")
            rules = pack.sanction_rules(violation, sanction_day) if sanction_day else []
            found_keys = sorted(r.key for r in rules)
            self.check(f"sanctions for {violation.value}", sorted(keys), found_keys)
        for name, days in expect.limits.items():
            limit_day = self.need("accepted_on", on, f"limit {name}")
            found = pack.limit(name, limit_day) if limit_day else None
            self.check(f"limit {name}", days, found.rule.working_days if found else None)
        self.check("score_base", expect.score_base, pack.score_base)
        if expect.provisional is not None:
            actual_provisional = any(reason is not None for reason in self.provisional)
            self.check("provisional", expect.provisional, actual_provisional)

    def named_limit_deadline(
        self, what: str, start_field: str, start: dt.date | None, limit_name: str
    ) -> None:
        """Check the expected ``what``: the named limit counted from ``start``."""
        expected = getattr(self.expect, what)
        if expected is None:
            return
        day = self.need(start_field, start, what)
        limit = self.pack.limit(limit_name, day) if day else None
        if day and limit:
            self.check(what, expected, self.deadline(day, limit.rule.working_days))

    def limits(self, on: dt.date) -> None:
        pack, scenario, expect = self.pack, self.scenario, self.expect
        statutory = pack.statutory_limit(scenario.item, scenario.case_kind, on)
        days = statutory[0] if statutory else None
        self.check("statutory_limit", expect.statutory_limit, days)
        if expect.statutory_deadline is not None:
            accepted = self.need("accepted_on", scenario.accepted_on, "statutory_deadline")
            if accepted and days is not None:
                actual = self.deadline(accepted, days)
                self.check("statutory_deadline", expect.statutory_deadline, actual)
        extension = pack.extension_limit(scenario.case_kind, on)
        self.check(
            "extension_limit",
            expect.extension_limit,
            extension.rule.working_days if extension else None,
        )
        promised = pack.promised_limit(scenario.item, on)
        promised_days = promised.rule.promised_limit if promised else None
        self.check("promised_limit", expect.promised_limit, promised_days)
        if expect.promised_deadline is not None:
            accepted = self.need("accepted_on", scenario.accepted_on, "promised_deadline")
            if accepted and promised_days is not None:
                self.check(
                    "promised_deadline",
                    expect.promised_deadline,
                    self.deadline(accepted, promised_days),
                )
