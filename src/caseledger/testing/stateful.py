"""A hypothesis state machine that drives a ledger through commands.

Each step receives a new case, records an event the lifecycle allows, tries one it does
not allow, or resends a recorded command. After every step it checks that the state
replayed from the store equals the live state it kept, that the refused command changed
nothing, and that every hash chain verifies. Use it as is, or subclass it to drive your own
ledger URL and pack::

    from caseledger.testing.stateful import LedgerMachine

    class CityLedger(LedgerMachine):
        pack = "my_city"
        items = ("MC-0001", "MC-0002")

    TestCityLedger = CityLedger.TestCase
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from caseledger.domain.case import Case
from caseledger.domain.events import EVENT_TYPES
from caseledger.domain.moments import CHINA_TIME as CST
from caseledger.domain.records import Command
from caseledger.errors import CaseAlreadyExists, IllegalTransition
from caseledger.ledger import CaseLedger
from caseledger.testing.strategies import STAFF, event_body

__all__ = ["LedgerMachine", "TestLedgerMachine"]

_ANY_BODY: dict[str, dict[str, Any]] = {
    "received": {"channel": "window", "applicant": "APP"},
    "accepted": {"item_code": "ITEM-1", "case_kind": "promised", "rule_pack": "national"},
    "not_accepted": {"reason": "r"},
    "documents_requested": {"mode": "correction", "missing": [{"name": "X"}],
                            "notice_date": "2024-01-02"},
    "documents_supplemented": {"documents": ["never requested"]},
    "transferred": {"to": {"kind": "window", "code": "W9"}, "reason": "r"},
    "clock_suspended": {"reason": "hearing"},
    "clock_resumed": {},
    "extended": {"working_days": 5, "reason": "r",
                 "approver": {"person": "H", "role": "department_head", "department": "D1"}},
    "stage_completed": {"stage": "decision"},
    "escalated": {"to": "higher_level", "reason": "r"},
    "approved": {"decision_no": "D"},
    "denied": {"decision_no": "D", "reason": "r"},
    "application_withdrawn": {},
    "certificate_issued": {"certificate_no": "C"},
    "decision_altered": {"alteration": "revoked", "reason": "r",
                         "requested_by": {"kind": "department", "code": "S"}},
    "complaint_filed": {"complaint_id": "T-X", "summary": "s"},
    "complaint_resolved": {"complaint_id": "NEVER-FILED", "outcome": "upheld"},
    "service_rated": {"satisfaction": "satisfied", "source": "follow_up_call"},
}  # fmt: skip
"""A schema-valid body of every event type, for commands the lifecycle must refuse."""


def _state(case: Case) -> dict[str, Any]:
    state = dataclasses.asdict(case)
    state.pop("_pending")
    return state


class LedgerMachine(RuleBasedStateMachine):
    """Drives a :class:`CaseLedger` and checks it against a live model after every step."""

    url = "sqlite:///:memory:"
    pack = "national"
    items: tuple[str, ...] = ("ITEM-1",)
    start = dt.datetime(2026, 3, 2, 9, tzinfo=CST)

    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        self.recorded_at = dt.datetime(2030, 1, 1, tzinfo=CST)
        self.ledger = CaseLedger(self.url, clock=lambda: self.recorded_at)
        self.model: dict[str, Case] = {}
        self.last: dict[str, Command] = {}
        self.moment = self.start
        self.count = 0

    def _command(self, case_no: str, event_type: str, body: dict[str, Any], actor: Any) -> Command:
        self.count += 1
        return Command.model_validate(
            {
                "case_no": case_no,
                "command_id": f"{case_no}-{self.count}",
                "at": self.moment.isoformat(),
                "actor": actor,
                "event": {"type": event_type, **body},
            }
        )

    @rule(target=cases, actor=STAFF)
    def receive(self, actor: dict[str, str]) -> str:
        case_no = f"M-{len(self.model) + 1}"
        command = self._command(case_no, "received", _ANY_BODY["received"], actor)
        self.ledger.record(command)
        self.model[case_no] = Case.start(command, recorded_at=self.recorded_at)
        self.last[case_no] = command
        return case_no

    @rule(case_no=cases, data=st.data(), minutes=st.integers(0, 60 * 24 * 7), actor=STAFF)
    def record_an_allowed_event(
        self, case_no: str, data: st.DataObject, minutes: int, actor: dict[str, str]
    ) -> None:
        case = self.model[case_no]
        allowed = case.allowed_actions()
        if not allowed:
            return
        action = data.draw(st.sampled_from(allowed))
        self.moment += dt.timedelta(minutes=minutes)
        body = data.draw(
            st.composite(lambda draw: event_body(draw, action, case, list(self.items), self.pack))()
        )
        command = self._command(case_no, action, body, actor)
        self.ledger.record(command)
        case.record(command, recorded_at=self.recorded_at)
        self.last[case_no] = command

    @rule(case_no=cases, data=st.data())
    def an_event_the_lifecycle_forbids_is_refused(self, case_no: str, data: st.DataObject) -> None:
        case = self.model[case_no]
        forbidden = sorted(set(EVENT_TYPES) - set(case.allowed_actions()))
        action = data.draw(st.sampled_from(forbidden))
        command = self._command(case_no, action, _ANY_BODY[action], self.last[case_no].actor)
        before = self.ledger.store.stored_events(case_no)
        try:
            self.ledger.record(command)
        except (IllegalTransition, CaseAlreadyExists):
            pass
        else:
            raise AssertionError(f"{action} was recorded on a {case.status.value} case")
        assert self.ledger.store.stored_events(case_no) == before

    @precondition(lambda self: bool(self.last))
    @rule(case_no=cases)
    def resending_the_last_command_records_nothing(self, case_no: str) -> None:
        before = self.ledger.store.stored_events(case_no)
        result = self.ledger.record(self.last[case_no])
        assert result.already_recorded
        assert self.ledger.store.stored_events(case_no) == before

    @invariant()
    def replayed_state_equals_live_state(self) -> None:
        for case_no, live in self.model.items():
            assert _state(self.ledger.case(case_no)) == _state(live)

    @invariant()
    def every_chain_verifies(self) -> None:
        report = self.ledger.verify()
        assert report.ok, report.breaks

    def teardown(self) -> None:
        self.ledger.close()


TestLedgerMachine = LedgerMachine.TestCase
