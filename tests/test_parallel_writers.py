"""PostgreSQL writers that take no table lock, and followers of the log that never skip an
event nor apply one twice (the real server; docs/bulk-import.md §3)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from caseledger import BatchRejected, CaseLedger
from caseledger.audit.keys import new_signer
from caseledger.audit.log import TreeLog
from tests.conftest import fixed_clock

pytestmark = pytest.mark.postgres

ACTOR = {"person": "A1", "role": "window_a", "department": "D"}
RECEIVED = {"type": "received", "channel": "window", "applicant": "APP"}
GATE = 741_016  # the advisory lock a slow transaction waits on before it commits
RAW_ROW = (
    "INSERT INTO {0} (originator_id, originator_version, topic, state) "
    "VALUES (%s, 1, 'raw', '\\x7b7d')"
)  # a row written beside caseledger, in raw SQL: RAW_ROW.format(table), (stream,)
ROW = RAW_ROW.format("caseledger_events")
DROP_GUARD = (
    "DROP TRIGGER caseledger_events_first ON caseledger_events; "
    "DROP FUNCTION caseledger_events_first()"
)  # as a ledger made before the trigger has it


def _received(case_no: str) -> dict[str, Any]:
    return {
        "case_no": case_no, "command_id": f"{case_no}-1", "at": "2026-10-12T09:00:00+08:00",
        "actor": ACTOR, "event": RECEIVED,
    }  # fmt: skip


def _sql(url: str, statement: str) -> list[tuple[Any, ...]]:
    import psycopg

    base, schema = url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def _log_ids(url: str) -> list[int]:
    """Every notification id of the events table, in id order."""
    return [n for (n,) in _sql(url, "SELECT notification_id FROM caseledger_events ORDER BY 1")]


def _check_follower_and_tree(ledger: CaseLedger, url: str, applied: int) -> None:
    """The board applied each event of a case once, the tree has each event once, and the
    ledger verifies against a checkpoint of it."""
    ids = _log_ids(url)
    cases = {n for (n,) in _sql(url, "SELECT originator_id FROM caseledger_events")}
    cases = {c for c in cases if c[:1] not in "#@"}
    case_events = _sql(
        url, "SELECT COUNT(*) FROM caseledger_events WHERE originator_id NOT LIKE '@%'"
    )[0][0]
    assert applied == case_events
    assert {r["case_no"] for r in ledger.read_models.rows()} == cases
    tree = TreeLog(ledger.store)
    tree.extend()
    positions = [leaf.position for leaf in tree.leaves()]
    assert sorted(positions) == ids and max(Counter(positions).values()) == 1
    signer = new_signer("ledger")
    ledger.checkpoint(signer)
    report = ledger.verify(key=signer.verifier)
    assert report.ok and report.checkpoint == len(ids), report


def test_a_transaction_that_commits_late_with_the_smaller_id_is_neither_skipped_nor_repeated(
    postgres_url: str,
) -> None:
    """Transaction A takes a notification id, then B a larger one; B commits first and a
    follower and the tree read meanwhile; then A commits. Read by notification id, the
    follower would have passed A's id; read in recording order, both have every event
    exactly once."""
    import psycopg

    with CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False) as follower:
        follower.record(_received("FIRST-1"))
        assert follower.catch_up() == 1
        TreeLog(follower.store).extend()
        # A's commit waits on the gate: a deferred trigger takes the advisory lock GATE
        _sql(postgres_url, f"""
            CREATE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
              IF NEW.originator_id LIKE 'SLOW%' THEN PERFORM pg_advisory_xact_lock({GATE});
              END IF; RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER gate AFTER INSERT ON caseledger_events
              DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gate()""")  # fmt: skip
        base = postgres_url.split("?")[0]
        with psycopg.connect(base, autocommit=True) as gatekeeper:
            gatekeeper.execute("SELECT pg_advisory_lock(%s)", (GATE,))
            slow = CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False)
            done: list[object] = []
            thread = threading.Thread(target=lambda: done.append(slow.record(_received("SLOW-1"))))
            thread.start()
            deadline = time.monotonic() + 20
            while not _sql(postgres_url, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                           f"AND objid = {GATE} AND NOT granted"):  # fmt: skip
                assert time.monotonic() < deadline, "the slow transaction never reached its commit"
                time.sleep(0.05)
            fast = CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False)
            fast.record(_received("FAST-1"))  # commits while SLOW-1's transaction is open
            # FAST-1 is committed, but behind a transaction still running: not read yet
            assert follower.catch_up() == 0
            assert TreeLog(follower.store).extend() == 0
            assert follower.store.log_head() == _log_ids(postgres_url)[0]
            assert follower.case_numbers() == ["FIRST-1", "FAST-1"]  # a list shows it at once
            gatekeeper.execute("SELECT pg_advisory_unlock(%s)", (GATE,))
            thread.join(timeout=20)
            assert done and not thread.is_alive()
        (slow_id,), (fast_id,) = _sql(
            postgres_url, "SELECT notification_id FROM caseledger_events "
            "WHERE originator_id IN ('SLOW-1', 'FAST-1') ORDER BY originator_id DESC"
        )  # fmt: skip
        assert slow_id < fast_id, "the late transaction must hold the smaller id"
        assert follower.catch_up() == 2
        assert follower.catch_up() == 0
        _check_follower_and_tree(follower, postgres_url, 3)
        order = [n.originator_id for n in follower.store.notifications()]
        assert order[-2:] == ["SLOW-1", "FAST-1"]  # recording order: A's transaction first
        slow.close()
        fast.close()


def _write(url: str, writer: int, count: int, start: Any) -> None:
    with CaseLedger(url, clock=fixed_clock) as ledger:
        start.wait()
        for n in range(count):
            ledger.record(_received(f"W{writer}-{n}"))


def test_eight_writers_and_a_follower_meanwhile_miss_nothing(postgres_url: str) -> None:
    writers, each = 8, 60
    with CaseLedger(postgres_url, clock=fixed_clock) as follower:
        follower.read_models  # noqa: B018 - the board's tables, made before the race
        context = multiprocessing.get_context("fork")
        start = context.Event()
        processes = [
            context.Process(target=_write, args=(postgres_url, w, each, start))
            for w in range(writers)
        ]
        for process in processes:
            process.start()
        stop = threading.Event()
        applied: list[int] = []
        thread = threading.Thread(target=lambda: applied.append(follower.follow(stop)))
        thread.start()
        extended = []
        start.set()
        while any(p.is_alive() for p in processes):
            extended.append(TreeLog(follower.store).extend())  # the tree grows meanwhile
            time.sleep(0.05)
        for process in processes:
            process.join(timeout=120)
        assert all(p.exitcode == 0 for p in processes)
        time.sleep(1.0)  # the follower wakes on the last commits' notifications
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert sum(extended) > 0 and len(extended) > 1
        assert applied[0] + follower.catch_up() == writers * each
        assert len(_log_ids(postgres_url)) == writers * each
        _check_follower_and_tree(follower, postgres_url, writers * each)


def test_a_ledger_made_before_transaction_ids_gets_them_and_keeps_its_board_and_tree(
    postgres_url: str,
) -> None:
    with CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False) as old:
        for n in range(6):
            old.record(_received(f"OLD-{n}"))
        assert old.catch_up() == 6
        TreeLog(old.store).extend()
        # the table as ledgers made before the column have it (its index goes with it);
        # this ledger's recorder, which names four columns, writes on as an old one did
        _sql(postgres_url, "ALTER TABLE caseledger_events DROP COLUMN transaction_id")
        # an old process never had the column in its prepared "SELECT *" of a stream: new
        # connections, as it would have (this one's would fail, "cached plan must not
        # change result type", once psycopg has prepared that statement)
        old.store.recorder.datastore.pool.drain()  # type: ignore[attr-defined]
        for n in range(6, 9):
            old.record(_received(f"OLD-{n}"))
    with CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False) as reopened:
        rows = _sql(postgres_url, "SELECT DISTINCT transaction_id::text FROM caseledger_events")
        assert rows == [("0",)]
        assert _sql(postgres_url, "SELECT 1 FROM pg_indexes WHERE indexname = "
                    "'caseledger_events_recording_order'")  # fmt: skip
        reopened.record(_received("NEW-1"))
        assert reopened.catch_up() == 4  # the 3 written without the column, and the new one
        _check_follower_and_tree(reopened, postgres_url, 6 + 4)
        board = reopened.read_models.rows()
        assert reopened.rebuild_read_models() == 10
        assert reopened.read_models.rows() == board
    with CaseLedger(postgres_url, clock=fixed_clock) as again:  # opened once more: unchanged
        assert again.catch_up() == 0 and again.store.log_head() == max(_log_ids(postgres_url))


def test_a_ledger_whose_transaction_ids_this_server_has_not_reached_is_refused(
    postgres_url: str,
) -> None:
    """Restored from another server (pg_dump), its rows' ids would order every event
    recorded from now on before those already read: refused, saying how to fix it."""
    from caseledger.errors import StoreError

    with CaseLedger(postgres_url, clock=fixed_clock) as ledger:
        ledger.record(_received("R-1"))
    _sql(postgres_url, "UPDATE caseledger_events SET transaction_id = '900000000000'")
    with pytest.raises(StoreError, match=r"restored from another server.*pg_resetwal"):
        CaseLedger(postgres_url, clock=fixed_clock)
    _sql(postgres_url, "UPDATE caseledger_events SET transaction_id = '0'")
    with CaseLedger(postgres_url, clock=fixed_clock) as ledger:
        assert ledger.catch_up() == 1


def _insert_rows(url: str, prefix: str, seconds: float, most: int, start: Any) -> None:
    """One-row autocommit INSERTs into the events table (the shortest writer transactions
    there are: each commits, releasing its locks, a moment after it wrote)."""
    import psycopg

    base, schema = url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        start.wait()
        end = time.monotonic() + seconds
        for n in range(most):
            if time.monotonic() > end:
                return
            conn.execute(ROW, (f"{prefix}-{n}",))


def test_a_reader_racing_writers_that_commit_at_once_skips_no_row_and_repeats_none(
    postgres_url: str,
) -> None:
    """Writers whose transactions commit right after writing, and a reader of the log in a
    tight loop: a writer seen running when the reader's statement looked at the backends,
    but whose locks were gone (committed) when it looked at the locks, used to be taken for
    a transaction that writes no event, and the reader's horizon passed its rows, unseen
    in the reader's snapshot: skipped for good (about one read in a thousand under three
    such writers; the eight-writer test above reads too seldom to meet it). Bounded: three
    writers for six seconds, 40,000 rows at most each."""
    with CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False) as reader:
        store = reader.store
        context = multiprocessing.get_context("fork")
        start = context.Event()
        processes = [
            context.Process(target=_insert_rows, args=(postgres_url, f"R{w}", 6.0, 40_000, start))
            for w in range(3)
        ]
        for process in processes:
            process.start()
        start.set()
        read: list[int] = []
        position, reads = 0, 0
        while any(p.is_alive() for p in processes):
            rows = store.read_log(position, 500)
            reads += 1
            if rows:
                read.extend(r[0] for r in rows)
                position = rows[-1][0]
        for process in processes:
            process.join(timeout=30)
        assert all(p.exitcode == 0 for p in processes)
        while rows := store.read_log(position, 500):
            read.extend(r[0] for r in rows)
            position = rows[-1][0]
        ids = _log_ids(postgres_url)
        assert reads > 100, "the reader must race the writers"
        assert len(read) == len(set(read)), "a row was read twice"
        assert sorted(read) == ids, f"{len(set(ids) - set(read))} of {len(ids)} rows skipped"


def _short_transactions_elsewhere(url: str, seconds: float, start: Any) -> None:
    """Transactions of another table, each holding its id a few milliseconds."""
    import random

    import psycopg

    base, schema = url.split("?schema=")
    with psycopg.connect(base) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        conn.commit()
        start.wait()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            conn.execute("INSERT INTO elsewhere VALUES (1)")
            time.sleep(random.random() * 0.004)
            conn.commit()


def test_a_whole_log_read_never_holds_fewer_events_than_one_before_it(
    postgres_url: str,
) -> None:
    """Transactions of another table end all the time beside a writer of the log. One that
    ends after a read's snapshot was taken, and before the lock table is read, must be kept
    (its rows, if any, are invisible to that snapshot): about one read in twenty-five then
    stopped below rows an earlier read had returned, which a reader of the whole log (verify,
    a seal, a checkpoint) would take for events removed. Such a read is read again. Bounded:
    five seconds, three processes."""
    with CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False) as reader:
        _sql(postgres_url, "CREATE TABLE elsewhere (n int)")
        context = multiprocessing.get_context("fork")
        start = context.Event()
        processes = [
            context.Process(target=_short_transactions_elsewhere, args=(postgres_url, 5.0, start))
            for _ in range(2)
        ] + [context.Process(target=_insert_rows, args=(postgres_url, "R", 5.0, 20_000, start))]
        for process in processes:
            process.start()
        start.set()
        most, fewer, reads = 0, [], 0
        while any(p.is_alive() for p in processes):
            count = len(reader.store.read_log(0, 1_000_000))
            reads += 1
            if count < most:
                fewer.append((most, count))
            most = max(most, count)
        for process in processes:
            process.join(timeout=30)
        assert all(p.exitcode == 0 for p in processes)
        assert reads > 100 and most > 100, "the reader must race the writers"
        assert fewer == [], f"{len(fewer)} of {reads} reads held fewer events than one before"


def test_a_transaction_with_an_id_that_writes_no_event_does_not_hold_the_log_back(
    postgres_url: str,
) -> None:
    """A transaction of another table (it has an id, so the reader's snapshot sees it
    running) does not keep the events recorded after it from the log; one that wrote an
    event does, until it ends. (One that wrote elsewhere first and then events would not be
    seen as a writer: docs/bulk-import.md §3 says why no caseledger writer does that.)"""
    import psycopg

    with CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False) as ledger:
        ledger.record(_received("BEFORE-1"))
        _sql(postgres_url, "CREATE TABLE elsewhere (n int)")
        base, schema = postgres_url.split("?schema=")
        with psycopg.connect(base) as other, psycopg.connect(base) as writer:
            other.execute(f'SET search_path TO "{schema}"')
            other.execute("INSERT INTO elsewhere VALUES (1)")  # an id, and no event
            ledger.record(_received("AFTER-1"))
            assert [r[1] for r in ledger.store.read_log(0)] == ["BEFORE-1", "AFTER-1"]
            assert ledger.store.log_head() == max(_log_ids(postgres_url))
            writer.execute(f'SET search_path TO "{schema}"')
            writer.execute(ROW, ("RAW-1",))  # a writer of the log: what comes after waits
            ledger.record(_received("LATER-1"))
            assert [r[1] for r in ledger.store.read_log(0)] == ["BEFORE-1", "AFTER-1"]
            writer.commit()
            assert [r[1] for r in ledger.store.read_log(0)] == [
                "BEFORE-1", "AFTER-1", "RAW-1", "LATER-1",
            ]  # fmt: skip
            other.commit()


def test_a_log_position_that_is_no_event_of_the_ledger_is_refused(postgres_url: str) -> None:
    """On PostgreSQL a position stands for its row's place in recording order: a position
    whose row is gone (or that comes from another ledger) is an error, not "nothing after
    it" (a follower would stall) nor "from the start" (it would apply everything again)."""
    from caseledger.errors import StoreError

    with CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False) as ledger:
        for n in range(3):
            ledger.record(_received(f"P-{n}"))
        first, *_ = _log_ids(postgres_url)
        assert len(ledger.store.read_log(first)) == 2
        missing = max(_log_ids(postgres_url)) + 100
        with pytest.raises(StoreError, match=f"log position {missing} is no event"):
            ledger.store.read_log(missing)
        with pytest.raises(StoreError, match=f"log position {missing} is no event"):
            ledger.store.event_count(missing)
        with pytest.raises(StoreError, match=f"log position {missing} is no event"):
            ledger.store.stream_numbers(missing)
        assert ledger.store.read_log(max(_log_ids(postgres_url))) == []  # the last: none after


