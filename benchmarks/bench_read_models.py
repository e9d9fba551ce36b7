"""Benchmarks of the board read model on SQLite (run on demand: ``make bench``).

1. **Board query** over N open cases (default 1,000,000): the read model is filled with
   synthetic rows of the real schema (deadlines spread over the next 60 working days, yellow
   two working days before, a few red by violation), then ``board(as_of)`` is timed, each
   run beside a plain indexed count of the red cases (alternately, so that a loaded machine
   slows both alike). The board counts both lights in one pass over the partial index on
   ``alert_from`` and lists the worst from the one on ``red_from``; ``EXPLAIN QUERY PLAN``
   of both counts is printed.
2. **Rebuild** of the read models from the event log of M sample cases (default 20,000,
   about 100,000 events), timed against a plain scan of the same notification log (read
   every row and decode its JSON) through eventsourcing and straight from the table:
   medians of several runs, events per second and the ratios; the rebuild runs once with a
   process per core and once in one process.

Numbers are measured in one run on this machine; compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from caseledger import CaseLedger
from caseledger.demo import demo_commands
from caseledger.judging.rows import COLUMNS
from caseledger.readmodels.parallel import worker_count
from caseledger.readmodels.reports import board
from caseledger.readmodels.tables import CURRENT

AS_OF = dt.date(2026, 11, 23)


def fill_board(ledger: CaseLedger, cases: int, seed: int = 7, history: int = 2) -> None:
    """``cases`` open cases, each with its current segment and ``history`` ended ones (the
    days of its earlier events), as a rebuild would write them."""
    projection = ledger.read_models
    calendar = ledger.packs.get("national").calendar
    rng = random.Random(seed)
    first = AS_OF - dt.timedelta(days=10)
    days = [calendar.add_working_days(first, n).value for n in range(1, 70)]
    departments = [f"部门{n:02d}" for n in range(30)]
    rows = []
    for number in range(cases):
        deadline = rng.choice(days)
        yellow = days[max(0, days.index(deadline) - 2)]
        violated = rng.random() < 0.01
        red = (
            min(deadline + dt.timedelta(days=1), AS_OF - dt.timedelta(days=3))
            if violated
            else (deadline + dt.timedelta(days=1))
        )
        received = AS_OF - dt.timedelta(days=rng.randint(1 + history, 40))
        later = range(received.toordinal() + 1, AS_OF.toordinal())
        segments = [received.toordinal(), *sorted(rng.sample(later, history))]
        department = rng.choice(departments)
        for index, seg_from in enumerate(segments):
            last = index == len(segments) - 1
            row = dict.fromkeys(COLUMNS)
            row.update(
                case_no=f"B-{number:07d}", seg_from=seg_from,
                seg_to=None if last else segments[index + 1] - 1, watched=1,
                status="accepted", received_on=received.toordinal(),
                started_from=received.toordinal(), deadline_kind="statutory",
                deadline=deadline.toordinal(), deadline_wd=calendar.working_day_index(deadline),
                decision_deadline=deadline.toordinal(),
                yellow_from=yellow.toordinal(), red_from=red.toordinal(),
                alert_from=min(yellow, red).toordinal(),
                paused=0, provisional=0, findings=(
                    f"{red.toordinal()}:ultra_vires" if violated else ""),
                item_code=f"ITEM-{rng.randint(1, 500):03d}", case_kind="promised",
                rule_pack="national", pack_hash="-", department=department,
                window_code=f"W{rng.randint(1, 80):02d}", received_month="2026-11",
            )  # fmt: skip
            rows.append(tuple(row.values()))
    recorder = projection.recorder
    with recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
        cursor.executemany(recorder.sql.insert, rows)
        for statement in recorder.sql.recount:  # the days' tally, as a rebuild counts it
            cursor.execute(statement)
    with recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
        cursor.execute("ANALYZE")


def bench_board(path: Path, cases: int, runs: int) -> None:
    url = f"sqlite:///{path}"
    with CaseLedger(url) as ledger:
        started = time.perf_counter()
        fill_board(ledger, cases)
        print(
            f"filled the board with {cases:,} open cases in {time.perf_counter() - started:.1f} s"
        )
        projection = ledger.read_models
        t = {"t": AS_OF.toordinal()}
        count = f"SELECT COUNT(*) AS n FROM {projection.table} WHERE {CURRENT} AND red_from <= :t"
        plan = projection.query(f"EXPLAIN QUERY PLAN {count}", t)
        print("plain count's plan:", "; ".join(str(row.get("detail")) for row in plan))
        tally = (
            f"SELECT COUNT(*) AS alert, COUNT(*) FILTER (WHERE red_from <= :t) AS red "
            f"FROM {projection.table} WHERE {CURRENT} AND seg_from <= :t AND alert_from <= :t"
        )
        plan = projection.query(f"EXPLAIN QUERY PLAN {tally}", t)
        print(
            "a filtered board's count's plan (today's counts come from the tally of days):",
            "; ".join(str(row.get("detail")) for row in plan),
        )
        for limit in (100, None):
            # wall time, and the CPU time of this process (less moved by other processes
            # on a loaded machine)
            plain, times, plain_cpu, times_cpu = [], [], [], []
            for _ in range(runs if limit else max(1, runs // 5)):
                started, cpu = time.perf_counter(), time.process_time()
                projection.query(count, t)
                plain.append(time.perf_counter() - started)
                plain_cpu.append(time.process_time() - cpu)
                started, cpu = time.perf_counter(), time.process_time()
                result = board(projection, AS_OF, limit=limit)
                times.append(time.perf_counter() - started)
                times_cpu.append(time.process_time() - cpu)
            base, median = statistics.median(plain), statistics.median(times)
            base_cpu, median_cpu = statistics.median(plain_cpu), statistics.median(times_cpu)
            what = f"the worst {limit}" if limit else "every alerting case"
            print(
                f"board as of {AS_OF} over {cases:,} open cases ({result.red:,} red, "
                f"{result.yellow:,} yellow), counts and {what} ({len(result.entries):,} listed): "
                f"median {median * 1000:.1f} ms (CPU {median_cpu * 1000:.1f} ms), best "
                f"{min(times) * 1000:.1f} ms; a plain indexed count of the red cases in the same "
                f"runs: median {base * 1000:.1f} ms (CPU {base_cpu * 1000:.1f} ms); ratio "
                f"{median / base:.2f} (CPU {median_cpu / base_cpu:.2f})"
            )
        started = time.perf_counter()
        everything = projection.query(f"SELECT COUNT(*) AS n FROM {projection.table}", {})
        print(f"(a full count of the table takes {(time.perf_counter() - started) * 1000:.1f} ms;"
              f" rows: {everything[0]['n']:,})")  # fmt: skip


def plain_scan(ledger: CaseLedger) -> int:
    """Read eventsourcing's notification log and decode every event's JSON."""
    count = 0
    for notification in ledger.store.notifications(page=10_000):
        orjson.loads(notification.state)
        count += 1
    return count


def table_scan(ledger: CaseLedger) -> int:
    """Read the events table straight, as the rebuild does (blocks of 500 streams, in one
    process), and decode every event's JSON."""
    count, upto = 0, ledger.store.max_notification_id()
    numbers, read = ledger.store.stream_numbers(upto), ledger.store.span_reader()
    for start in range(0, len(numbers), 500):
        block = numbers[start : start + 500]
        for row in read(block[0], block[-1], upto):
            orjson.loads(row[4])
            count += 1
    return count


