"""The board read model: exactly-once catch-up, rebuilds that agree, lights that agree."""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger import CaseLedger, Command
from caseledger.demo import demo_commands, demo_month
from caseledger.judging.judgement import Light
from caseledger.readmodels import parallel
from caseledger.readmodels.projection import BoardProjection
from caseledger.testing.strategies import case_histories
from tests.conftest import fixed_clock
from tests.helpers import RECEIVED, as_cases, at, command, examples

CST = dt.timezone(dt.timedelta(hours=8))


def test_catching_up_twice_applies_each_event_exactly_once(ledger: CaseLedger) -> None:
    commands = demo_commands(30)
    ledger.record_batch(commands)
    assert ledger.catch_up() == len(commands)
    assert ledger.catch_up() == 0
    rows = ledger.read_models.rows()
    assert (
        len({r["case_no"] for r in rows}) == 30
        and ledger.read_models.position == ledger.store.max_notification_id()
    )


def test_two_projections_catching_up_at_once_apply_each_event_once(
    open_ledger: Callable[[], CaseLedger],
) -> None:
    first, second = open_ledger(), open_ledger()
    commands = demo_commands(40)
    first.record_batch(commands)
    first.read_models, second.read_models  # noqa: B018 - create the tables before racing
    applied: list[int] = []
    threads = [
        threading.Thread(target=lambda ledger=ledger: applied.append(ledger.catch_up()))
        for ledger in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(applied) == len(commands)
    assert first.read_models.rows() == second.read_models.rows()
    assert len(_cases(first.read_models)) == 40


def test_new_events_update_only_their_cases_and_match_a_rebuild(ledger: CaseLedger) -> None:
    commands = demo_commands(30)
    half = len(commands) // 2
    ledger.record_batch(commands[:half])
    ledger.catch_up()
    ledger.record_batch(commands[half:])
    assert ledger.catch_up() == len(commands) - half
    incremental = (ledger.read_models.rows(), ledger.read_models.sanction_rows())
    assert ledger.rebuild_read_models() == len(commands)
    assert (ledger.read_models.rows(), ledger.read_models.sanction_rows()) == incremental


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "memory"])
def rebuilt_url(request: pytest.FixtureRequest) -> str:
    """An SQLite file, the real PostgreSQL server, and SQLite in memory."""
    if request.param == "memory":
        return "sqlite:///:memory:"
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


