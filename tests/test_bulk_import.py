"""Bulk import under faults: a ``caseledger record`` killed with SIGKILL at random moments
leaves nothing partial and a re-run records every event exactly once, on both stores; a
large file goes into PostgreSQL while other writers record, each import under a bound on
its time. Counts are kept small for the suite: ``CASELEDGER_BULK_EVENTS`` sets the large
file's size (default 50,000 events; the issue's criterion is 200,000) and
``CASELEDGER_BULK_RUNS`` how many times a file of new cases is imported (default twice; the
criterion, 20)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from caseledger import CaseLedger, ConcurrencyConflict, IllegalTransition, StoreError
from caseledger.demo import demo_commands
from caseledger.domain.records import RecordedEvent
from caseledger.interchange.jsonl import dump_commands
from tests.conftest import fixed_clock
from tests.helpers import RECEIVED, accepted_case, at, command

IMPORT_BOUND = 600.0
"""Seconds one import may take before the test says it hung."""


def demo_file(path: Path, copies: int, cases: int = 5_000) -> int:
    """A file of ``copies`` renumbered copies of ``cases`` demo cases; its event count."""
    text = dump_commands(demo_commands(cases))
    with path.open("wb") as out:
        for copy in range(copies):
            out.write(text.replace(b'"QZ-', f'"C{copy}-'.encode()))
    return text.count(b"\n") * copies


def _events(url: str) -> int:
    """The events of cases and projects recorded (not those of the pack versions the
    acceptances brought, which are recorded with them)."""
    with CaseLedger(url, clock=fixed_clock) as ledger:
        return ledger.verify().events


SMALL_CHUNKS = (
    "import runpy, caseledger.ledger as ledger; ledger._WRITE_ROWS = 50; "
    "runpy.run_module('caseledger', run_name='__main__')"
)
"""``caseledger`` writing its batch 50 rows at a time: a process killed during an import is
then killed with rows written in its open transaction (of a file of a few thousand events,
written 5,000 rows at a time, nothing would be written before its end)."""


def _record(url: str, path: Path, *, small_chunks: bool = False) -> subprocess.Popen[bytes]:
    run = ["-c", SMALL_CHUNKS] if small_chunks else ["-m", "caseledger"]
    return subprocess.Popen(
        [sys.executable, *run, "--db", url, "record", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def test_a_chained_event_is_the_event_validation_would_make() -> None:
    (cmd,) = [c for c in demo_commands(1) if c.type == "received"]
    event, state = RecordedEvent.chain_state(
        cmd, version=1, prev_hash="0" * 64, recorded_at=fixed_clock()
    )
    again = RecordedEvent.model_validate(event.model_dump())
    assert event == again and event.model_fields_set == again.model_fields_set
    assert state == event.stored_state() == again.stored_state()


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_an_import_killed_at_random_moments_leaves_nothing_partial_and_a_rerun_records_once(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("sqlite_url" if store == "sqlite" else "postgres_url")
    path = tmp_path / "cases.jsonl"
    total = demo_file(path, copies=1, cases=1_000)
    with CaseLedger(url, clock=fixed_clock):
        pass  # the tables, so that a count can be read at any moment
    rng = random.Random(16)
    for _ in range(3):
        process = _record(url, path, small_chunks=True)
        time.sleep(rng.uniform(0.3, 2.0))
        process.send_signal(signal.SIGKILL)
        process.wait(IMPORT_BOUND)
        assert _events(url) in (0, total)
        if _events(url):
            break
    for _ in range(2):  # the re-run records what is missing; one more records nothing
        process = _record(url, path)
        out, err = process.communicate(timeout=IMPORT_BOUND)
        assert process.returncode == 0, err.decode()
        assert _events(url) == total
    assert b"already recorded" in out


def _writer(url: str, number: int, stop: Path) -> None:
    """Records single commands on cases of its own until the file ``stop`` exists, then
    prints how many were recorded, how many refused and the longest one, in seconds (run
    in a process of its own: ``python -c``, see :func:`_writers`)."""
    recorded = refused = 0
    longest = 0.0
    with CaseLedger(url) as ledger:
        while not stop.exists():
            started = time.perf_counter()
            try:
                ledger.record(command(f"W{number}-{recorded + refused}", 1, RECEIVED, at(12)))
                recorded += 1
            except (StoreError, ConcurrencyConflict):
                refused += 1
            longest = max(longest, time.perf_counter() - started)
    print(recorded, refused, round(longest, 3))


def _writers(url: str, count: int, stop: Path) -> list[subprocess.Popen[bytes]]:
    """``count`` processes running :func:`_writer` until ``stop`` exists."""
    code = "import sys, pathlib; from tests.test_bulk_import import _writer; "
    code += "_writer(sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3]))"
    root = Path(__file__).resolve().parent.parent
    return [
        subprocess.Popen([sys.executable, "-c", code, url, str(n), str(stop)], cwd=root,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for n in range(count)
    ]  # fmt: skip


@pytest.mark.postgres
def test_a_large_file_goes_into_postgres_again_and_again_while_other_writers_record(
    postgres_url: str, tmp_path: Path
) -> None:
    """Each run imports a file of new cases (about ``CASELEDGER_BULK_EVENTS`` events) with
    ``caseledger record`` in a process of its own, under :data:`IMPORT_BOUND`, while two
    writer processes record single commands; every run completes, and afterwards the ledger
    verifies and holds every event once. The time of each run is printed (``-s``)."""
    wanted = int(os.environ.get("CASELEDGER_BULK_EVENTS", "50000"))
    runs = int(os.environ.get("CASELEDGER_BULK_RUNS", "2"))
    text = dump_commands(demo_commands(5_000))
    copies = max(1, -(-wanted // text.count(b"\n")))  # at least ``wanted`` events
    total = text.count(b"\n") * copies
    with CaseLedger(postgres_url, clock=fixed_clock):
        pass  # the tables, before the writers race to make them
    stop = tmp_path / "stop"
    writers = _writers(postgres_url, 2, stop)
    times: list[float] = []
    try:
        for run in range(runs):
            path = tmp_path / "big.jsonl"
            with path.open("wb") as out:  # new cases each run: every run writes them all
                for copy in range(copies):
                    out.write(text.replace(b'"QZ-', f'"R{run}C{copy}-'.encode()))
            started = time.perf_counter()
            process = _record(postgres_url, path)
            out, err = process.communicate(timeout=IMPORT_BOUND)
            times.append(time.perf_counter() - started)
            assert process.returncode == 0, err.decode()
            assert f"recorded {total} events" in out.decode().replace(",", "")
    finally:
        stop.touch()
        ends = [writer.communicate(timeout=60) for writer in writers]
    assert all(writer.returncode == 0 for writer in writers), [err for _, err in ends]
    outcomes = [out.split() for out, _ in ends]
    assert all(int(outcome[0]) > 0 for outcome in outcomes), "the writers must have written"
    written = sum(int(outcome[0]) for outcome in outcomes)
    times.sort()
    print(f"\n{runs} imports of {total} events: min {times[0]:.1f} s, median "
          f"{times[len(times) // 2]:.1f} s, max {times[-1]:.1f} s; writers "
          f"(recorded, refused, longest s): {outcomes}")  # fmt: skip
    with CaseLedger(postgres_url, clock=fixed_clock) as ledger:
        report = ledger.verify()
    assert report.ok and report.events == runs * total + written


SUSPENDED = {"type": "clock_suspended", "reason": "hearing"}
RESUMED = {"type": "clock_resumed"}


def test_a_command_on_a_long_case_reads_only_what_was_recorded_since(
    ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with CaseLedger(ledger_url, clock=fixed_clock) as ledger:
        accepted_case(ledger, "QZ-L")
        for n in range(3, 43):
            ledger.record(command("QZ-L", n, SUSPENDED if n % 2 else RESUMED, at(13, 9, n)))
        reads: list[dict[str, object]] = []
        select = ledger.store.recorder.select_events

        def counted(*args: object, **kwargs: object) -> object:
            reads.append(kwargs)
            return select(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(ledger.store.recorder, "select_events", counted)
        result = ledger.record(command("QZ-L", 43, SUSPENDED, at(13, 10)))
        assert result.version == 43
        assert reads == [{"gt": 42}]  # the events after the kept version, none of the 42


def test_a_kept_case_learns_what_another_ledger_recorded_and_forgets_what_failed(
    open_ledger: Callable[[], CaseLedger],
) -> None:
    one, other = open_ledger(), open_ledger()
    accepted_case(one, "QZ-K")
    other.record(command("QZ-K", 3, SUSPENDED, at(13)))  # behind the back of ``one``
    with pytest.raises(IllegalTransition):  # suspended already: refused, nothing kept
        one.record(command("QZ-K", 4, SUSPENDED, at(13, 10)))
    assert one.record(command("QZ-K", 4, RESUMED, at(13, 11))).version == 4
    with pytest.raises(ConcurrencyConflict):
        one.record(command("QZ-K", 5, SUSPENDED, at(13, 12)), expected_version=3)
    assert other.record(command("QZ-K", 5, SUSPENDED, at(13, 12))).version == 5
    assert one.record(command("QZ-K", 6, RESUMED, at(13, 13))).version == 6
    assert [e.version for e in one.history("QZ-K")] == [1, 2, 3, 4, 5, 6]
    assert one.verify().ok