def timed(function: Callable[[], int], runs: int) -> tuple[int, float]:
    """The result of ``function`` and the median of its times over ``runs`` runs."""
    times, result = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return result, statistics.median(times)


def bench_rebuild(path: Path, cases: int, runs: int) -> None:
    clock_now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    with CaseLedger(f"sqlite:///{path}", clock=lambda: clock_now) as ledger:
        commands = demo_commands(cases)
        started = time.perf_counter()
        for start in range(0, len(commands), 50_000):
            ledger.record_batch(commands[start : start + 50_000])
        recording = time.perf_counter() - started
        print(f"recorded {len(commands):,} events of {cases:,} cases in {recording:.1f} s "
              f"({len(commands) / recording:,.0f} events/s)")  # fmt: skip
        for name in ledger.packs.names():
            ledger.packs.get(name, judging=False).calendar  # noqa: B018 - built outside the timing
        scanned, scan = timed(lambda: plain_scan(ledger), runs)
        _, raw = timed(lambda: table_scan(ledger), runs)
        projection = ledger.read_models
        workers = worker_count(cases)
        rebuilt, rebuild = timed(projection.rebuild, runs)
        _, alone = timed(lambda: projection.rebuild(workers=1), runs)
        print(f"medians of {runs} runs over {scanned:,} events:")
        for what, seconds in (
            ("plain scan of the notification log (eventsourcing)", scan),
            ("scan of the events table (rows as the rebuild reads them)", raw),
            (f"rebuild of the read models, {workers} process(es)", rebuild),
            ("rebuild of the read models, 1 process", alone),
        ):
            print(f"  {what}: {seconds:.2f} s ({scanned / seconds:,.0f} events/s)")
        print(f"ratio rebuild / plain scan: {rebuild / scan:.2f}x the time "
              f"({scan / rebuild:.3f} of its speed); rebuild / table scan: "
              f"{rebuild / raw:.2f}x the time")  # fmt: skip
        assert rebuilt == scanned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open-cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rebuild-cases", type=int, default=20_000)
    parser.add_argument("--rebuild-runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench_board(Path(folder) / "board.db", args.open_cases, args.runs)
        bench_rebuild(Path(folder) / "rebuild.db", args.rebuild_cases, args.rebuild_runs)


if __name__ == "__main__":
    main()
