"""Every view tells the same truth: the board, the statistics and the project list of any day D
give, case by case, what ``evaluate(case, end of D)`` gives (``watch_of``), on SQLite and
PostgreSQL, after catching up and after a rebuild; and a board that stores one answer (the
findings a case's horizon brings) instead of dated ones fails the same comparison."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger import CaseLedger, CaseNotFound, Command
from caseledger.demo import demo_month
from caseledger.domain.moments import end_of_day
from caseledger.judging.supervision import Watch, watch_of
from caseledger.readmodels import reports
from caseledger.testing.strategies import case_histories
from tests.conftest import fixed_clock
from tests.helpers import as_cases, examples


def _watches(ledger: CaseLedger, day: dt.date) -> dict[str, tuple[Watch, str]]:
    """Each case received by the end of ``day``: how it stood then, and who held it."""
    found = {}
    for case_no in ledger.case_numbers():
        try:
            evaluation = ledger.evaluate(case_no, end_of_day(day))
        except CaseNotFound:  # received after that day
            continue
        found[case_no] = (watch_of(evaluation), evaluation.holder[0])
    return found


def _board_as_evaluated(watches: dict[str, tuple[Watch, str]]) -> dict[str, tuple[Any, ...]]:
    return {
        case_no: (
            w.light.value,
            w.status.value,
            list(w.violations),
            w.deadline_kind if w.deadline else None,
            w.deadline,
            w.working_days_left if w.deadline else None,
            w.paused,
        )
        for case_no, (w, _) in watches.items()
        if w.watched and w.light.value != "green"
    }


def _board_as_read(ledger: CaseLedger, day: dt.date) -> dict[str, tuple[Any, ...]]:
    board = ledger.board(day)
    entries = {
        e.case_no: (
            e.light.value,
            e.status,
            e.violations,
            e.deadline_kind,
            e.deadline,
            e.working_days_left,
            e.paused,
        )
        for e in board.entries
    }
    assert len(entries) == len(board.entries) == board.red + board.yellow
    assert board.red == sum(1 for e in board.entries if e.light.value == "red")
    return entries


def _statistics_as_evaluated(watches: dict[str, tuple[Watch, str]]) -> dict[str, tuple[Any, ...]]:
    groups: dict[str, list[Watch]] = defaultdict(list)
    for w, department in watches.values():
        groups[department or "-"].append(w)
    result = {}
    for key, ws in groups.items():
        used = [w.working_days_used for w in ws if w.finished and w.working_days_used is not None]
        result[key] = (
            len(ws),
            sum(w.finished for w in ws),
            sum(w.on_time for w in ws),
            sum(w.early for w in ws),
            sum(w.overdue for w in ws),
            sum(w.open for w in ws),
            round(sum(used) / len(used), 2) if used else None,
            sum(w.rating is not None for w in ws),
            sum(w.rating is not None and w.rating.good for w in ws),
        )
    return result


def _statistics_as_read(ledger: CaseLedger, day: dt.date) -> dict[str, tuple[Any, ...]]:
    return {
        r.key: (
            r.received,
            r.finished,
            r.on_time,
            r.early,
            r.overdue,
            r.open,
            r.average_working_days,
            r.rated,
            r.rated_good,
        )
        for r in ledger.statistics(day)
    }


def _disagreements(ledger: CaseLedger, days: Iterable[dt.date]) -> list[str]:
    """Each day on which the board or the statistics say otherwise than the evaluations."""
    wrong = []
    for day in days:
        watches = _watches(ledger, day)
        expected, found = _board_as_evaluated(watches), _board_as_read(ledger, day)
        for case_no in sorted(expected.keys() | found.keys()):
            if expected.get(case_no) != found.get(case_no):
                wrong.append(
                    f"{day} board {case_no}: evaluated {expected.get(case_no)}, "
                    f"read {found.get(case_no)}"
                )
        expected_stats, found_stats = (
            _statistics_as_evaluated(watches),
            _statistics_as_read(ledger, day),
        )
        if expected_stats != found_stats:
            wrong.append(f"{day} statistics: evaluated {expected_stats}, read {found_stats}")
    return wrong


def _projects_agree(ledger: CaseLedger, day: dt.date) -> None:
    moment = end_of_day(day)
    listed = {p.project_no: p.as_dict() for p in ledger.projects(moment)}
    for project_no in ledger.project_numbers():
        try:
            evaluation = ledger.evaluate_project(project_no, moment)
        except LookupError:
            assert project_no not in listed
            continue
        assert listed[project_no] == evaluation.as_dict()


def _record_catching_up(ledger: CaseLedger, commands: list[Command], cuts: list[int]) -> None:
    """Record ``commands``, catching the read models up after the first ``cut`` of them for
    each cut: later events then replace the rows of cases already on the board."""
    start = 0
    for cut in sorted({c for c in cuts if c < len(commands)}):
        ledger.record_batch(commands[start:cut])
        ledger.catch_up()
        start = cut
    ledger.record_batch(commands[start:])


def _days_of(commands: list[Command], offsets: list[int]) -> list[dt.date]:
    first = min(c.at for c in commands).date()
    return sorted({first + dt.timedelta(days=n) for n in offsets})


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    histories=st.lists(case_histories(max_events=10), min_size=1, max_size=4),
    offsets=st.lists(st.integers(-2, 90), min_size=1, max_size=6),
    cuts=st.lists(st.integers(1, 40), max_size=4),
    rebuilt=st.booleans(),
)
def test_the_board_and_statistics_of_any_day_equal_the_evaluations_of_that_day_case_by_case(
    histories: list[list[Command]], offsets: list[int], cuts: list[int], rebuilt: bool
) -> None:
    commands = as_cases(histories)
    with CaseLedger("sqlite:///:memory:", clock=fixed_clock) as ledger:
        _record_catching_up(ledger, commands, cuts)
        if rebuilt:
            ledger.rebuild_read_models()
        assert _disagreements(ledger, _days_of(commands, offsets)) == []


@pytest.mark.postgres
@settings(
    max_examples=examples(10),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    histories=st.lists(case_histories(max_events=10), min_size=1, max_size=3),
    offsets=st.lists(st.integers(-2, 90), min_size=1, max_size=4),
    cuts=st.lists(st.integers(1, 30), max_size=3),
)
def test_on_postgresql_the_board_and_statistics_of_any_day_equal_the_evaluations_after_catch_up_and_rebuild(  # noqa: E501
    postgres_url: str, histories: list[list[Command]], offsets: list[int], cuts: list[int]
) -> None:
    commands = as_cases(histories)
    schema = f"t_{uuid.uuid4().hex[:16]}"  # one schema an example (the fixture checks the server)
    url = f"{postgres_url.split('?')[0]}?schema={schema}"
    try:
        with CaseLedger(url, clock=fixed_clock) as ledger:
            _record_catching_up(ledger, commands, cuts)
            days = _days_of(commands, offsets)
            assert _disagreements(ledger, days) == []
            ledger.rebuild_read_models()
            assert _disagreements(ledger, days) == []
    finally:
        import psycopg

        with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def demo_ledger() -> Iterable[CaseLedger]:
    recorded_at = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
    with CaseLedger("sqlite:///:memory:", clock=lambda: recorded_at) as ledger:
        ledger.record_batch(demo_month(40))
        yield ledger


def _demo_days(ledger: CaseLedger, step: int = 1) -> list[dt.date]:
    moments = [e.at for n in ledger.case_numbers() for e in ledger.history(n)]
    first, last = min(moments).date(), max(moments).date()
    count = (last - first).days + 60
    return [first + dt.timedelta(days=n) for n in range(0, count + 1, step)]


def test_on_the_demo_ledger_board_statistics_status_and_projects_agree_every_day(
    demo_ledger: CaseLedger,
) -> None:
    days = _demo_days(demo_ledger)
    assert _disagreements(demo_ledger, days) == []
    for day in days[::7]:
        _projects_agree(demo_ledger, day)


def test_a_board_that_shows_a_cases_horizon_findings_on_every_day_fails_the_comparison(
    demo_ledger: CaseLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comparison can fail: a board that shows every finding its row stores, whatever
    the day (the horizon's, as the board once did), disagrees with the evaluations."""
    every_finding = reports._violations_by
    monkeypatch.setattr(reports, "_violations_by", lambda found, day: every_finding(found, 10**7))
    assert _disagreements(demo_ledger, _demo_days(demo_ledger, step=5)) != []
