"""Idempotent commands, optimistic concurrency and atomic batches, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from caseledger import (
    BatchRejected,
    CaseAlreadyExists,
    CaseLedger,
    CaseNotFound,
    CommandIdReused,
    ConcurrencyConflict,
    IllegalTransition,
    StoreError,
)
from tests.conftest import fixed_clock
from tests.helpers import ACCEPTED, APPROVED, CHIEF, RECEIVED, accepted_case, at, command, snapshot


def test_the_same_command_sent_twice_records_once_and_returns_the_same_result(
    ledger: CaseLedger,
) -> None:
    accepted_case(ledger)
    first = ledger.record(command("QZ-1", 3, APPROVED, at(14), CHIEF))
    before = snapshot(ledger)
    again = ledger.record(command("QZ-1", 3, APPROVED, at(14), CHIEF))
    assert again.already_recorded and not first.already_recorded
    assert (again.version, again.hash, again.type) == (first.version, first.hash, first.type)
    assert snapshot(ledger) == before


def test_a_command_id_reused_with_other_content_is_refused(ledger: CaseLedger) -> None:
    accepted_case(ledger)
    ledger.record(command("QZ-1", 3, APPROVED, at(14), CHIEF))
    before = snapshot(ledger)
    other = command("QZ-1", 3, {"type": "denied", "decision_no": "d", "reason": "r"}, at(14))
    with pytest.raises(CommandIdReused, match="already recorded on case 'QZ-1' as version 3"):
        ledger.record(other)
    assert snapshot(ledger) == before


def test_two_writers_on_one_case_one_wins_the_other_conflicts_and_a_retry_succeeds(
    open_ledger: Callable[[], CaseLedger],
) -> None:
    writer_a, writer_b = open_ledger(), open_ledger()
    accepted_case(writer_a)
    seen_by_b = writer_b.case("QZ-1").version
    writer_a.record(command("QZ-1", 3, {"type": "stage_completed", "stage": "acceptance"}, at(13)))
    transfer = {"type": "transferred", "to": {"kind": "window", "code": "W09"}, "reason": "分流"}
    with pytest.raises(ConcurrencyConflict) as caught:
        writer_b.record(command("QZ-1", 4, transfer, at(13, 10)), expected_version=seen_by_b)
    assert (caught.value.expected_version, caught.value.actual_version) == (2, 3)
    retried = writer_b.record(command("QZ-1", 4, transfer, at(13, 10)))
    assert retried.version == 4
    types = [e.type for e in writer_a.history("QZ-1")]
    assert types == ["received", "accepted", "stage_completed", "transferred"]


def test_a_race_lost_at_the_database_is_a_conflict_and_records_nothing(
    open_ledger: Callable[[], CaseLedger],
) -> None:
    """Both writers read version 2 and both try to write version 3; the store decides."""
    writer_a, writer_b = open_ledger(), open_ledger()
    accepted_case(writer_a)
    case_a, case_b = writer_a.store.load("QZ-1"), writer_b.store.load("QZ-1")
    assert case_a is not None and case_b is not None
    import datetime as dt

    moment = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    from caseledger import Command

    case_a.record(Command.model_validate(command("QZ-1", 3, APPROVED, at(14))), recorded_at=moment)
    denial = {"type": "denied", "decision_no": "d", "reason": "r"}
    case_b.record(Command.model_validate(command("QZ-1", 4, denial, at(14))), recorded_at=moment)
    writer_a.store.save_cases([case_a])
    before = snapshot(writer_a)
    with pytest.raises(ConcurrencyConflict) as caught:
        writer_b.store.save_cases([case_b])
    assert caught.value.case_no == "QZ-1"
    assert snapshot(writer_a) == before
    assert writer_b.case("QZ-1").status.value == "approved"


def test_a_retry_after_a_lost_race_with_the_same_command_id_is_recognised(
    open_ledger: Callable[[], CaseLedger],
) -> None:
    writer_a, writer_b = open_ledger(), open_ledger()
    accepted_case(writer_a)
    result = writer_a.record(command("QZ-1", 3, APPROVED, at(14), CHIEF))
    retry = writer_b.record(command("QZ-1", 3, APPROVED, at(14), CHIEF), expected_version=2)
    assert retry.already_recorded and retry.hash == result.hash


def test_a_first_event_is_written_unread_and_one_another_ledger_recorded_is_found_after_all(
    open_ledger: Callable[[], CaseLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a 'received' is written as version 1 without reading the case first
    (on SQLite, where a read is no round trip, it is read first); a case another ledger
    holds already gives what a read first gives: the same command already recorded,
    another command refused, nothing written twice."""
    one, other = open_ledger(), open_ledger()
    unread = other.store.reads_are_round_trips
    reads: list[str] = []
    load = other.store.load_stream
    monkeypatch.setattr(
        other.store, "load_stream", lambda stream_id: reads.append(stream_id) or load(stream_id)
    )
    first = other.record(command("QZ-N", 1, RECEIVED, at(12)))
    assert (first.version, reads) == (1, [] if unread else ["QZ-N"])
    reads.clear()
    original = one.record(command("QZ-1", 1, RECEIVED, at(12)))
    before = snapshot(one)
    again = other.record(command("QZ-1", 1, RECEIVED, at(12)))
    assert again.already_recorded and again.hash == original.hash
    assert reads == ["QZ-1"]  # read once (unread: once the write found it there); kept then
    with pytest.raises(CaseAlreadyExists):
        other.record(command("QZ-1", 9, RECEIVED, at(12, 10)))
    assert snapshot(one) == before
    # a command the lifecycle refuses on a new case is judged on the case as read, too
    with pytest.raises(CaseNotFound):
        other.record(command("QZ-2", 1, APPROVED, at(12)))
    assert other.record(command("QZ-1", 2, ACCEPTED, at(12, 9, 30))).version == 2
    assert one.verify().ok and [e.version for e in one.history("QZ-1")] == [1, 2]