def test_a_transaction_that_wrote_elsewhere_first_cannot_record_events(postgres_url: str) -> None:
    """What the horizon rests on is kept by the database: a transaction that has an id
    from another write (so readers could not tell it from one that never records) cannot
    then write events, nor write them again after a savepoint that held its first events
    was rolled back; one that writes events first may write elsewhere afterwards."""
    import psycopg

    with CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False) as ledger:
        ledger.record(_received("BEFORE-1"))
        _sql(postgres_url, "CREATE TABLE elsewhere (n int)")
        base, schema = postgres_url.split("?schema=")
        with psycopg.connect(base) as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            conn.execute("INSERT INTO elsewhere VALUES (1)")
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="elsewhere"):
                conn.execute(ROW, ("LATE-1",))
            conn.rollback()
            conn.execute(f'SET search_path TO "{schema}"')
            conn.execute(ROW, ("FIRST-1",))  # events first: then anything
            conn.execute("INSERT INTO elsewhere VALUES (2)")
            conn.execute(ROW, ("FIRST-2",))
            conn.commit()
            conn.execute(f'SET search_path TO "{schema}"')
            conn.execute("SAVEPOINT s")
            conn.execute(ROW, ("UNDONE-1",))
            conn.execute("ROLLBACK TO SAVEPOINT s")  # its lock goes, its id stays
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
                conn.execute(ROW, ("AGAIN-1",))
            conn.rollback()
        assert [r[1] for r in ledger.store.read_log(0)] == ["BEFORE-1", "FIRST-1", "FIRST-2"]


