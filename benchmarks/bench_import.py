"""Benchmarks of bulk import (``caseledger record FILE``) on SQLite and PostgreSQL (run on
demand: ``make bench``).

1. **SQLite**: ``record_file`` of a JSON Lines file of M demo cases (default 20,000, about
   95,000 events) into a fresh SQLite file, against the raw baseline of the same run: read
   each line, parse it and dump it again with orjson, and insert the rows into a table of
   the same schema with ``sqlite3`` in one transaction; and the floor of any checked import
   in one process (``checked_floor``: validated, chained and treed, nothing else), to tell
   what of the gap is caseledger's own logic.
2. **PostgreSQL** (``--postgres URL``; ``--no-postgres`` to skip): the same file into a fresh
   schema, against a raw psycopg ``COPY`` of the same rows (parsed and dumped the same way)
   into a table of the same schema, in one transaction.
3. **Peak memory** (``--memory-events N``, e.g. 1,000,000; 0 skips): a fresh process imports
   a file of about N events into a fresh SQLite file, another into a fresh PostgreSQL
   schema (unless ``--no-postgres``), and each reports its peak resident size.
4. **Rate at a size** (``--stored N ...``, e.g. ``100000 1000000``): the import of a file of
   5,000 more cases into a ledger already holding about N events, events per second.
5. **Single commands** (``--single N``, default 2,000; 0 skips): ``CaseLedger.record`` of N
   commands one at a time (each a new case) against a raw insert of one row per transaction
   in the same run, on SQLite and PostgreSQL; and the time of one command on a case already
   holding 10 and 1,000 events (flat when the ledger keeps the case it recorded on).
6. **While an import runs** (PostgreSQL, with ``--single``): another ledger records single
   commands and reads a case while the file is imported; the longest and the median
   wait of each, and how many were refused (``StoreError`` after ``lock_timeout``).

Ratios are of figures measured in one run; the figures themselves depend on the hour.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import hashlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

from caseledger import CaseLedger
from caseledger.demo import demo_commands
from caseledger.interchange.files import record_file
from caseledger.interchange.jsonl import dump_commands

RECORDED_AT = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def demo_file(folder: Path, cases: int, *, seed: int = 2026, prefix: str = "") -> Path:
    """A JSON Lines file of ``cases`` demo cases (case numbers prefixed by ``prefix``)."""
    path = folder / f"demo-{prefix}{cases}-{seed}.jsonl"
    if not path.exists():
        with path.open("wb") as out:
            for start in range(0, cases, 5_000):
                chunk = demo_commands(min(5_000, cases - start), seed=seed + start)
                text = dump_commands(chunk)
                if prefix or start:
                    text = text.replace(b'"case_no":"QZ-', f'"case_no":"{prefix}{start}-'.encode())
                    text = text.replace(
                        b'"command_id":"QZ-', f'"command_id":"{prefix}{start}-'.encode()
                    )
                out.write(text)
    return path


def _rows(path: Path) -> list[tuple[str, int, str, bytes]]:
    """What the raw baselines insert: each line parsed and dumped again, versions counted."""
    versions: dict[str, int] = {}
    rows = []
    with path.open("rb") as lines:
        for line in lines:
            data = orjson.loads(line)
            case_no = data["case_no"]
            version = versions[case_no] = versions.get(case_no, 0) + 1
            rows.append(
                (
                    case_no,
                    version,
                    data["event"]["type"],
                    orjson.dumps(data, option=orjson.OPT_SORT_KEYS),
                )
            )
    return rows


def _raw_sqlite_table(db: Path) -> sqlite3.Connection:
    """A connection to a new SQLite file holding an events table of the ledger's schema."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
        "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
    )
    return conn


def raw_sqlite(path: Path, db: Path) -> float:
    """Seconds to parse, dump and insert every line of ``path`` with sqlite3, one transaction."""
    started = time.perf_counter()
    conn = _raw_sqlite_table(db)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", _rows(path))
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started


