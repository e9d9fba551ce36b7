"""PostgreSQL writers that take no table lock, and followers of the log that never skip an
event nor apply one twice (the real server; docs/bulk-import.md §3)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from typing import Any

import pytest

from caseledger import CaseLedger
from caseledger.audit.keys import new_signer
from caseledger.audit.log import TreeLog
from tests.conftest import fixed_clock

pytestmark = pytest.mark.postgres

ACTOR = {"person": "A1", "role": "window_a", "department": "D"}
RECEIVED = {"type": "received", "channel": "window", "applicant": "APP"}
GATE = 741_016  # the advisory lock a slow transaction waits on before it commits


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
