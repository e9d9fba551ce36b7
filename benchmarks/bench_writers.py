"""Writers in parallel (run on demand): N processes each record single commands on cases of
their own, on an SQLite file and on PostgreSQL; commands per second in total with 1 and with
8 writers, and the ratio (issue 16's target on PostgreSQL: 8 writers at least 4 times one).
Then a follower (the board's catch-up) is checked to have applied every event.

On PostgreSQL writers take no table lock (docs/bulk-import.md §3); ``--compare-lock`` also
runs them with eventsourcing's ``LOCK TABLE ... IN EXCLUSIVE MODE`` in every recording
transaction, as before (``CopyRecorder.serialise_writers``), alternating in the same run.
A follower (the board's ``follow``) runs meanwhile and must have applied every event once.
Each writer reports its CPU time: CPU per command against wall time per command says how
much of a command is this process's work and how much waiting (the server, the other
writers, the 2 cores). The whole machine's busy CPU time over the run (``/proc/stat``:
writers, server, follower) per command gives the ceiling the cores allow, ``cores / CPU
per command``: 8 writers cannot pass it, so its ratio to one writer's rate says whether the
4-times target fits the machine at all. A raw one-row INSERT per transaction (psycopg)
gives the floor, and the same raw transaction in 1 and in 8 processes (``raw_writers``)
the most any writer scales on this machine: the rawest writer there is, run beside the
ledger's in the same round, says whether 4 times is within the machine's reach at all.
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.synchronize
import os
import threading
import time
import uuid
from typing import Any

from bench_import import drop_schema, fresh_schema  # the folder of this script

from caseledger import CaseLedger
from caseledger.store.postgres import CopyRecorder

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
ACTOR = {"person": "A1", "role": "window_a", "department": "D"}
RECEIVED = {"type": "received", "channel": "window", "applicant": "APP"}


def _write(
    url: str, writer: int, count: int, start: multiprocessing.synchronize.Event, cpu: Any
) -> None:
    with CaseLedger(url) as ledger:
        start.wait()
        before = os.times()
        for n in range(count):
            ledger.record(
                {"case_no": f"W{writer}-{n}", "command_id": f"W{writer}-{n}-1",
                 "at": "2026-10-12T09:00:00+08:00", "actor": ACTOR, "event": RECEIVED}
            )  # fmt: skip
        after = os.times()
        cpu.put((after.user - before.user) + (after.system - before.system))


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (Linux ``/proc/stat``)."""
    with open("/proc/stat") as stat:
        fields = [int(f) for f in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _forked(
    target: Any, arguments: list[tuple[Any, ...]], *extra: Any
) -> tuple[list[multiprocessing.process.BaseProcess], multiprocessing.synchronize.Event]:
    """A forked process for each of ``arguments`` (then the start event, then ``extra``),
    started and given a second to be ready; they begin when the event is set."""
    context = multiprocessing.get_context("fork")
    start = context.Event()
    processes = [context.Process(target=target, args=(*a, start, *extra)) for a in arguments]
    for process in processes:
        process.start()
    time.sleep(1.0)  # every writer has opened its ledger or connection
    return list(processes), start


class Run:
    """One measurement: commands per second in total, CPU milliseconds per command of the
    writers' own processes and of the whole machine (writers, server, follower)."""

    def __init__(self, rate: float, cpu_ms: float, wall_ms: float, machine_ms: float) -> None:
        self.rate, self.cpu_ms, self.wall_ms = rate, cpu_ms, wall_ms
        self.machine_ms = machine_ms

    @property
    def ceiling(self) -> float:
        """Commands per second the machine's cores could give at this CPU per command."""
        return (os.cpu_count() or 1) * 1000 / self.machine_ms


def writers(url: str, count: int, per_writer: int, *, locked: bool = False) -> Run:
    """``count`` writer processes, ``per_writer`` commands each, a follower meanwhile."""
    with CaseLedger(url) as ledger:
        ledger.read_models  # noqa: B018 - the tables, made once
    CopyRecorder.serialise_writers = locked  # inherited by the forked writers
    cpu = multiprocessing.get_context("fork").Queue()
    processes, start = _forked(_write, [(url, w, per_writer) for w in range(count)], cpu)
    stop, applied = threading.Event(), []
    with CaseLedger(url) as follower:
        thread = threading.Thread(target=lambda: applied.append(follower.follow(stop)))
        thread.start()
        started, busy = time.perf_counter(), _busy_seconds()
        start.set()
        for process in processes:
            process.join()
        seconds = time.perf_counter() - started
        busy = _busy_seconds() - busy
        stop.set()
        thread.join()
        assert all(p.exitcode == 0 for p in processes)
        total = count * per_writer
        caught = applied[0] + follower.catch_up()
        assert caught == total, (caught, total)  # every event, each once
    CopyRecorder.serialise_writers = False
    cpu_seconds = sum(cpu.get() for _ in processes)
    return Run(
        total / seconds, 1000 * cpu_seconds / total, 1000 * seconds * count / total,
        1000 * busy / total,
    )  # fmt: skip


def raw_transactions(url: str, count: int, table: str = "raw") -> float:
    """Milliseconds a one-row INSERT transaction takes (psycopg, one connection)."""
    import psycopg

    base, schema = url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{schema}".{table} (n bigserial, body bytea)')
        started = time.perf_counter()
        _one_row_transactions(conn, f'"{schema}".{table}', count)
        return 1000 * (time.perf_counter() - started) / count


def _one_row_transactions(conn: Any, table: str, count: int) -> None:
    """``count`` transactions on ``conn`` (autocommit), each an INSERT of one 400-byte row
    into ``table``: the raw baseline of a command recorded on its own."""
    body = b"x" * 400
    for _ in range(count):
        with conn.transaction():
            conn.execute(f"INSERT INTO {table} (body) VALUES (%s)", (body,))


def _raw_write(url: str, table: str, count: int, start: multiprocessing.synchronize.Event) -> None:
    import psycopg

    base, _ = url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        start.wait()
        _one_row_transactions(conn, table, count)


def raw_writers(url: str, count: int, per_writer: int) -> Run:
    """``count`` processes each committing ``per_writer`` one-row INSERT transactions
    (psycopg, no library), as the writers do: transactions a second in total, and the
    machine's CPU a transaction."""
    import psycopg

    base, schema = url.split("?schema=")
    table = f'"{schema}".raw_writers_{count}'
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        conn.execute(f"CREATE TABLE {table} (n bigserial PRIMARY KEY, body bytea)")
    processes, start = _forked(_raw_write, [(url, table, per_writer)] * count)
    started, busy = time.perf_counter(), _busy_seconds()
    start.set()
    for process in processes:
        process.join()
    seconds, busy = time.perf_counter() - started, _busy_seconds() - busy
    assert all(p.exitcode == 0 for p in processes)
    total = count * per_writer
    return Run(total / seconds, 0.0, 1000 * seconds * count / total, 1000 * busy / total)


def single_commands(postgres: str, count: int, rounds: int) -> None:
    """One process, no follower: milliseconds a ``record`` takes on PostgreSQL as written now
    (one statement), as before (the table lock and COPY: ``serialise_writers``) and a raw
    one-row transaction, taking turns ``rounds`` times; the medians."""
    import statistics

    times: dict[str, list[float]] = {"record": [], "record as before": [], "raw": []}
    url, schema = fresh_schema(postgres)
    try:
        with CaseLedger(url, keep_tree=False) as ledger:
            for r in range(rounds):
                for k, name in enumerate(("record", "record as before")):
                    CopyRecorder.serialise_writers = name != "record"
                    started = time.perf_counter()
                    for n in range(count):
                        ledger.record(
                            {"case_no": f"S{r}-{k}-{n}", "command_id": f"S{r}-{k}-{n}-1",
                             "at": "2026-10-12T09:00:00+08:00", "actor": ACTOR,
                             "event": RECEIVED}
                        )  # fmt: skip
                    times[name].append(1000 * (time.perf_counter() - started) / count)
                    CopyRecorder.serialise_writers = False
                times["raw"].append(raw_transactions(url, count, table=f"raw{r}"))
    finally:
        drop_schema(postgres, schema)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"single commands, PostgreSQL, medians of {rounds} turns of {count}: record "
        f"{median['record']:.2f} ms, as before (lock + COPY) {median['record as before']:.2f} "
        f"ms, raw one-row transaction {median['raw']:.2f} ms: record "
        f"{median['record'] / median['raw']:.1f} times raw (before: "
        f"{median['record as before'] / median['raw']:.1f}); load {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-writer", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--compare-lock", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--single", type=int, default=0, metavar="TURNS",
        help="only time single commands on PostgreSQL, now and as before, TURNS turns each",
    )  # fmt: skip
    parser.add_argument(
        "--postgres", default=os.environ.get("CASELEDGER_TEST_POSTGRES", DEFAULT_POSTGRES)
    )
    parser.add_argument("--folder", default="/tmp")
    args = parser.parse_args()
    if args.single:
        single_commands(args.postgres, args.per_writer, args.single)
        return
    kinds = [("sqlite", False)] * (not args.skip_sqlite) + [("postgresql", False)]
    if args.compare_lock:
        kinds.append(("postgresql", True))
    print(f"load average at start: {os.getloadavg()}")
    for round_no in range(args.rounds):
        for store, locked in kinds:
            runs = {}
            for count in (1, 8):
                if store == "sqlite":
                    url = f"sqlite:///{args.folder}/writers-{uuid.uuid4().hex[:6]}.db"
                    schema = ""
                else:
                    url, schema = fresh_schema(args.postgres)
                try:
                    runs[count] = writers(url, count, args.per_writer, locked=locked)
                    raw = raw_transactions(url, 500) if schema and count == 1 else None
                finally:
                    if schema:
                        drop_schema(args.postgres, schema)
                if raw is not None:
                    print(f"  raw one-row transaction: {raw:.2f} ms")
            if store == "postgresql" and not locked:
                url, schema = fresh_schema(args.postgres)
                try:
                    raw_one = raw_writers(url, 1, 4 * args.per_writer)
                    raw_eight = raw_writers(url, 8, args.per_writer)
                finally:
                    drop_schema(args.postgres, schema)
                print(
                    f"  raw one-row transactions in processes of their own, no library: 1 "
                    f"{raw_one.rate:,.0f}/s ({raw_one.machine_ms:.2f} ms of the machine's CPU "
                    f"each), 8 {raw_eight.rate:,.0f}/s ({raw_eight.machine_ms:.2f} ms): "
                    f"{raw_eight.rate / raw_one.rate:.2f} times, the most a writer scales here"
                )
            one, eight = runs[1], runs[8]
            name = f"{store}{' with the table lock' if locked else ''}"
            print(
                f"round {round_no + 1} {name}: 1 writer {one.rate:,.0f} commands/s "
                f"({one.wall_ms:.2f} ms a command, {one.cpu_ms:.2f} ms of it the writer's CPU), "
                f"8 writers {eight.rate:,.0f}/s ({eight.wall_ms:.2f} ms a command each, "
                f"{eight.cpu_ms:.2f} ms CPU): {eight.rate / one.rate:.2f} times; the follower "
                f"applied every event once; load {os.getloadavg()[0]:.2f}"
            )
            print(
                f"  the machine's CPU a command (writers, server, follower): 1 writer "
                f"{one.machine_ms:.2f} ms, 8 writers {eight.machine_ms:.2f} ms; the "
                f"{os.cpu_count()} cores allow at most {eight.ceiling:,.0f} commands/s at the "
                f"8 writers' cost: {eight.ceiling / one.rate:.2f} times one writer"
            )


if __name__ == "__main__":
    main()