def checked_floor(path: Path, db: Path) -> float:
    """Seconds of the least work any checked, chained and treed import does in one Python
    process, none of caseledger's own logic in it: each line validated by the command's
    pydantic validator (the same call as ``fast_command``), its state dumped with orjson, one
    SHA-256 for its chain, its Merkle leaf as the ledger makes it (``event_leaf``,
    ``leaf_hash``) and one tree node (a tree of n leaves has n - 1, ``node_hash``), and its
    event row and leaf row inserted with sqlite3, one transaction.
    No lifecycle, rule, limit or repeat check, no case read: a floor, not an import."""
    from caseledger.audit.offline import event_leaf, leaf_hash, node_hash
    from caseledger.domain.case import Command

    validate = Command.__pydantic_validator__.validate_json
    started = time.perf_counter()
    conn = _raw_sqlite_table(db)
    conn.execute("CREATE TABLE leaves (leaf_index INTEGER PRIMARY KEY, hash BLOB)")
    heads: dict[str, bytes] = {}
    versions: dict[str, int] = {}
    events, leaves = [], []
    previous = b""
    with path.open("rb") as lines:
        for index, line in enumerate(lines):
            validate(line, strict=True)
            data = orjson.loads(line)
            case_no = data["case_no"]
            version = versions[case_no] = versions.get(case_no, 0) + 1
            state = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
            topic = data["event"]["type"]
            heads[case_no] = hashlib.sha256(heads.get(case_no, b"") + state).digest()
            leaf = leaf_hash(event_leaf(case_no, version, topic, state))
            previous = node_hash(previous, leaf)
            events.append((case_no, version, topic, state))
            leaves.append((index, leaf))
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", events)
    conn.executemany("INSERT INTO leaves VALUES (?, ?)", leaves)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started


def raw_copy(path: Path, url: str) -> float:
    """Seconds to parse, dump and COPY every line of ``path`` with psycopg, one transaction."""
    import psycopg

    schema = f"bench_raw_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(
            f'CREATE TABLE "{schema}".stored_events (originator_id text NOT NULL, '
            "originator_version bigint NOT NULL, topic text, state bytea, "
            "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
        )
        conn.execute(f'CREATE UNIQUE INDEX ON "{schema}".stored_events (notification_id)')
        try:
            started = time.perf_counter()
            with conn.transaction(), conn.cursor() as cursor:
                statement = (
                    f'COPY "{schema}".stored_events (originator_id, originator_version, topic, '
                    "state) FROM STDIN (FORMAT BINARY)"
                )
                with cursor.copy(statement) as copy:
                    copy.set_types(["text", "int8", "text", "bytea"])
                    for row in _rows(path):
                        copy.write_row(row)
            return time.perf_counter() - started
        finally:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def ledger_import(path: Path, url: str) -> float:
    """Seconds ``record_file`` takes to import ``path`` into the ledger at ``url``."""
    with CaseLedger(url, clock=lambda: RECORDED_AT) as ledger:
        started = time.perf_counter()
        record_file(ledger, path)
        return time.perf_counter() - started


def fresh_schema(url: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    return f"{url}?schema={schema}", schema


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def peak_memory(path: Path, url: str) -> dict[str, float]:
    """A fresh process imports ``path`` into the fresh ledger at ``url``: its peak memory
    (MB) and the seconds the import took."""
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(path), url],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def _peak_mb() -> float:
    """This process's peak resident size (MB): Linux's ``VmHWM``, of this program only.
    (``ru_maxrss`` is not: it keeps the high-water mark of the process before ``exec``, the
    benchmark's parent as it was when it forked, which holds the baselines' rows.)"""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: Path, url: str) -> None:
    seconds = ledger_import(path, url)
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_mb()}))


ACTOR = {"person": "A1", "role": "window_a", "department": "D"}
SUSPENDED = {"type": "clock_suspended", "reason": "hearing"}
ACCEPTED = {"type": "accepted", "item_code": "QZ-SCJG-0101", "case_kind": "promised",
            "rule_pack": "national"}  # fmt: skip


def _single(n: int, case_no: str, event: dict[str, object], minute: int) -> dict[str, object]:
    at = (dt.datetime(2026, 10, 12, 9, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)).isoformat()
    return {"case_no": case_no, "command_id": f"{case_no}-{n}", "at": at, "actor": ACTOR,
            "event": event}  # fmt: skip


def single_commands(url: str, count: int) -> float:
    """Seconds per ``record`` of ``count`` commands, each opening a case."""
    received = {"type": "received", "channel": "window", "applicant": "APP"}
    with CaseLedger(url, clock=lambda: RECORDED_AT) as ledger:
        ledger.record(_single(1, "WARM", received, 0))
        started = time.perf_counter()
        for n in range(count):
            ledger.record(_single(1, f"S-{n}", received, 0))
        return (time.perf_counter() - started) / count


def raw_single_sqlite(db: Path, count: int) -> float:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (originator_id TEXT, originator_version INTEGER, topic TEXT, "
                 "state BLOB, PRIMARY KEY (originator_id, originator_version))")  # fmt: skip
    state = orjson.dumps({"x": "y" * 300})
    started = time.perf_counter()
    for n in range(count):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO t VALUES (?, 1, 'received', ?)", (f"S-{n}", state))
        conn.execute("COMMIT")
    conn.close()
    return (time.perf_counter() - started) / count


