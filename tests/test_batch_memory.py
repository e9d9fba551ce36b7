"""A batch whose memory does not grow with its size: it writes its rows in chunks as they come,
in its one transaction, holds a bounded number of streams (reading a dropped one again
through its transaction, its own rows included) and keeps its results as columns. Here the
bounds are made tiny, so that every road (a stream dropped and read again, a chunk written
before a stream is read, a repeat found among rows read back) is taken by a small batch; what
the batch records, refuses and reports must be what it is with the bounds it ships with."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from caseledger import BatchRejected, CaseLedger, ConcurrencyConflict, RecordResult
from caseledger import ledger as ledger_module
from caseledger.demo import demo_month
from caseledger.store.event_store import BatchWriter
from tests.conftest import fixed_clock
from tests.helpers import ACCEPTED, RECEIVED, at, command, snapshot


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Make a batch hold at most 3 streams (and 4 events read back), validate and read 5
    commands at a time, write 7 rows at a time."""

    def shrink() -> None:
        monkeypatch.setattr(ledger_module, "_HELD", 3)
        monkeypatch.setattr(ledger_module, "_HELD_EVENTS", 4)
        monkeypatch.setattr(ledger_module, "_CHUNK", 5)
        monkeypatch.setattr(ledger_module, "_WRITE_ROWS", 7)
        monkeypatch.setattr(ledger_module, "_ROWS_AFTER_FAILURE", 11)

    return shrink


def _stored(ledger: CaseLedger) -> list[tuple[str, int, str, bytes]]:
    """Every row, by stream and version (the order of a chunked batch's log differs)."""
    return sorted(snapshot(ledger))


