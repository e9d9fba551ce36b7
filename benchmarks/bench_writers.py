"""Writers in parallel (run on demand): N processes each record single commands on cases of
their own, on an SQLite file and on PostgreSQL; commands per second in total with 1 and with
8 writers, and the ratio (issue 16's target on PostgreSQL: 8 writers at least 4 times one).
Then a follower (the board's catch-up) is checked to have applied every event.

On PostgreSQL every transaction that records still takes eventsourcing's ``LOCK TABLE ...
IN EXCLUSIVE MODE`` (see docs/bulk-import.md), so this measures what that costs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.synchronize
import os
import time
import uuid

from bench_import import drop_schema, fresh_schema  # the folder of this script

from caseledger import CaseLedger

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
ACTOR = {"person": "A1", "role": "window_a", "department": "D"}
RECEIVED = {"type": "received", "channel": "window", "applicant": "APP"}


def _write(url: str, writer: int, count: int, start: multiprocessing.synchronize.Event) -> None:
    with CaseLedger(url) as ledger:
        start.wait()
        for n in range(count):
            ledger.record(
                {"case_no": f"W{writer}-{n}", "command_id": f"W{writer}-{n}-1",
                 "at": "2026-10-12T09:00:00+08:00", "actor": ACTOR, "event": RECEIVED}
            )  # fmt: skip


def writers(url: str, count: int, per_writer: int) -> float:
    """Commands per second of ``count`` writer processes, ``per_writer`` commands each."""
    with CaseLedger(url):
        pass  # the tables, made once
    context = multiprocessing.get_context("fork")
    start = context.Event()
    processes = [
        context.Process(target=_write, args=(url, w, per_writer, start)) for w in range(count)
    ]
    for process in processes:
        process.start()
    time.sleep(1.0)  # every writer has opened its ledger
    started = time.perf_counter()
    start.set()
    for process in processes:
        process.join()
    seconds = time.perf_counter() - started
    assert all(p.exitcode == 0 for p in processes)
    return count * per_writer / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-writer", type=int, default=300)
    parser.add_argument(
        "--postgres", default=os.environ.get("CASELEDGER_TEST_POSTGRES", DEFAULT_POSTGRES)
    )
    parser.add_argument("--folder", default="/tmp")
    args = parser.parse_args()
    for store in ("sqlite", "postgresql"):
        rates = {}
        for count in (1, 8):
            if store == "sqlite":
                url, schema = f"sqlite:///{args.folder}/writers-{uuid.uuid4().hex[:6]}.db", ""
            else:
                url, schema = fresh_schema(args.postgres)
            try:
                rates[count] = writers(url, count, args.per_writer)
                with CaseLedger(url) as follower:
                    applied = follower.catch_up()
                    assert applied == count * args.per_writer, (applied, count)
            finally:
                if schema:
                    drop_schema(args.postgres, schema)
        print(f"{store}: 1 writer {rates[1]:,.0f} commands/s, 8 writers {rates[8]:,.0f}/s: "
              f"{rates[8] / rates[1]:.2f} times (follower applied every event)")  # fmt: skip


if __name__ == "__main__":
    main()
