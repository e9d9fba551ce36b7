"""The library refuses a day outside the working-day calendar as the command line does: every
reading method, for every case of the demo (finished ones too), and the ledger is unchanged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from caseledger import CalendarRangeError, CaseLedger
from caseledger.demo import demo_month
from tests.helpers import snapshot

CST = dt.timezone(dt.timedelta(hours=8))
FAR = [dt.date(2099, 1, 1), dt.date(2000, 12, 31)]


@pytest.fixture(scope="module")
def demo() -> CaseLedger:
    ledger = CaseLedger(
        "sqlite:///:memory:", clock=lambda: dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    )
    ledger.record_batch(demo_month(), source="demo")
    return ledger


def _moment(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), CST)


@pytest.mark.parametrize("day", FAR, ids=str)
def test_evaluate_refuses_a_day_outside_the_calendar_for_every_case(
    demo: CaseLedger, day: dt.date
) -> None:
    before = snapshot(demo)
    # a case received on the day itself would be "not in the ledger yet" in 2000; in 2099
    # every case exists, finished ones too, and none may be judged on an unknown day
    refused = 0
    for case_no in demo.case_numbers():
        try:
            demo.evaluate(case_no, _moment(day))
        except CalendarRangeError as error:
            assert "outside the known calendar" in str(error)
            refused += 1
        except LookupError:
            assert day.year == 2000
    assert refused == (len(demo.case_numbers()) if day.year == 2099 else 0)
    assert snapshot(demo) == before


@pytest.mark.parametrize("day", FAR, ids=str)
@pytest.mark.parametrize(
    "read",
    [
        lambda ledger, day: ledger.board(day),
        lambda ledger, day: ledger.statistics(day),
        lambda ledger, day: ledger.scores(day),
        lambda ledger, day: ledger.projects(_moment(day)),
    ],
    ids=["board", "statistics", "scores", "projects"],
)
def test_every_view_refuses_a_day_outside_the_calendar(
    demo: CaseLedger, day: dt.date, read: Callable[[CaseLedger, dt.date], object]
) -> None:
    before = snapshot(demo)
    with pytest.raises(CalendarRangeError, match=r"outside the known calendar \(2001-01-01 to "):
        read(demo, day)
    assert snapshot(demo) == before