def raw_single_postgres(url: str, count: int) -> float:
    import psycopg

    schema = f"bench_raw_{uuid.uuid4().hex[:8]}"
    state = orjson.dumps({"x": "y" * 300})
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'CREATE TABLE "{schema}".t (originator_id text, originator_version bigint, '
                     "topic text, state bytea, notification_id bigserial, "
                     "PRIMARY KEY (originator_id, originator_version))")  # fmt: skip
        try:
            started = time.perf_counter()
            for n in range(count):
                with conn.transaction():
                    conn.execute(f'INSERT INTO "{schema}".t VALUES (%s, 1, %s, %s)',
                                 (f"S-{n}", "received", state))  # fmt: skip
            return (time.perf_counter() - started) / count
        finally:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _pause(n: int) -> dict[str, object]:
    """The clock suspended at odd versions, resumed at even ones (from version 3)."""
    return SUSPENDED if n % 2 else {"type": "clock_resumed"}


def case_length(
    url: str, lengths: tuple[int, ...] = (10, 1000), rounds: int = 50
) -> dict[int, float]:
    """Seconds per ``record`` on a case already holding each of ``lengths`` events, the
    cases taking turns (so that the disk's moods fall on each alike)."""
    received = {"type": "received", "channel": "window", "applicant": "APP"}
    spent = dict.fromkeys(lengths, 0.0)
    with CaseLedger(url, clock=lambda: RECORDED_AT) as ledger:
        for length in lengths:
            case_no = f"L-{length}"
            batch = [_single(1, case_no, received, 0), _single(2, case_no, ACCEPTED, 1)]
            batch += [_single(n, case_no, _pause(n), n) for n in range(3, length + 1)]
            ledger.record_batch(batch)
            ledger.record(_single(length + 1, case_no, _pause(length + 1), length + 1))  # kept
        for turn in range(rounds):
            for length in lengths:
                n = length + 2 + turn
                started = time.perf_counter()
                ledger.record(_single(n, f"L-{length}", _pause(n), n))
                spent[length] += time.perf_counter() - started
    return {length: seconds / rounds for length, seconds in spent.items()}


def while_importing(path: Path, url: str) -> dict[str, list[float]]:
    """Waits (seconds) of single commands and of reading a case on ``url`` while
    ``path`` is imported into it by another ledger; refused commands count as ``inf``."""
    import threading

    from caseledger import StoreError

    received = {"type": "received", "channel": "window", "applicant": "APP"}
    waits: dict[str, list[float]] = {"record": [], "case": []}
    with CaseLedger(url, clock=lambda: RECORDED_AT) as ledger:
        ledger.record(_single(1, "WARM", received, 0))
        importing = threading.Thread(target=ledger_import, args=(path, url))
        importing.start()
        n = 0
        while importing.is_alive():
            n += 1
            one = _single(1, f"D-{n}", received, 0)
            for name, call in (
                ("record", functools.partial(ledger.record, one)),
                ("case", functools.partial(ledger.case, "WARM")),
            ):
                started = time.perf_counter()
                try:
                    call()
                    waits[name].append(time.perf_counter() - started)
                except StoreError:
                    waits[name].append(float("inf"))
            time.sleep(0.05)
        importing.join()
    return waits


def _report_single(store: str, raw: float, ours: float) -> None:
    print(
        f"single commands, {store}: raw insert of one row a transaction {raw * 1e3:.3f} ms; "
        f"record {ours * 1e3:.3f} ms ({1 / ours:,.0f}/s); {ours / raw:.1f} times the raw"
    )


