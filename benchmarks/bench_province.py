"""Figures for running a province on PostgreSQL (docs/running-a-province.md), at growing
sizes of one ledger (run on demand: ``make bench`` does not run it; it takes long).

The ledger is filled with demo cases of Quanzhou (``caseledger.demo.demo_commands``: the
cities' real items, paths and pauses; about 4.7 events a case), their case and command
numbers made unique per chunk, through ``record_file`` (the bulk path a migration uses:
each line checked, the hash chain computed, rows written with COPY in chunks), a chunk of
``--chunk`` cases (default 10,000, about 47,000 events) at a time. At each size of
``--sizes`` (events stored; default 1,000,000 and 10,000,000) it measures:

- **record**: ``CaseLedger.record`` of 200 single commands (each opening a case): median
  and 95th percentile, milliseconds;
- **import**: the events per second of the chunk that reached the size (``record_file``);
- **rebuild**: ``BoardProjection.rebuild`` with a process per core (the parallel rebuild:
  every process reads one exported snapshot) and, at sizes up to ``--alone-upto`` (default
  1,000,000), in one process too, alternately (parallel, one process, parallel), events per
  second and the ratio in the same run; a rebuild the time left cannot hold (estimated
  from the last rate) is skipped, and said so;
- **catch-up**: ``catch_up`` of about 10,000 events recorded after the board was built,
  events per second;
- **board** and **statistics**: ``board(as_of, limit=50)`` and ``statistics(as_of)`` on
  the caught-up board, median of 5, milliseconds;
- **sizes**: ``pg_relation_size``, ``pg_indexes_size`` and ``pg_total_relation_size`` of
  the events table and the board's tables.

``--budget-minutes`` (default 45) bounds the whole run: filling stops when the budget
would be passed, and the last size is measured where the filling stopped. The figures are
printed as they come and written to ``--out`` (JSON). The schema is dropped at the end
unless ``--keep``. This machine's PostgreSQL shares its 2 cores with other work: the load
average is printed with each figure; compare ratios measured in one run, not absolute times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from caseledger import CaseLedger
from caseledger.demo import demo_commands
from caseledger.interchange.files import record_file
from caseledger.interchange.jsonl import dump_commands
from caseledger.readmodels.parallel import worker_count

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
RECORDED_AT = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 11, 23)
SEEDS = (2026, 2027, 2028, 2029)
"""The demo draws the chunks cycle through (each chunk its own case numbers)."""


class Province:
    """One ledger in a fresh schema, filled chunk after chunk."""

    def __init__(self, url: str, chunk: int, folder: Path, schema: str | None = None) -> None:
        self.schema = schema or f"province_{uuid.uuid4().hex[:8]}"
        self.base = url
        self.url = f"{url}?schema={self.schema}&statement_timeout=3600&answer_timeout=3700"
        self.chunk = chunk
        self.folder = folder
        self.texts = [dump_commands(demo_commands(chunk, seed=seed)) for seed in SEEDS]
        self.chunks = 0
        self.events = 0
        if schema is not None:
            self._resume()

    def _resume(self) -> None:
        """Go on with the ledger of an earlier run (its schema kept): its events counted,
        the chunks numbered after its last."""
        import psycopg

        table = f'"{self.schema}".caseledger_events'
        with psycopg.connect(self.base) as conn:
            count = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
            last = conn.execute(
                f"SELECT originator_id FROM {table} WHERE originator_id LIKE 'QZ-_____-%' "
                "ORDER BY notification_id DESC LIMIT 1"
            ).fetchone()
        self.events = int(count[0]) if count else 0
        self.chunks = int(str(last[0])[3:8]) + 1 if last else 0

    def analyze(self) -> float:
        """``VACUUM (ANALYZE)`` of the ledger's tables, as autovacuum would do on a server
        that runs it (this one does not): seconds."""
        import psycopg

        started = time.perf_counter()
        with psycopg.connect(self.base, autocommit=True) as conn:
            tables = conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r'",
                (self.schema,),
            ).fetchall()
            for (name,) in tables:
                conn.execute(f'VACUUM (ANALYZE) "{self.schema}"."{name}"')
        return time.perf_counter() - started

    def chunk_file(self, lines: int | None = None) -> tuple[Path, int]:
        """The next chunk as a JSON Lines file (its first ``lines`` lines only, if given:
        the events come in the order they happened, so a prefix is valid), and its lines."""
        text = self.texts[self.chunks % len(self.texts)]
        prefix = f"QZ-{self.chunks:05d}-".encode()
        text = text.replace(b'"case_no":"QZ-2026-', b'"case_no":"' + prefix)
        text = text.replace(b'"command_id":"QZ-2026-', b'"command_id":"' + prefix)
        if lines is not None:
            text = b"".join(text.splitlines(keepends=True)[:lines])
        self.chunks += 1
        path = self.folder / "chunk.jsonl"
        path.write_bytes(text)
        return path, text.count(b"\n")

    def add_chunk(self, ledger: CaseLedger, lines: int | None = None) -> tuple[int, float]:
        """Import the next chunk: its events and seconds."""
        path, events = self.chunk_file(lines)
        started = time.perf_counter()
        record_file(ledger, path)
        seconds = time.perf_counter() - started
        self.events += events
        return events, seconds


def load() -> float:
    return os.getloadavg()[0]


def report(figures: dict[str, Any], key: str, value: Any) -> None:
    figures[key] = value
    print(f"  {key}: {value}  (load {load():.2f})", flush=True)


def timed(function: Callable[[], object], runs: int) -> float:
    """The median of ``runs`` timings of ``function``, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def single_records(ledger: CaseLedger, size: int, count: int = 200) -> dict[str, float]:
    times = []
    first = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
    actor = {"person": "A1", "role": "window_a", "department": "市行政审批局", "window": "W1"}
    for n in range(count):
        case_no = f"SINGLE-{size}-{n}"
        command = {
            "case_no": case_no, "command_id": f"{case_no}-1", "actor": actor,
            "at": (first + dt.timedelta(minutes=n)).isoformat(),
            "event": {"type": "received", "channel": "window", "applicant": "APP"},
        }  # fmt: skip
        started = time.perf_counter()
        ledger.record(command)
        times.append(time.perf_counter() - started)
    times.sort()
    return {
        "median_ms": round(statistics.median(times) * 1000, 2),
        "p95_ms": round(times[int(len(times) * 0.95)] * 1000, 2),
    }