def test_an_unread_first_event_a_table_lock_holds_up_is_answered_from_a_read(
    postgres_url: str,
) -> None:
    """An unread write waits for locks a read does not (a session holding the events
    table in SHARE mode, as a plain CREATE INDEX does): when the server gives up waiting,
    a read says whether the case is there, and the command is answered from it; a new
    case, which needs the write, gets the server's StoreError."""
    import psycopg

    base, schema = postgres_url.split("?schema=")
    url = f"{postgres_url}&lock_timeout=1"
    with CaseLedger(url, clock=fixed_clock) as one:
        original = one.record(command("QZ-1", 1, RECEIVED, at(12)))
    with psycopg.connect(base) as holder:
        holder.execute(f'LOCK TABLE "{schema}".caseledger_events IN SHARE MODE')
        with CaseLedger(url, clock=fixed_clock) as other:
            again = other.record(command("QZ-1", 1, RECEIVED, at(12)))
            assert again.already_recorded and again.hash == original.hash
        with CaseLedger(url, clock=fixed_clock) as other:
            with pytest.raises(CaseAlreadyExists):
                other.record(command("QZ-1", 2, RECEIVED, at(12)))
            with pytest.raises(StoreError, match="lock timeout"):
                other.record(command("QZ-2", 1, RECEIVED, at(12)))
        holder.rollback()
    with CaseLedger(url, clock=fixed_clock) as one:
        assert [e.version for e in one.history("QZ-1")] == [1] and one.verify().ok