def _counting_forks(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Forking worth it for any number of cases; the list of the workers started."""
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)
    forks: list[object] = []
    start = parallel._start
    monkeypatch.setattr(parallel, "_start", lambda *args: forks.append(args) or start(*args))
    return forks


def test_a_rebuild_in_one_or_many_processes_writes_what_catching_up_wrote(
    rebuilt_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked workers open their own connections to an SQLite file, or to PostgreSQL (whose
    pool is closed around the forks and replaced), to read their blocks; SQLite in memory
    (which no other process can open) is rebuilt in this process, whatever the number of
    workers asked for. The board's three tables are the same, row for row, either way, and
    the ledger records and catches up afterwards as before."""
    forks = _counting_forks(monkeypatch)
    with CaseLedger(rebuilt_url, clock=fixed_clock) as ledger:
        commands = demo_month(24)
        ledger.record_batch(commands[:-5])
        projection = ledger.read_models
        assert ledger.catch_up() == len(commands) - 5
        caught_up = _tables(projection)
        assert len(caught_up[0]) > 30 and caught_up[1], "the sample must have sanctions"
        forkable = rebuilt_url != "sqlite:///:memory:"
        assert ledger.store.span_reader().forkable == forkable
        for workers in (1, 3, 1, 2):
            assert projection.rebuild(workers=workers) == len(commands) - 5
            assert _tables(projection) == caught_up
        assert len(forks) == (2 + 1 if forkable else 0), "this test must fork"
        ledger.record_batch(commands[-5:])  # the store's connections work after the forks
        assert ledger.catch_up() == 5
        assert projection.rebuild(workers=2) == len(commands)
        assert _tables(projection)[0] and ledger.verify().ok


@pytest.mark.postgres
def test_a_rebuild_beside_another_thread_using_the_store_leaves_its_pool_open(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With another thread alive (a web server's, a follower's), nothing is forked, and
    the pool that thread reads through is not closed under it: every one of its calls,
    made all through the rebuild, succeeds."""
    forks = _counting_forks(monkeypatch)
    with CaseLedger(postgres_url, clock=fixed_clock) as ledger:
        commands = demo_month(24)
        ledger.record_batch(commands)
        assert ledger.catch_up() == len(commands)
        caught_up = _tables(ledger.read_models)
        stop, failures, calls = threading.Event(), [], [0]

        def reads() -> None:
            while not stop.is_set():
                try:
                    ledger.store.log_head()
                    ledger.case_numbers()
                except Exception as error:  # every failure is the finding
                    failures.append(error)
                calls[0] += 1

        thread = threading.Thread(target=reads)
        thread.start()
        try:
            for _ in range(20):
                assert ledger.read_models.rebuild(workers=3) == len(commands)
        finally:
            stop.set()
            thread.join(timeout=30)
        assert not failures and calls[0] > 3
        assert forks == []  # a fork would copy the other thread's locks
        assert _tables(ledger.read_models) == caught_up


def _tables(projection: BoardProjection) -> tuple[object, ...]:
    """The board's rows, its sanctions and its tally, in a fixed order."""
    tally = projection.query(f"SELECT * FROM {projection.tally_table} ORDER BY day")
    return projection.rows(), projection.sanction_rows(), tally


def _board(ledger: CaseLedger) -> tuple[object, ...]:
    projection = ledger.read_models
    return projection.rows(), projection.sanction_rows(), projection.position


def test_a_worker_that_cannot_read_has_its_blocks_read_here_and_a_failed_read_changes_nothing(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import sqlite3

    from caseledger.errors import StoreError
    from caseledger.store.event_store import SpanReader

    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)
    with CaseLedger(sqlite_url, clock=fixed_clock) as ledger:
        ledger.record_batch(demo_month(24))
        ledger.catch_up()
        before = _board(ledger)
        read = SpanReader._read
        parent = os.getpid()

        def fails_in_workers(self: SpanReader, *args: object) -> object:
            if os.getpid() != parent:
                raise sqlite3.OperationalError("disk I/O error")
            return read(self, *args)

        monkeypatch.setattr(SpanReader, "_read", fails_in_workers)
        cases = len(_cases(ledger.read_models))
        assert parallel.worker_count(cases, 3) == 3, "this test must fork"
        ledger.read_models.rebuild(workers=3)
        assert _board(ledger) == before

        def fails(self: SpanReader, *args: object) -> object:
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(SpanReader, "_read", fails)
        with pytest.raises(StoreError, match="reading the event log failed: disk I/O error"):
            ledger.read_models.rebuild(workers=3)
        monkeypatch.setattr(SpanReader, "_read", read)
        assert _board(ledger) == before


def test_events_recorded_during_a_rebuild_are_applied_by_the_next_catch_up(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with CaseLedger(sqlite_url, clock=fixed_clock) as ledger:
        commands = demo_commands(30)
        ledger.record_batch(commands[:-1])
        numbers = ledger.store.stream_numbers

        def meanwhile(upto: int) -> list[str]:
            ledger.record_batch(commands[-1:])  # after the rebuild took its position
            return numbers(upto)

        monkeypatch.setattr(ledger.store, "stream_numbers", meanwhile)
        assert ledger.read_models.rebuild() == len(commands) - 1
        assert ledger.read_models.position == ledger.store.max_notification_id() - 1
        assert ledger.catch_up() == 1
        caught_up = _board(ledger)
        monkeypatch.undo()
        assert ledger.read_models.rebuild() == len(commands)
        assert _board(ledger) == caught_up


@pytest.mark.parametrize("projects_only", [False, True])
def test_a_ledger_without_cases_rebuilds_to_an_empty_board(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, projects_only: bool
) -> None:
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)
    with CaseLedger(sqlite_url, clock=fixed_clock) as ledger:
        projects = [c for c in demo_month(12) if not isinstance(c, Command)]
        if projects_only:
            registered = [c for c in projects if c.type == "project_registered"]
            ledger.record_batch(registered)
        expected = ledger.store.event_count(ledger.store.max_notification_id())
        assert expected == (3 if projects_only else 0)
        assert ledger.read_models.rebuild(workers=3) == expected
        assert ledger.read_models.rows() == [] and ledger.read_models.sanction_rows() == []
        assert ledger.read_models.position == expected


def test_a_span_of_streams_is_read_in_stream_order_up_to_the_position_given(
    ledger_url: str,
) -> None:
    with CaseLedger(ledger_url, clock=fixed_clock) as ledger:
        commands = demo_month(12)
        half = len(commands) // 2
        ledger.record_batch(commands[:half])
        upto = ledger.store.max_notification_id()
        ledger.record_batch(commands[half:])
        store = ledger.store
        numbers = store.stream_numbers(upto)
        assert any(n.startswith("#") for n in numbers), "projects are streams too"
        packs = {n for n in numbers if n.startswith("@")}  # recorded pack versions, one event
        assert packs, "pack versions are streams too"
        begun = {
            c.case_no if isinstance(c, Command) else f"#{c.project_no}" for c in commands[:half]
        }
        assert set(numbers) == begun | packs
        rows = store.span_reader()(numbers[0], numbers[-1], upto)
        assert len(rows) == half + len(packs) == store.event_count(upto)
        assert all(position <= upto for position, *_ in rows)
        order = [(numbers.index(n), version) for _, n, version, _, _ in rows]
        assert order == sorted(order)
        everything = store.max_notification_id()
        middle = store.stream_numbers(everything)[3:6]
        inner = store.span_reader()(middle[0], middle[-1], everything)
        assert {n for _, n, *_ in inner} == set(middle)


def test_sqlite_and_postgresql_read_models_hold_the_same_rows(
    sqlite_url: str, postgres_url: str
) -> None:
    rows = []
    for url in (sqlite_url, postgres_url):
        with CaseLedger(url, clock=fixed_clock) as ledger:
            ledger.record_batch(demo_commands(25))
            ledger.catch_up()
            rows.append((ledger.read_models.rows(), ledger.read_models.sanction_rows()))
    assert rows[0] == rows[1]


many_histories = st.lists(case_histories(max_events=10), min_size=1, max_size=4)


def assert_board_matches_evaluations(
    ledger: CaseLedger, cases: int, last: dt.date, days_after: list[int]
) -> None:
    """On each day, the board lists exactly the cases P-0.. under supervision (open, or owing
    a certificate) whose evaluation at the end of that day is yellow or red, with that light."""
    for days in days_after:
        day = last + dt.timedelta(days=days)
        moment = dt.datetime.combine(day, dt.time(23, 59), tzinfo=CST)
        on_board = {e.case_no: e.light for e in ledger.board(day).entries}
        expected = {}
        for i in range(cases):
            evaluation = ledger.evaluate(f"P-{i}", moment)
            if evaluation.clock.watched and evaluation.light is not Light.GREEN:
                expected[f"P-{i}"] = evaluation.light
        assert on_board == expected


@settings(max_examples=examples(25), suppress_health_check=[HealthCheck.too_slow])
@given(histories=many_histories, cuts=st.lists(st.integers(0, 40), max_size=3))
def test_incremental_and_rebuilt_read_models_agree_over_any_histories(
    histories: list[list[Command]], cuts: list[int]
) -> None:
    commands = as_cases(histories)
    commands.sort(key=lambda c: c.at)
    with CaseLedger("sqlite:///:memory:", clock=fixed_clock) as ledger:
        start = 0
        for cut in [*sorted(set(cuts)), len(commands)]:
            ledger.record_batch(commands[start : max(start, cut)])
            ledger.catch_up()
            start = max(start, cut)
        incremental = (ledger.read_models.rows(), ledger.read_models.sanction_rows())
        ledger.rebuild_read_models()
        assert (ledger.read_models.rows(), ledger.read_models.sanction_rows()) == incremental


@settings(max_examples=examples(25), suppress_health_check=[HealthCheck.too_slow])
@given(histories=many_histories, days_after=st.lists(st.integers(0, 90), min_size=1, max_size=4))
def test_the_board_shows_every_open_case_with_the_light_its_evaluation_gives(
    histories: list[list[Command]], days_after: list[int]
) -> None:
    commands = as_cases(histories)
    last = max(c.at for c in commands).astimezone(CST).date()
    with CaseLedger("sqlite:///:memory:", clock=fixed_clock) as ledger:
        ledger.record_batch(commands)
        assert_board_matches_evaluations(ledger, len(histories), last, days_after)


def test_the_board_filters_by_department_window_and_item(ledger: CaseLedger) -> None:
    ledger.record_batch(demo_commands(60))
    day = dt.date(2026, 12, 31)
    result = ledger.board(day)
    everything = result.entries
    assert everything, "the open demo cases are overdue by the end of 2026"
    assert len(everything) == result.red + result.yellow
    department = everything[0].department
    assert department is not None
    only = ledger.board(day, department=department).entries
    assert only and all(e.department == department for e in only)
    assert ledger.board(day, item="NO-SUCH-ITEM").entries == []
    limited = ledger.board(day, limit=1)
    assert len(limited.entries) == 1 and limited.red == result.red
    reds = [e for e in everything if e.light is Light.RED]
    assert everything[: len(reds)] == reds  # worst first


@contextmanager
def _following(follow: Callable[[threading.Event], int]) -> Iterator[list[int]]:
    """``follow(stop)`` run on a thread for the block; then stopped and joined. The list
    it yields holds what ``follow`` returned once it has (checked to have ended)."""
    stop = threading.Event()
    done: list[int] = []
    thread = threading.Thread(target=lambda: done.append(follow(stop)))
    thread.start()
    try:
        yield done
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()


def test_following_the_log_applies_new_events_as_they_are_recorded(
    open_ledger: Callable[[], CaseLedger],
) -> None:
    """Push (LISTEN/NOTIFY) on PostgreSQL, polling on SQLite; stopped by an event."""
    writer, follower = open_ledger(), open_ledger()
    commands = demo_commands(10)
    writer.record_batch(commands[:20])
    with _following(follower.follow) as applied:
        writer.record_batch(commands[20:])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if len(_cases(follower.read_models)) == 10:
                break
            time.sleep(0.1)
    assert applied == [len(commands)]
    assert len(_cases(follower.read_models)) == 10


def test_a_catch_up_whose_page_is_not_full_reads_the_log_once(
    open_ledger: Callable[[], CaseLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, follower = open_ledger(), open_ledger()
    commands = demo_commands(5)
    writer.record_batch(commands)
    store = follower.read_models.store
    reads: list[int] = []
    read_page = store.read_log_page

    def counted(after: int, limit: int, cursor: Any = None) -> tuple[list[Any], bool]:
        reads.append(after)
        return read_page(after, limit, cursor)

    monkeypatch.setattr(store, "read_log_page", counted)
    assert follower.catch_up() == len(commands)
    assert reads == [0]  # the whole log in one page: not read again
    assert follower.read_models.catch_up(batch=4) == 0 and len(reads) == 2
    writer.record_batch([command(f"NEW-{n}", 1, RECEIVED, at(12)) for n in range(10)])
    reads.clear()
    assert follower.read_models.catch_up(batch=4) == 10
    assert len(reads) == 3  # pages of 4, 4 and 2: read on after a full page, not after a short


def test_a_catch_up_whose_page_an_ended_transaction_held_short_reads_on(
    postgres_url: str,
) -> None:
    """A page read short because a transaction that ended meanwhile held every try's
    horizon down is not the end of the log: the catch-up reads on and applies the rest."""
    import psycopg

    base = postgres_url.split("?schema=")[0]
    with CaseLedger(postgres_url, clock=fixed_clock) as ledger:
        ledger.record(command("A-1", 1, RECEIVED, at(12)))
        assert ledger.catch_up() == 1
        ledger.record(command("B-1", 1, RECEIVED, at(12)))
        with psycopg.connect(base) as quiet, psycopg.connect(base) as frozen:
            quiet.execute("SELECT pg_current_xact_id()")  # an id, and no event written
            ledger.record(command("C-1", 1, RECEIVED, at(12)))  # a later id than quiet's
            frozen.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            frozen.execute("SELECT 1")  # its snapshot sees quiet running
            quiet.commit()  # ended after that snapshot: every try of it is held down
            store = ledger.read_models.store
            read_page = store.read_log_page
            pages: list[tuple[list[str], bool]] = []

            def first_on_the_frozen_snapshot(
                after: int, limit: int, cursor: Any = None
            ) -> tuple[list[Any], bool]:
                if cursor is None and not pages:
                    cursor = frozen.cursor()
                rows, whole = read_page(after, limit, cursor)
                pages.append(([r[1] for r in rows], whole))
                return rows, whole

            store.read_log_page = first_on_the_frozen_snapshot  # type: ignore[method-assign]
            assert ledger.catch_up() == 2
            assert pages[0] == (["B-1"], False) and pages[1][0] == ["C-1"]
            frozen.rollback()
        assert sorted(_cases(ledger.read_models)) == ["A-1", "B-1", "C-1"]


def test_a_follower_stopped_while_it_settles_applies_what_came_before_the_stop(
    postgres_url: str,
) -> None:
    with (
        CaseLedger(postgres_url, clock=fixed_clock) as writer,
        CaseLedger(postgres_url, clock=fixed_clock) as follower,
    ):
        projection = follower.read_models
        projection.catch_up()
        with _following(functools.partial(projection.follow, settle_seconds=2.0)) as done:
            deadline = time.monotonic() + 20
            for n in (1, 2):  # the second is applied by a catch-up that then settles
                writer.record(command(f"S-{n}", 1, RECEIVED, at(12)))
                while len(_cases(projection)) < n and time.monotonic() < deadline:
                    time.sleep(0.02)
            writer.record(command("S-3", 1, RECEIVED, at(12)))  # while it settles
        assert done == [3]
        assert sorted(_cases(projection)) == ["S-1", "S-2", "S-3"]


def test_following_under_a_stream_of_commits_applies_them_in_few_catch_ups(
    postgres_url: str,
) -> None:
    """On PostgreSQL the follower lets ``settle_seconds`` pass after a catch-up that applied
    events: the commits of that time are applied in one catch-up, not one each."""
    with (
        CaseLedger(postgres_url, clock=fixed_clock) as writer,
        CaseLedger(postgres_url, clock=fixed_clock) as follower,
    ):
        projection = follower.read_models
        projection.catch_up()
        applied_each: list[int] = []
        catch_up = projection.catch_up

        def counted() -> int:
            applied = catch_up()
            applied_each.append(applied)
            return applied

        projection.catch_up = counted  # type: ignore[method-assign]
        commands = demo_commands(30)
        first = [c for c in commands if c.event.type == "received"]
        with _following(functools.partial(projection.follow, settle_seconds=1.0)) as done:
            for command in first:  # 30 commits, one a case, in well under a second
                writer.record(command)
            deadline = time.monotonic() + 20
            while sum(applied_each) < len(first) and time.monotonic() < deadline:
                time.sleep(0.05)
        assert done == [len(first)]
        assert len([n for n in applied_each if n]) <= 3, applied_each  # not one a commit


@settings(
    max_examples=max(20, settings.default.max_examples // 3),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data(), days_after=st.lists(st.integers(0, 90), min_size=1, max_size=3))
def test_the_board_agrees_with_evaluations_under_generated_packs_with_thresholds(
    data: st.DataObject, days_after: list[int]
) -> None:
    from caseledger import PackRegistry
    from caseledger.testing.strategies import packs

    registry = PackRegistry.discover()
    pack = data.draw(packs(registry))
    registry = registry.including(pack)
    histories = data.draw(
        st.lists(case_histories(pack="generated", items=("ITEM-1", "ITEM-2"), max_events=8),
                 min_size=1, max_size=3)
    )  # fmt: skip
    commands = as_cases(histories)
    last = max(c.at for c in commands).astimezone(CST).date()
    with CaseLedger("sqlite:///:memory:", packs=registry, clock=fixed_clock) as ledger:
        ledger.record_batch(commands)
        assert_board_matches_evaluations(ledger, len(histories), last, days_after)


def _cases(projection: BoardProjection) -> set[str]:
    """The cases the read model holds rows of (one per segment of each)."""
    return {row["case_no"] for row in projection.rows()}


def test_the_board_tables_type_each_column_as_its_schema_says() -> None:
    """The DDL is made from the row's named tuples; compiled by mypyc, a class-form named
    tuple would lose its field types (and PostgreSQL would refuse an item code)."""
    from caseledger.readmodels.tables import BoardTables

    create = BoardTables(":{}", "?").create
    board, sanctions = create[0], next(s for s in create if "_sanctions (" in s)
    for column in ("case_no TEXT", "item_code TEXT", "window_code TEXT", "rating TEXT"):
        assert column in board
    for column in ("seg_to INTEGER", "deadline INTEGER", "alert_from INTEGER"):
        assert column in board
    assert "label TEXT" in sanctions and "due INTEGER" in sanctions


def test_a_what_if_in_one_or_many_processes_gives_the_same_report(
    rebuilt_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What-if reads the log with the same reader as a rebuild: forked on an SQLite file and
    on PostgreSQL, the report is the same as in one process."""
    from tests.conftest import NOW

    forks = _counting_forks(monkeypatch)
    with CaseLedger(rebuilt_url, clock=fixed_clock) as ledger:
        ledger.record_batch(demo_month(24))
        national = ledger.packs.get("national")
        alone = ledger.what_if(national, as_of=NOW, workers=1)
        assert alone.judged > 30 and not forks
        assert ledger.what_if(national, as_of=NOW, workers=3) == alone
        assert len(forks) == (2 if rebuilt_url != "sqlite:///:memory:" else 0)
        assert ledger.verify().ok