def relation_sizes(url: str, schema: str) -> dict[str, dict[str, int]]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_relation_size(c.oid), pg_indexes_size(c.oid), "
            "pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r' "
            "ORDER BY pg_total_relation_size(c.oid) DESC",
            (schema,),
        ).fetchall()
    return {
        name: {"table_mb": mb(table), "indexes_mb": mb(indexes), "total_mb": mb(total)}
        for name, table, indexes, total in rows
    }


def mb(size: int) -> Any:
    return round(size / 1e6, 1)


def measure(
    province: Province,
    ledger: CaseLedger,
    size: int,
    deadline: float,
    alone_upto: int,
    last_import: float,
    analyze: bool,
) -> dict[str, Any]:
    figures: dict[str, Any] = {"events_stored": province.events, "cores": os.cpu_count()}
    print(f"at {province.events:,} events stored:", flush=True)
    if analyze:
        report(figures, "vacuum_analyze_s", round(province.analyze(), 1))
    if not last_import or analyze:  # the rate of a chunk imported into the table as it is now
        events, seconds = province.add_chunk(ledger)
        last_import = events / seconds
    report(figures, "import_events_per_s", round(last_import))
    report(figures, "record", single_records(ledger, size))
    projection = ledger.read_models
    rates: dict[str, list[float]] = {"parallel": [], "one_process": []}
    plan = [("parallel", None), ("one_process", 1), ("parallel", None)]
    if size > alone_upto:  # the size aimed at (a chunk passes it a little)
        plan = plan[:1]
    for name, workers in plan:
        known = rates["parallel"] or rates["one_process"]
        estimate = province.events / known[0] if known else 0.0
        if time.monotonic() + estimate * 1.2 > deadline:
            report(figures, f"rebuild_{name}_skipped", f"about {estimate:.0f} s, over budget")
            continue
        started = time.perf_counter()
        applied = projection.rebuild(workers=workers)
        seconds = time.perf_counter() - started
        rates[name].append(applied / seconds)
        report(figures, f"rebuild_{name}_events_per_s", round(applied / seconds))
    if rates["parallel"] and rates["one_process"]:
        ratio = statistics.median(rates["parallel"]) / statistics.median(rates["one_process"])
        report(figures, "rebuild_parallel_over_one_process", round(ratio, 2))
    if not (rates["parallel"] or rates["one_process"]):
        return figures  # no whole board: catching up the log instead would pass the budget
    province.add_chunk(ledger, lines=10_000)
    started = time.perf_counter()
    applied = ledger.catch_up()
    seconds = time.perf_counter() - started
    report(figures, "catch_up", {"events": applied, "events_per_s": round(applied / seconds)})
    board_s = timed(lambda: ledger.board(AS_OF, limit=50), 5)
    report(figures, "board_ms", round(board_s * 1000, 1))
    stats_s = timed(lambda: ledger.statistics(AS_OF), 5)
    report(figures, "statistics_ms", round(stats_s * 1000, 1))
    report(figures, "sizes", relation_sizes(province.base, province.schema))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--chunk", type=int, default=10_000, help="cases per imported file")
    parser.add_argument("--budget-minutes", type=float, default=45.0)
    parser.add_argument("--alone-upto", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    parser.add_argument(
        "--schema", default=None, help="go on with the kept schema of an earlier run"
    )
    parser.add_argument(
        "--no-analyze", action="store_true",
        help="measure without VACUUM (ANALYZE) at each size (as a server without autovacuum)",
    )  # fmt: skip
    args = parser.parse_args()
    started = time.monotonic()
    deadline = started + args.budget_minutes * 60
    results: dict[str, Any] = {"sizes": [], "load_at_start": load()}
    with tempfile.TemporaryDirectory() as folder:
        province = Province(args.postgres, args.chunk, Path(folder), args.schema)
        print(f"schema {province.schema}; {worker_count(10**9)} rebuild processes", flush=True)
        try:
            with CaseLedger(province.url, clock=lambda: RECORDED_AT) as ledger:
                ledger.read_models  # noqa: B018 - the board's tables, made before filling
                last = 0.0
                rebuild_rate = 0.0
                for size in sorted(args.sizes):
                    filling = time.monotonic()
                    while province.events < size:
                        # room for two more chunks and the measurements at this size
                        chunks = 2 * province.chunk * 4.7 / last if last else 0.0
                        rebuild = province.events / (rebuild_rate or 15_000)
                        if time.monotonic() + chunks + 1.2 * rebuild + 120 > deadline:
                            print("  (budget: filling stopped here)", flush=True)
                            break
                        events, seconds = province.add_chunk(ledger)
                        last = events / seconds
                    print(f"filled to {province.events:,} events in "
                          f"{time.monotonic() - filling:.0f} s", flush=True)  # fmt: skip
                    figures = measure(
                        province, ledger, size, deadline, args.alone_upto, last,
                        not args.no_analyze,
                    )  # fmt: skip
                    results["sizes"].append(figures)
                    rebuild_rate = figures.get("rebuild_parallel_events_per_s", rebuild_rate)
                    if args.out is not None:
                        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
                    if province.events < size:
                        break
        finally:
            if not args.keep:
                import psycopg

                with psycopg.connect(args.postgres, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{province.schema}" CASCADE')
    results["minutes"] = round((time.monotonic() - started) / 60, 1)
    print(f"done in {results['minutes']} minutes", flush=True)
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    json.dump(results, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