def _count(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for _ in lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument(
        "--postgres", default=os.environ.get("CASELEDGER_TEST_POSTGRES", DEFAULT_POSTGRES)
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--memory-events", type=int, default=0)
    parser.add_argument("--stored", type=int, nargs="*", default=[])
    parser.add_argument("--single", type=int, default=2_000)
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="import ratios: the raw baseline and caseledger taking turns N times, the best "
        "of each (steadier on a loaded machine)",
    )  # fmt: skip
    parser.add_argument("--child", nargs=2, metavar=("FILE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1])
        return
    folder = args.folder or Path(tempfile.mkdtemp(prefix="caseledger-bench-"))
    path = demo_file(folder, args.cases)
    events = _count(path)
    print(
        f"file: {events:,} events of {args.cases:,} demo cases ({path.stat().st_size / 1e6:.1f} MB)"
    )

    rounds = max(1, args.rounds)
    best = f" (best of {rounds}, taking turns)" if rounds > 1 else ""
    raws, ours_all = [], []
    for _ in range(rounds):
        raws.append(raw_sqlite(path, folder / f"raw-{uuid.uuid4().hex[:6]}.db"))
        ours_all.append(ledger_import(path, f"sqlite:///{folder}/ledger-{uuid.uuid4().hex[:6]}.db"))
    raw, ours = min(raws), min(ours_all)
    print(f"SQLite: raw sqlite3 {events / raw:,.0f} events/s; caseledger {events / ours:,.0f} "
          f"events/s; ratio {raw / ours:.3f} (target >= 0.5){best}")  # fmt: skip
    floor = min(
        checked_floor(path, folder / f"floor-{uuid.uuid4().hex[:6]}.db") for _ in range(rounds)
    )
    print(f"SQLite: the floor of a checked import in one process (validated, chained, treed, "
          f"no logic of caseledger's) {events / floor:,.0f} events/s; ratio {raw / floor:.3f} "
          f"of raw; caseledger {floor / ours:.3f} of the floor")  # fmt: skip

    if not args.no_postgres:
        raws, ours_all = [], []
        for _ in range(rounds):
            raws.append(raw_copy(path, args.postgres))
            url, schema = fresh_schema(args.postgres)
            try:
                ours_all.append(ledger_import(path, url))
            finally:
                drop_schema(args.postgres, schema)
        raw, ours = min(raws), min(ours_all)
        print(f"PostgreSQL: raw psycopg COPY {events / raw:,.0f} events/s; caseledger "
              f"{events / ours:,.0f} events/s; ratio {raw / ours:.3f} "
              f"(target >= 0.5){best}")  # fmt: skip

    if args.memory_events:
        big = demo_file(folder, max(1, args.memory_events * args.cases // events), prefix="M")
        n = _count(big)
        stores = [("SQLite", f"sqlite:///{folder}/memory-{uuid.uuid4().hex[:6]}.db", None)]
        if not args.no_postgres:
            stores.append(("PostgreSQL", *fresh_schema(args.postgres)))
        for store, url, schema in stores:
            try:
                measured = peak_memory(big, url)
            finally:
                if schema is not None:
                    drop_schema(args.postgres, schema)
            print(f"peak memory importing {n:,} events into {store}: "
                  f"{measured['peak_mb']:,.0f} MB ({n / measured['seconds']:,.0f} events/s) "
                  "(target < 300 MB)")  # fmt: skip

    if args.single:
        raw = raw_single_sqlite(folder / f"single-raw-{uuid.uuid4().hex[:6]}.db", args.single)
        ours = single_commands(f"sqlite:///{folder}/single-{uuid.uuid4().hex[:6]}.db", args.single)
        _report_single("SQLite", raw, ours)
        if not args.no_postgres:
            raw = raw_single_postgres(args.postgres, args.single)
            url, schema = fresh_schema(args.postgres)
            try:
                ours = single_commands(url, args.single)
            finally:
                drop_schema(args.postgres, schema)
            _report_single("PostgreSQL", raw, ours)
        if not args.no_postgres:
            url, schema = fresh_schema(args.postgres)
            try:
                waits = while_importing(path, url)
            finally:
                drop_schema(args.postgres, schema)
            for name, seen in waits.items():
                done = sorted(w for w in seen if w != float("inf"))
                print(f"while importing into PostgreSQL, {name}: {len(seen)} calls, longest "
                      f"{max(done, default=0) * 1e3:,.0f} ms, median "
                      f"{(done[len(done) // 2] if done else 0) * 1e3:,.1f} ms, "
                      f"{len(seen) - len(done)} refused")  # fmt: skip
        by_length = case_length(f"sqlite:///{folder}/length-{uuid.uuid4().hex[:6]}.db")
        shown = [
            f"{length:,} events: {seconds * 1e3:.2f} ms" for length, seconds in by_length.items()
        ]
        print("one command on a case of " + ", ".join(shown))

    for stored in args.stored:
        db = folder / f"stored-{stored}.db"
        url = f"sqlite:///{db}"
        if not db.exists():
            base = demo_file(folder, max(1, stored * args.cases // events), prefix="S")
            ledger_import(base, url)
        more = demo_file(folder, 5_000, seed=99, prefix=f"N{uuid.uuid4().hex[:4]}")
        seconds = ledger_import(more, url)
        print(f"SQLite holding about {stored:,} events: 5,000 more cases at "
              f"{_count(more) / seconds:,.0f} events/s")  # fmt: skip


if __name__ == "__main__":
    main()