def test_a_read_in_an_open_batch_does_not_count_the_batchs_own_rows_as_settled(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read on the thread of a batch (in its transaction), the log stops below the batch's
    own rows: they may yet be rolled back, so a board or tree must not take them in."""
    from caseledger import ledger as ledger_module

    monkeypatch.setattr(ledger_module, "_WRITE_ROWS", 10)  # rows written as they come
    monkeypatch.setattr(ledger_module, "_CHUNK", 1)  # each item checked as it comes
    seen: list[tuple[int, int]] = []
    with CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False) as ledger:
        ledger.record(_received("A-1"))
        head = ledger.store.log_head()

        def step(done: int) -> None:
            if done == 40:
                _sql(postgres_url, "SELECT pg_current_xact_id()")  # a later id, ended
                seen.append((len(ledger.store.read_log(0)), ledger.store.log_head()))

        def commands() -> Iterator[dict[str, Any]]:
            yield from (_received(f"B-{n}") for n in range(50))
            yield {"bad": 1}  # the batch is refused: nothing of it is recorded

        with pytest.raises(BatchRejected):
            ledger.record_batch(commands(), progress=step)
        assert _sql(postgres_url, "SELECT COUNT(*) FROM caseledger_events")[0][0] == 1
        assert seen == [(1, head)]


def _open(url: str, start: Any, results: Any) -> None:
    start.wait()
    try:
        with CaseLedger(url, clock=fixed_clock, keep_tree=False) as ledger:
            ledger.store.log_head()
        results.put("ok")
    except Exception as error:  # every failure is the finding
        results.put(f"{type(error).__name__}: {error}")


def _open_at_once(url: str, count: int) -> list[str]:
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    processes = [context.Process(target=_open, args=(url, start, results)) for _ in range(count)]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(timeout=60)
    return [results.get(timeout=5) for _ in processes]


def _triggers(url: str) -> int:
    return int(
        _sql(
            url,
            "SELECT COUNT(*) FROM pg_trigger WHERE tgname = 'caseledger_events_first' "
            "AND tgrelid = 'caseledger_events'::regclass",
        )[0][0]
    )


@pytest.mark.parametrize("made", ["new", "before the trigger"])
def test_processes_opening_one_ledger_at_once_all_open_it(postgres_url: str, made: str) -> None:
    """A new schema, or a ledger made by a version without the trigger, opened by four
    processes at once: one sets it up while the others wait for it (they collided on a
    type, or deadlocked between one's index and another's trigger)."""
    if made != "new":
        with CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False) as ledger:
            ledger.record(_received("OLD-1"))
        _sql(postgres_url, DROP_GUARD)
        assert _triggers(postgres_url) == 0
    assert _open_at_once(postgres_url, 4) == ["ok"] * 4
    assert _triggers(postgres_url) == 1


def test_a_busy_ledger_opens_without_waiting_for_its_trigger_and_gets_it_later(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """During a long import a ledger made before the trigger opens within a fraction of a
    second, without it (saying so), rather than stall every writer behind the trigger's
    lock until lock_timeout; the next opening, with the table free, makes it."""
    import psycopg

    with CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False) as ledger:
        ledger.record(_received("OLD-1"))
    _sql(postgres_url, DROP_GUARD)
    base, schema = postgres_url.split("?schema=")
    with psycopg.connect(base) as importer:  # a long import's transaction, still running
        importer.execute(f'SET search_path TO "{schema}"')
        importer.execute(ROW, ("LONG-1",))
        started = time.monotonic()
        with (
            caplog.at_level("WARNING", logger="caseledger.store"),
            CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False) as ledger,
        ):
            ledger.record(_received("MEANWHILE-1"))  # a writer is not held up either
        assert time.monotonic() - started < 5  # lock_timeout is 10 s
        assert "opened without its trigger" in caplog.text
        assert _triggers(postgres_url) == 0
        importer.commit()
    with CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False):
        assert _triggers(postgres_url) == 1


def test_a_write_the_trigger_refuses_is_a_store_error_that_says_so(postgres_url: str) -> None:
    """Through the store's own connections, a transaction that wrote elsewhere first and
    then writes events gets caseledger's StoreError naming the refusal, not "the server
    failed", and nothing of it is kept."""
    from caseledger.errors import StoreError

    with CaseLedger(postgres_url, clock=fixed_clock, keep_tree=False) as ledger:
        _sql(postgres_url, "CREATE TABLE elsewhere (n int)")
        datastore = ledger.store.recorder.datastore  # type: ignore[attr-defined]
        schema = postgres_url.split("?schema=")[1]
        with (
            pytest.raises(StoreError, match="the events table refused the write: this "
                          "transaction wrote elsewhere"),
            datastore.transaction(commit=True) as cursor,
        ):  # fmt: skip
            cursor.execute(f'INSERT INTO "{schema}".elsewhere VALUES (1)')
            cursor.execute(RAW_ROW.format(f'"{schema}".caseledger_events'), ("LATE-1",))
        assert _log_ids(postgres_url) == []
        assert _sql(postgres_url, "SELECT COUNT(*) FROM elsewhere")[0][0] == 0
