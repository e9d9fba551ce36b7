"""A board row is computed without the light or the explanation of the evaluation at the
horizon (the fast path of rebuilds): it must equal the row made from the full evaluations."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger import CaseLedger, Command, PackRegistry
from caseledger.judging.clock import run_clock
from caseledger.judging.evaluation import CaseEvaluation, judge, pack_for
from caseledger.judging.facts import Fact
from caseledger.judging.rows import BoardRow, board_row, horizon
from caseledger.readmodels.projection import BoardProjection
from caseledger.testing.strategies import case_histories, packs
from tests.conftest import fixed_clock
from tests.helpers import as_cases


def _row_from_full_evaluations(
    projection: BoardProjection, case_no: str, facts: list[Fact]
) -> BoardRow:
    """The row as the board first made it: a full evaluation at each horizon reached."""
    pack = pack_for(facts, projection.packs, projection.default_pack)
    last = facts[-1].at
    now = run_clock(facts, pack, last, trace=False)
    clock, moment = now, last
    future: CaseEvaluation | None = None
    for _ in range(3):
        day = horizon(clock)
        if day is None or day <= clock.as_of:
            break
        moment = max(dt.datetime.combine(day, dt.time(12), tzinfo=pack.utc_offset), last)
        clock = run_clock(facts, pack, moment, trace=False)
        future = judge(case_no, facts, pack, clock, moment)
    if future is None:
        future = judge(case_no, facts, pack, now, last)
    if now.started_on is None and future.clock.started_on is not None:
        now = future.clock
    return board_row(now, future, pack)


def _assert_rows_agree(ledger: CaseLedger, histories: list[list[Command]]) -> None:
    projection = ledger.read_models
    for i in range(len(histories)):
        case_no = f"P-{i}"
        facts = projection._earlier_facts(case_no, 10**6)
        for n in range(1, len(facts) + 1):  # the row after every event, not only the last
            expected = _row_from_full_evaluations(projection, case_no, facts[:n])
            assert projection._row(case_no, facts[:n]) == expected
            assert projection._row(case_no, facts[:n], {}) == expected


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(histories=st.lists(case_histories(max_events=10), min_size=1, max_size=3))
def test_board_rows_equal_the_rows_of_full_evaluations(histories: list[list[Command]]) -> None:
    commands = as_cases(histories)
    with CaseLedger("sqlite:///:memory:", clock=fixed_clock) as ledger:
        ledger.record_batch(commands)
        _assert_rows_agree(ledger, histories)


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_board_rows_equal_the_rows_of_full_evaluations_under_generated_packs(
    data: st.DataObject,
) -> None:
    registry = PackRegistry.discover()
    pack = data.draw(packs(registry))
    registry = registry.including(pack)
    histories = data.draw(
        st.lists(case_histories(pack="generated", items=("ITEM-1", "ITEM-2"), max_events=8),
                 min_size=1, max_size=2)
    )  # fmt: skip
    commands = as_cases(histories)
    with CaseLedger("sqlite:///:memory:", packs=registry, clock=fixed_clock) as ledger:
        ledger.record_batch(commands)
        _assert_rows_agree(ledger, histories)
