"""Threads of one process reading the board while others record (what the HTTP server's
thread pool does): every catch-up succeeds and the board ends up with every case. Two
catch-ups at once used to deadlock on PostgreSQL (found by benchmarks/load_http.py)."""

from __future__ import annotations

import datetime as dt
import threading

from caseledger import CaseLedger
from caseledger.demo import demo_month
from tests.conftest import fixed_clock


def test_threads_reading_the_board_while_others_record_never_fail(ledger_url: str) -> None:
    ledger = CaseLedger(ledger_url, clock=fixed_clock)
    ledger.record_batch(demo_month(12))
    failures: list[str] = []

    def record(n: int) -> None:
        for c in demo_month(6, seed=100 + n, projects=False):
            try:
                ledger.record(
                    c.model_copy(
                        update={
                            "case_no": f"T{n}-{c.case_no}",
                            "command_id": f"T{n}-{c.command_id}",
                        }
                    )
                )
            except Exception as error:  # every failure is reported, none may happen
                failures.append(f"record: {error!r}")

    def read() -> None:
        for _ in range(15):
            try:
                ledger.board(dt.date(2026, 11, 20), limit=20)
            except Exception as error:
                failures.append(f"board: {error!r}")

    threads = [threading.Thread(target=record, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=read) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        ledger.catch_up()
        cases = {row["case_no"] for row in ledger.read_models.rows()}
        assert set(ledger.case_numbers()) == cases
    finally:
        ledger.close()