def test_two_ledgers_racing_to_open_one_case_record_it_once(
    open_ledger: Callable[[], CaseLedger],
) -> None:
    """Both write version 1 unread at once: one wins, the other finds the case after all
    (its own command already recorded, or another refused), never a second version 1."""
    import threading

    writers = [open_ledger() for _ in range(4)]
    outcomes: list[str] = []
    together = threading.Barrier(4, timeout=30)

    def race(n: int) -> None:
        for round_no in range(10):
            together.wait()  # all four write the round's case at once
            try:
                result = writers[n].record(command(f"QZ-R{round_no}", 1 + n % 2, RECEIVED, at(12)))
                outcomes.append("repeat" if result.already_recorded else "recorded")
            except CaseAlreadyExists:
                outcomes.append("refused")

    threads = [threading.Thread(target=race, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("recorded") == 10 and len(outcomes) == 40
    assert sorted(writers[0].case_numbers()) == sorted(f"QZ-R{r}" for r in range(10))
    assert all(len(writers[0].history(f"QZ-R{r}")) == 1 for r in range(10))
    assert writers[0].verify().ok


def test_a_batch_of_many_cases_is_recorded_in_one_go(ledger: CaseLedger) -> None:
    batch = []
    for i in range(50):
        case_no = f"QZ-{i:03d}"
        batch += [
            command(case_no, 1, RECEIVED, at(12)),
            command(case_no, 2, ACCEPTED, at(12, 10)),
            command(case_no, 3, APPROVED, at(13), CHIEF),
        ]
    result = ledger.record_batch(batch)
    assert (result.recorded, result.cases, result.already_recorded) == (150, 50, 0)
    assert len(snapshot(ledger)) == 151  # and the national pack's version, recorded once
    assert ledger.record_batch(batch).already_recorded == 150
    assert len(snapshot(ledger)) == 151


def test_a_batch_with_one_bad_item_records_none_of_it_and_names_every_bad_item(
    ledger: CaseLedger,
) -> None:
    accepted_case(ledger, "QZ-OLD")
    before = snapshot(ledger)
    batch = [
        command("QZ-A", 1, RECEIVED, at(12)),
        command("QZ-A", 2, ACCEPTED, at(12, 10)),
        command("QZ-OLD", 3, APPROVED, at(13), CHIEF),
        command("QZ-B", 1, RECEIVED, at(12)),
        command("QZ-B", 2, {"type": "clock_resumed"}, at(12, 10)),
        {**command("QZ-C", 1, RECEIVED, at(12)), "actor": {"person": "x"}},
    ]
    with pytest.raises(BatchRejected) as caught:
        ledger.record_batch(batch)
    positions = sorted({e.position for e in caught.value.errors})
    assert positions == [5, 6]
    assert any(e.field == "actor.role" for e in caught.value.errors)
    assert snapshot(ledger) == before


def test_a_batch_that_loses_a_race_records_nothing(open_ledger: Callable[[], CaseLedger]) -> None:
    writer_a, writer_b = open_ledger(), open_ledger()
    accepted_case(writer_a)
    case_b = writer_b.store.load("QZ-1")
    assert case_b is not None
    import datetime as dt

    from caseledger import Case, Command

    moment = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    fresh = Case.start(
        Command.model_validate(command("QZ-NEW", 1, RECEIVED, at(12))), recorded_at=moment
    )
    case_b.record(Command.model_validate(command("QZ-1", 9, APPROVED, at(14))), recorded_at=moment)
    writer_a.record(
        command("QZ-1", 3, {"type": "denied", "decision_no": "d", "reason": "r"}, at(14))
    )
    before = snapshot(writer_a)
    with pytest.raises(ConcurrencyConflict):
        writer_b.store.save_cases([fresh, case_b])
    assert snapshot(writer_a) == before


def test_a_command_id_repeated_within_one_batch_is_refused_naming_both_items(
    ledger: CaseLedger,
) -> None:
    before = snapshot(ledger)
    batch = [command("QZ-A", 1, RECEIVED, at(12)), command("QZ-A", 1, RECEIVED, at(12))]
    with pytest.raises(BatchRejected) as caught:
        ledger.record_batch(batch)
    (error,) = caught.value.errors
    assert (error.position, error.field) == (2, "command_id")
    assert "already item 1 of this batch" in error.message
    assert snapshot(ledger) == before


def test_a_command_the_lifecycle_refuses_is_refused_for_that_before_its_pack_is_looked_up(
    ledger: CaseLedger,
) -> None:
    accepted_case(ledger)
    before = snapshot(ledger)
    again = {**ACCEPTED, "rule_pack": "no_such_pack"}
    with pytest.raises(IllegalTransition, match="cannot record 'accepted'"):
        ledger.record(command("QZ-1", 9, again, at(14)))
    with pytest.raises(CaseNotFound, match="starts with a 'received' event"):
        ledger.record(command("QZ-NEW", 1, again, at(14)))
    assert snapshot(ledger) == before
