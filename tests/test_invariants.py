"""Invariants of the ledger over generated histories (hypothesis)."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from caseledger import EVENT_TYPES, Case, CaseLedger, Command
from tests.conftest import fixed_clock
from tests.helpers import snapshot
from tests.histories import case_histories


def _state(case: Case) -> dict[str, object]:
    fields = dataclasses.asdict(case)
    fields.pop("_pending")
    return fields


@given(history=case_histories())
def test_replaying_any_valid_history_gives_back_the_state_that_recorded_it(
    history: list[Command],
) -> None:
    with CaseLedger("sqlite:///:memory:", clock=fixed_clock) as ledger:
        live = Case.start(history[0], recorded_at=fixed_clock())
        for command in history[1:]:
            live.record(command, recorded_at=fixed_clock())
        ledger.record_batch(history)
        assert _state(ledger.case("P-1")) == _state(live)


@given(history=case_histories())
def test_the_hash_chain_verifies_after_any_valid_history(history: list[Command]) -> None:
    with CaseLedger("sqlite:///:memory:", clock=fixed_clock) as ledger:
        for command in history:
            ledger.record(command)
        report = ledger.verify()
        assert report.ok and report.events == len(history)


@given(history=case_histories(), data=st.data())
def test_recording_any_recorded_command_again_changes_nothing(
    history: list[Command], data: st.DataObject
) -> None:
    with CaseLedger("sqlite:///:memory:", clock=fixed_clock) as ledger:
        results = [ledger.record(command) for command in history]
        before = snapshot(ledger)
        index = data.draw(st.integers(0, len(history) - 1))
        again = ledger.record(history[index])
        assert again.already_recorded and again.hash == results[index].hash
        assert snapshot(ledger) == before


@given(history=case_histories())
def test_replaying_the_same_commands_stores_the_same_bytes(history: list[Command]) -> None:
    stored = []
    for _ in range(2):
        with CaseLedger("sqlite:///:memory:", clock=fixed_clock) as ledger:
            ledger.record_batch(history)
            stored.append(snapshot(ledger))
    assert stored[0] == stored[1]


_examples = itertools.count()


@pytest.mark.postgres
@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=case_histories())
def test_sqlite_and_postgresql_store_byte_identical_events(
    postgres_url: str, history: list[Command]
) -> None:
    """One PostgreSQL schema serves every example; each example gets its own case number."""
    case_no = f"P-{next(_examples)}"
    history = [c.model_copy(update={"case_no": case_no}) for c in history]
    with (
        CaseLedger("sqlite:///:memory:", clock=fixed_clock) as lite,
        CaseLedger(postgres_url, clock=fixed_clock) as pg,
    ):
        lite.record_batch(history)
        pg.record_batch(history)
        rows = [
            [(e.originator_version, e.topic, e.state) for e in ledger.store.stored_events(case_no)]
            for ledger in (lite, pg)
        ]
    assert rows[0] == rows[1] and len(rows[0]) == len(history)


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_the_history_strategy_can_reach_every_event_type(event_type: str) -> None:
    """The generator is only useful if it covers the lifecycle."""
    found = find(
        case_histories(max_events=20),
        lambda history: any(c.type == event_type for c in history),
        settings=settings(max_examples=5000, database=None, phases=[Phase.generate]),
    )
    assert any(c.type == event_type for c in found)