def _writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each chunk a batch writes, in order."""
    sizes: list[int] = []
    write = BatchWriter.write

    def counted(self: BatchWriter, rows: Any) -> None:
        sizes.append(len(rows))
        write(self, rows)

    monkeypatch.setattr(BatchWriter, "write", counted)
    return sizes


def _interleaved(cases: int, prefix: str = "QZ-") -> list[dict[str, Any]]:
    """Each of ``cases`` cases received, then each accepted: every case is named twice,
    far apart."""
    received = [command(f"{prefix}{n}", 1, RECEIVED, at(12, 9, n)) for n in range(cases)]
    accepted = [command(f"{prefix}{n}", 2, ACCEPTED, at(12, 11, n)) for n in range(cases)]
    return received + accepted


def test_a_batch_under_tiny_bounds_records_what_it_records_under_its_own(
    open_ledger: Callable[[], CaseLedger], tiny: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    commands = demo_month(12)  # cases, projects linking them, pack versions
    roomy = open_ledger()
    expected = roomy.record_batch(commands)
    tiny()
    sizes = _writes(monkeypatch)
    url = roomy.location.url
    url = url.replace("?schema=", "?schema=tiny_") if "?" in url else url + ".tiny"
    ledger = CaseLedger(url, clock=fixed_clock)
    try:
        got = ledger.record_batch(commands)
        assert list(got.results) == list(expected.results)
        assert (got.recorded, got.already_recorded, got.cases) == (
            expected.recorded, expected.already_recorded, expected.cases,
        )  # fmt: skip
        assert _stored(ledger) == _stored(roomy)
        assert ledger.verify().ok
        assert len(sizes) > 3 and max(sizes) <= 7  # written in chunks as it went
        assert sum(sizes) == len(snapshot(ledger))
        again = ledger.record_batch(commands)  # a re-run records each event exactly once
        assert (again.recorded, again.already_recorded) == (0, len(commands))
        assert _stored(ledger) == _stored(roomy)
    finally:
        _drop(ledger)


def _drop(ledger: CaseLedger) -> None:
    """Close ``ledger``; drop its schema if it is PostgreSQL's."""
    ledger.close()
    schema = ledger.location.schema
    if ledger.location.backend == "postgresql" and schema:
        import psycopg

        base = ledger.location.url.split("?")[0]
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_stream_dropped_and_read_again_sees_the_batchs_own_rows(
    ledger: CaseLedger, tiny: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny()
    sizes = _writes(monkeypatch)
    result = ledger.record_batch(_interleaved(10))
    assert (result.recorded, result.cases) == (20, 10)
    assert [r.version for r in result.results] == [1] * 10 + [2] * 10
    assert sizes and sum(sizes) == 20 + len(ledger.held_packs.held())
    assert all(ledger.case(f"QZ-{n}").status == "accepted" for n in range(10))
    assert ledger.verify().ok


def test_every_bad_item_is_listed_under_tiny_bounds_as_under_its_own(
    open_ledger: Callable[[], CaseLedger], tiny: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    batch = _interleaved(10)
    batch[3] = command("QZ-3", 1, {"type": "received"}, at(12, 9, 3))  # no channel
    batch[14] = command("QZ-4", 3, RECEIVED, at(12, 11, 4))  # a case received twice
    batch.append(command("QZ-9", 3, {"type": "approved"}, at(13)))  # no decision number
    batch.append(command("QZ-3", 3, ACCEPTED, at(13)))  # its case was never received
    ledger = open_ledger()
    before = snapshot(ledger)
    with pytest.raises(BatchRejected) as roomy:
        ledger.record_batch(batch)
    tiny()
    sizes = _writes(monkeypatch)
    with pytest.raises(BatchRejected) as small:
        ledger.record_batch(batch)
    listed = [(e.position, e.field, e.message) for e in small.value.errors]
    assert listed == [(e.position, e.field, e.message) for e in roomy.value.errors]
    assert {p for p, _, _ in listed} == {4, 14, 15, 21, 22}
    assert sizes  # chunks were written (the streams dropped were read again)...
    assert snapshot(ledger) == before  # ...and rolled back: nothing recorded


def test_after_a_bad_item_a_batch_writes_no_more_than_its_reads_need(
    ledger: CaseLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_module, "_WRITE_ROWS", 7)
    sizes = _writes(monkeypatch)
    batch = [command(f"QZ-{n}", 1, RECEIVED, at(12, 9, n)) for n in range(20)]
    batch[11] = command("QZ-11", 1, {"type": "approved", "decision_no": "d"}, at(12, 9, 11))
    with pytest.raises(BatchRejected) as caught:
        ledger.record_batch(batch)
    assert [e.position for e in caught.value.errors] == [12]
    assert sizes == [7]  # the first chunk, before the bad item; none after it
    assert snapshot(ledger) == []


def test_a_repeated_command_id_is_refused_naming_its_first_item_even_once_read_back(
    ledger: CaseLedger, tiny: Callable[[], None]
) -> None:
    tiny()
    batch = _interleaved(10)
    batch.insert(5, {"case_no": "QZ-X"})  # a bad item before: positions after it shift
    batch.append(command("QZ-2", 1, RECEIVED, at(12, 9, 2)))  # item 3 again, read back
    batch.append(command("QZ-9", 2, ACCEPTED, at(12, 11, 9)))  # item 21 again, still held
    before = snapshot(ledger)
    with pytest.raises(BatchRejected) as caught:
        ledger.record_batch(batch)
    repeats = {e.position: e.message for e in caught.value.errors if e.position != 6}
    assert sorted(repeats) == [22, 23]
    assert "'QZ-2-1' of 'QZ-2' is already item 3 of this batch" in repeats[22]
    assert "'QZ-9-2' of 'QZ-9' is already item 21 of this batch" in repeats[23]
    assert snapshot(ledger) == before


def test_the_results_are_columns_read_as_record_results(ledger: CaseLedger) -> None:
    ledger.record(command("QZ-0", 1, RECEIVED, at(12)))
    result = ledger.record_batch(_interleaved(3))
    results = result.results
    assert len(results) == 6 and (result.recorded, result.already_recorded) == (5, 1)
    assert result.cases == 3
    first = results[0]
    assert isinstance(first, RecordResult) and first.already_recorded
    assert first == RecordResult("QZ-0", 1, "received", ledger.history("QZ-0")[0].hash, True)
    assert results[-1] == results[5] and results[-1].hash == ledger.history("QZ-2")[1].hash
    assert list(results[1:3]) == [results[1], results[2]]
    assert [r.case_no for r in results] == ["QZ-0", "QZ-1", "QZ-2"] * 2
    assert results == tuple(results) and results != tuple(results)[:-1]
    with pytest.raises(IndexError):
        results[6]


def test_a_batch_holds_no_more_streams_than_its_bound(
    ledger: CaseLedger, tiny: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny()
    most: list[int] = []
    prefetch = ledger_module._BatchStreams.prefetch

    def watched(self: ledger_module._BatchStreams, stream_ids: Any) -> None:
        prefetch(self, stream_ids)
        most.append(len(self))

    monkeypatch.setattr(ledger_module._BatchStreams, "prefetch", watched)
    ledger.record_batch(_interleaved(20))
    assert most and max(most) <= 3 + len(ledger.held_packs.held())


@pytest.mark.postgres
def test_a_case_recorded_by_another_writer_during_a_batch_is_a_conflict_and_nothing_is_kept(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_module, "_CHUNK", 1)  # each item read as it comes
    with (
        CaseLedger(postgres_url, clock=fixed_clock) as ledger,
        CaseLedger(postgres_url, clock=fixed_clock) as other,
    ):
        ledger.record(command("QZ-1", 1, RECEIVED, at(12)))
        before = snapshot(ledger)

        def items() -> Iterator[dict[str, Any]]:
            yield command("QZ-1", 2, ACCEPTED, at(12, 10))  # read with version 1
            # the batch has written nothing yet, so holds no lock: the other writer records
            done = threading.Thread(
                target=other.record, args=(command("QZ-1", 9, ACCEPTED, at(12, 10)),)
            )
            done.start()
            done.join(30)
            yield command("QZ-2", 1, RECEIVED, at(12))

        with pytest.raises(ConcurrencyConflict) as caught:
            ledger.record_batch(items())
        conflict = caught.value
        assert (conflict.case_no, conflict.expected_version, conflict.actual_version) == (
            "QZ-1", 1, 2,
        )  # fmt: skip
        after = [(stream, version) for stream, version, _, _ in snapshot(ledger)]
        assert ("QZ-1", 2) in after and "QZ-2" not in {s for s, _ in after}  # the other's only
        assert len(after) > len(before)


def test_an_item_repeating_a_bad_items_command_id_is_listed_too(ledger: CaseLedger) -> None:
    batch = [
        command("QZ-A", 1, {"type": "approved", "decision_no": "d"}, at(12)),  # not received
        command("QZ-A", 1, RECEIVED, at(12)),  # the same command id
    ]
    with pytest.raises(BatchRejected) as caught:
        ledger.record_batch(batch)
    first, second = caught.value.errors
    assert (first.position, second.position, second.field) == (1, 2, "command_id")
    assert "already item 1 of this batch" in second.message


@pytest.mark.postgres
def test_a_batch_whose_items_come_slowly_is_not_cut_off_by_the_idle_in_transaction_timeout(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """eventsourcing's sessions end a transaction idle for 5 s; a batch's transaction waits
    on its items between two statements (bounded by the statement timeout instead)."""
    import time

    monkeypatch.setattr(ledger_module, "_CHUNK", 1)  # the transaction is open at item 1

    def items() -> Iterator[dict[str, Any]]:
        yield command("QZ-1", 1, RECEIVED, at(12))
        time.sleep(6)
        yield command("QZ-2", 1, RECEIVED, at(12))

    with CaseLedger(postgres_url, clock=fixed_clock) as ledger:
        assert ledger.record_batch(items()).recorded == 2
        assert ledger.case_numbers() == ["QZ-1", "QZ-2"]


def test_the_stores_reads_during_a_batch_go_through_its_transaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In memory no other connection may be used while the batch's is open (a read would
    wait for it until the pool's timeout): the store's own reads on the batch's thread are
    made in the batch's transaction, and see its rows."""
    monkeypatch.setattr(ledger_module, "_WRITE_ROWS", 2)
    monkeypatch.setattr(ledger_module, "_CHUNK", 1)  # each item applied before the next
    seen: list[int] = []
    with CaseLedger("sqlite:///:memory:", clock=fixed_clock) as ledger:

        def items() -> Iterator[dict[str, Any]]:
            for n in range(5):
                yield command(f"QZ-{n}", 1, RECEIVED, at(12))
                with ledger.store.plain_cursor("counting") as cursor:
                    cursor.execute("SELECT count(*) FROM stored_events")
                    seen.append(cursor.fetchone()[0])

        assert ledger.record_batch(items()).recorded == 5
    assert seen[-1] == 4 and seen == sorted(seen)  # the batch's own rows, as written
