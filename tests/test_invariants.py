"""Invariants of the ledger over generated histories (hypothesis)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from caseledger import (
    EVENT_TYPES,
    Case,
    CaseLedger,
    Command,
    PackRegistry,
    RecordedEvent,
)
from caseledger.domain.chain import GENESIS_HASH
from caseledger.judging.clock import run_clock
from caseledger.judging.evaluation import evaluate
from caseledger.judging.facts import Fact, fact_from_event
from caseledger.testing.stateful import as_the_ledger_records
from caseledger.testing.strategies import case_histories, dates_near_holidays, packs
from tests.conftest import fixed_clock
from tests.helpers import examples, snapshot


def _state(case: Case) -> dict[str, object]:
    fields = dataclasses.asdict(case)
    fields.pop("_pending")
    return fields


@given(history=case_histories())
def test_replaying_any_valid_history_gives_back_the_state_that_recorded_it(
    history: list[Command],
) -> None:
    with CaseLedger("sqlite:///:memory:", clock=fixed_clock) as ledger:
        stamped = [as_the_ledger_records(ledger, c) for c in history]
        live = Case.start(stamped[0], recorded_at=fixed_clock())
        for command in stamped[1:]:
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
@settings(max_examples=examples(15), suppress_health_check=[HealthCheck.function_scoped_fixture])
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


# -- deadline logic --------------------------------------------------------------------------
CST = dt.timezone(dt.timedelta(hours=8))
REGISTRY = PackRegistry.discover()
NATIONAL = REGISTRY.get("national")
STAFF = {"person": "A1", "role": "window_a", "department": "D1", "window": "W1"}


def facts_of(events: list[tuple[dt.date, dict[str, object]]]) -> list[Fact]:
    """Facts of one case from (day, event) pairs, chained as the ledger would."""
    facts, prev = [], GENESIS_HASH
    for version, (day, event) in enumerate(events, start=1):
        moment = dt.datetime.combine(day, dt.time(10), tzinfo=CST)
        command = Command.model_validate(
            {"case_no": "K-1", "command_id": f"K-{version}", "at": moment.isoformat(),
             "actor": STAFF, "event": event}
        )  # fmt: skip
        recorded = RecordedEvent.chain(command, version=version, prev_hash=prev, recorded_at=moment)
        prev = recorded.hash
        facts.append(fact_from_event(recorded))
    return facts


@given(
    start=dates_near_holidays(),
    kind=st.sampled_from(["promised", "joint"]),
    into=st.integers(0, 19),
    k=st.integers(0, 40),
)
def test_a_pause_of_k_working_days_moves_the_deadline_by_exactly_k(
    start: dt.date, kind: str, into: int, k: int
) -> None:
    calendar = NATIONAL.calendar
    accepted = {"type": "accepted", "item_code": "ANY", "case_kind": kind, "rule_pack": "national"}
    base = [(start, {"type": "received", "channel": "window", "applicant": "A"}), (start, accepted)]
    paused_on = calendar.add_working_days(start, into).value
    resumed_on = calendar.add_working_days(paused_on, k).value
    notice = {"number": "N", "date": paused_on.isoformat()}
    pause = [
        (paused_on, {"type": "clock_suspended", "reason": "expert_review", "notice": notice}),
        (resumed_on, {"type": "clock_resumed"}),
    ]
    as_of = dt.datetime.combine(resumed_on, dt.time(23), tzinfo=CST)
    without = run_clock(facts_of(base), NATIONAL, as_of).statutory_deadline
    with_pause = run_clock(facts_of(base + pause), NATIONAL, as_of).statutory_deadline
    assert without is not None and with_pause is not None
    assert calendar.count_working_days(without, with_pause).value == k


@settings(max_examples=examples(40))
@given(
    pack=packs(REGISTRY),
    data=st.data(),
    offsets=st.lists(st.integers(0, 150), min_size=2, max_size=6),
)
def test_lights_only_worsen_as_as_of_advances_while_nothing_happens(
    pack: object, data: st.DataObject, offsets: list[int]
) -> None:
    registry = REGISTRY.including(pack)  # type: ignore[arg-type]
    history = data.draw(case_histories(pack="generated", items=("ITEM-1", "ITEM-2")))
    facts = [fact_from_event(e) for e in _recorded(history)]
    last = max(f.at for f in facts)
    ranks = []
    for offset in sorted(offsets):
        moment = last + dt.timedelta(days=offset)
        ranks.append(evaluate("P-1", facts, registry, moment).light.rank)
    assert ranks == sorted(ranks)


def _recorded(history: list[Command]) -> list[RecordedEvent]:
    case = Case.start(history[0], recorded_at=history[0].at)
    for command in history[1:]:
        case.record(command, recorded_at=command.at)
    return case.events


@settings(max_examples=examples(30))
@given(history=case_histories(), data=st.data())
def test_the_hash_chain_fails_after_any_single_mutation_of_any_history(
    tmp_path_factory: pytest.TempPathFactory, history: list[Command], data: st.DataObject
) -> None:
    from tests import tamper

    url = f"sqlite:///{tmp_path_factory.mktemp('chain')}/ledger.db"
    with CaseLedger(url, clock=fixed_clock) as ledger:
        ledger.record_batch(history)
        version = data.draw(st.integers(1, len(history)), label="version")
        state = tamper.state_of(url, "P-1", version)
        position = data.draw(st.integers(0, len(state) - 1), label="position")
        byte = data.draw(st.integers(0, 255).filter(lambda b: b != state[position]))
        tamper.set_state(
            url, "P-1", version, state[:position] + bytes([byte]) + state[position + 1 :]
        )
        breaks = ledger.verify().breaks
        assert [(b.case_no, b.version) for b in breaks] == [("P-1", version)]
