"""The working-day calendar and the counting convention, on real dates."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseledger import CalendarRangeError, WorkingCalendar
from caseledger.calendar import CalendarDay, calendar_for, official_published_years

D = dt.date
calendar = calendar_for()


def test_the_day_of_the_event_is_not_counted_and_the_deadline_is_the_nth_working_day_after() -> (
    None
):
    # Monday 2 March 2026 + 1 working day is Tuesday 3 March; + 5 is Monday 9 March.
    assert calendar.add_working_days(D(2026, 3, 2), 1).value == D(2026, 3, 3)
    assert calendar.add_working_days(D(2026, 3, 2), 5).value == D(2026, 3, 9)
    assert calendar.add_working_days(D(2026, 3, 2), 0).value == D(2026, 3, 2)
    # An event on a Saturday: the limit runs from Monday.
    assert calendar.add_working_days(D(2026, 3, 7), 1).value == D(2026, 3, 9)


def test_the_2026_spring_festival_is_off_and_its_make_up_saturdays_are_working_days() -> None:
    off = [D(2026, 2, d) for d in (16, 17, 18, 19, 20, 23)]
    assert not any(calendar.is_working_day(d) for d in off)
    assert calendar.is_working_day(D(2026, 2, 14)) and calendar.is_working_day(D(2026, 2, 28))
    # Friday 13 February: the next working day is the make-up Saturday, then 24 February.
    assert calendar.add_working_days(D(2026, 2, 13), 1).value == D(2026, 2, 14)
    assert calendar.add_working_days(D(2026, 2, 13), 2).value == D(2026, 2, 24)
    assert calendar.day_name(D(2026, 2, 17)) == "春节"
    assert calendar.day_name(D(2026, 2, 14)) == "调休上班"


def test_the_2026_national_day_week_is_off_and_its_make_up_days_are_working_days() -> None:
    assert calendar.is_working_day(D(2026, 9, 20)) and calendar.is_working_day(D(2026, 10, 10))
    assert not any(calendar.is_working_day(D(2026, 10, d)) for d in range(1, 8))
    assert calendar.add_working_days(D(2026, 9, 30), 3).value == D(2026, 10, 10)
    assert calendar.count_working_days(D(2026, 9, 30), D(2026, 10, 12)).value == 4


def test_a_deadline_crossing_into_an_unpublished_year_is_provisional_and_says_why() -> None:
    unpublished = max(official_published_years()) + 1
    result = calendar.add_working_days(D(unpublished - 1, 12, 21), 20)
    assert result.value.year == unpublished
    assert result.provisional is not None and str(unpublished) in result.provisional
    assert calendar.add_working_days(D(2026, 3, 2), 20).provisional is None


def test_a_pack_that_publishes_a_year_makes_its_results_final() -> None:
    year = max(official_published_years()) + 1
    published = WorkingCalendar(
        [CalendarDay(D(year, 1, 1), False, "元旦", "example notice")], published_years=[year]
    )
    assert published.add_working_days(D(year - 1, 12, 21), 20).provisional is None


def test_local_additions_change_the_count() -> None:
    local = WorkingCalendar([CalendarDay(D(2026, 3, 4), False, "local day off", "example")])
    assert local.add_working_days(D(2026, 3, 2), 5).value == D(2026, 3, 10)
    assert calendar.add_working_days(D(2026, 3, 2), 5).value == D(2026, 3, 9)


def test_a_date_outside_the_known_calendar_is_a_typed_error_saying_the_range() -> None:
    with pytest.raises(CalendarRangeError, match="outside the known calendar"):
        calendar.add_working_days(D(1999, 12, 31), 1)
    with pytest.raises(CalendarRangeError):
        calendar.is_working_day(calendar.last_day + dt.timedelta(days=1))
    with pytest.raises(CalendarRangeError):
        calendar.add_working_days(calendar.last_day - dt.timedelta(days=3), 30)


days = st.dates(min_value=D(2001, 1, 1), max_value=D(2036, 12, 31))


@given(start=days, n=st.integers(1, 400))
def test_adding_then_counting_working_days_gives_back_the_same_number(
    start: dt.date, n: int
) -> None:
    end = calendar.add_working_days(start, n).value
    assert calendar.count_working_days(start, end).value == n


@given(start=days, n=st.integers(1, 400))
def test_a_deadline_never_falls_on_a_non_working_day(start: dt.date, n: int) -> None:
    assert calendar.is_working_day(calendar.add_working_days(start, n).value)


@given(start=days, n=st.integers(1, 200))
def test_adding_working_days_agrees_with_stepping_day_by_day(start: dt.date, n: int) -> None:
    day, left = start, n
    while left:
        day += dt.timedelta(days=1)
        left -= calendar.is_working_day(day)
    assert calendar.add_working_days(start, n).value == day


@given(a=days, b=days)
def test_working_days_listed_between_two_dates_are_as_many_as_counted(
    a: dt.date, b: dt.date
) -> None:
    low, high = min(a, b), max(a, b)
    listed = calendar.working_days_in(low, high)
    assert len(listed) == calendar.count_working_days(low, high).value
    assert all(calendar.is_working_day(d) for d in listed)
    assert len(listed) + len(calendar.non_working_days_in(low, high)) == (high - low).days
