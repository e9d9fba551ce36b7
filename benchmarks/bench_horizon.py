"""The cost of reading the log on PostgreSQL beside transactions that hold ids (run on
demand): ``log_head`` and a ``read_log`` page of 100 events, with 0 to N other sessions each
holding an open transaction that has an id (a quarter of them writers of the events table,
the rest of another table; each holding a few relation locks, as an application's would),
so that the horizon (docs/bulk-import.md §3) has them all to look at. Milliseconds per call,
median of ``--calls``, as the caller sees it and as the server spends it (``EXPLAIN
ANALYZE``'s execution time of the same statement, steadier on a loaded machine); the growth
from the smallest to the largest count says whether the cost is linear in the lock table's
rows (it was quadratic before: the lock table was scanned once per running transaction).
Sessions are bounded by the server's ``max_connections``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from typing import Any

import psycopg

from caseledger import CaseLedger
from caseledger.store.event_store import _events_table

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
ACTOR = {"person": "A1", "role": "window_a", "department": "D"}
RECEIVED = {"type": "received", "channel": "window", "applicant": "APP"}


def _median_ms(call: Any, calls: int) -> float:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def _server_ms(conn: psycopg.Connection[Any], statement: str, params: Any, calls: int) -> float:
    """The median execution time the server reports for ``statement``."""
    times = []
    for _ in range(calls):
        plan = conn.execute(f"EXPLAIN (ANALYZE, TIMING OFF) {statement}", params).fetchall()
        line = next(row[0] for row in plan if "Execution Time" in row[0])
        times.append(float(line.split()[2]))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--counts", type=int, nargs="+", default=[0, 20, 40, 80])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    schema = f"bench_horizon_{uuid.uuid4().hex[:8]}"
    held: list[psycopg.Connection[Any]] = []
    try:
        with CaseLedger(f"{args.postgres}?schema={schema}") as ledger:
            for n in range(300):
                ledger.record(
                    {"case_no": f"H-{n}", "command_id": f"H-{n}-1",
                     "at": "2026-10-12T09:00:00+08:00", "actor": ACTOR, "event": RECEIVED}
                )  # fmt: skip
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'CREATE TABLE "{schema}".elsewhere (n int)')
            store = ledger.store
            first = store.read_log(0, 1)[0][0]
            print(f"load average at start: {os.getloadavg()}")
            rows = []
            for count in sorted(args.counts):
                while len(held) < count:
                    other = psycopg.connect(args.postgres)
                    other.execute(f'SET search_path TO "{schema}"')
                    other.execute("SELECT 1 FROM pg_class, pg_attribute, pg_type LIMIT 1")
                    if len(held) % 4 == 0:  # a writer of the log, its transaction open
                        other.execute(
                            "INSERT INTO caseledger_events (originator_id, originator_version, "
                            "topic, state) VALUES (%s, 1, 'raw', '\\x7b7d')",
                            (f"HELD-{len(held)}",),
                        )
                    else:
                        other.execute("INSERT INTO elsewhere VALUES (1)")
                    held.append(other)
                head = _median_ms(store.log_head, args.calls)
                page = _median_ms(lambda: store.read_log(first, 100), args.calls)
                table = _events_table(store)
                after, params = table.log_after(first, 100)
                with psycopg.connect(args.postgres, autocommit=True) as conn:
                    locks = conn.execute("SELECT COUNT(*) FROM pg_locks").fetchone()
                    server_head = _server_ms(conn, table.head, (), args.calls)
                    server_page = _server_ms(conn, after, params, args.calls)
                rows.append((count, head, page, server_head, server_page))
                print(
                    f"{count:4d} transactions holding ids ({locks[0] if locks else 0} locks): "
                    f"log_head {head:.2f} ms ({server_head:.2f} ms in the server), read_log "
                    f"page {page:.2f} ms ({server_page:.2f}); load {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
            low, high = rows[0], rows[-1]
            print(
                f"from {low[0]} to {high[0]} transactions, in the server: log_head "
                f"x{high[3] / low[3]:.1f}, read_log page x{high[4] / low[4]:.1f}"
            )
    finally:
        for other in held:
            other.close()
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
