"""The working-day calendar of the People's Republic of China, with local additions.

**The counting convention** (Civil Code Art. 201, Administrative Licensing Law Art. 82):
the day of the triggering event is not counted; a limit of N working days runs from the
next day and ends at the end of the Nth working day after it. So
``add_working_days(d, n)`` is the Nth working day strictly after ``d`` (``d`` itself for
n = 0), and ``count_working_days(a, b)`` counts the working days ``x`` with ``a < x <= b``.
The two are inverse: ``count_working_days(d, add_working_days(d, n).value) == n``.

Working days are Monday to Friday, minus the statutory holidays, plus the weekend days the
State Council makes working days (调休), as published each year (usually in November for
the next year) and carried by the ``holidays`` package; a rule pack may add local days.

A year whose schedule is not published is neither an error nor a silent guess: its days
are counted with weekends and the statutory festival days as ``holidays`` estimates them,
and every result that touches it is marked **provisional**, with the reason. When the
schedule arrives (a newer ``holidays``, or a pack that publishes it), results change.

Everything is precomputed once per calendar into arrays, so each query is a few index
look-ups, not a loop over days.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from holidays.countries.china import China, ChinaStaticHolidays

from caseledger.errors import CalendarRangeError

__all__ = ["CalendarDay", "Counted", "WorkingCalendar", "official_published_years"]

T = TypeVar("T")

FIRST_YEAR = 2001
"""The first year whose State Council schedule the ``holidays`` package carries."""
YEARS_AHEAD = 12
"""How many years past the last published one the calendar reaches (provisionally)."""
_MEMO_SIZE = 200_000
"""How many answers of each kind a calendar keeps (a bound on its memory)."""


@dataclass(frozen=True)
class CalendarDay:
    """A local addition: ``date`` is a working day (``working``) or a day off, and why."""

    date: dt.date
    working: bool
    name: str
    reference: str


@dataclass(frozen=True)
class Counted(Generic[T]):
    """A calendar result, and why it is provisional (None when it is final)."""

    value: T
    provisional: str | None = None


def official_published_years() -> frozenset[int]:
    """Years whose official schedule (holidays and 调休 days) ``holidays`` carries."""
    return frozenset(ChinaStaticHolidays.special_public_holidays)


class WorkingCalendar:
    """Working days from ``FIRST_YEAR`` to ``YEARS_AHEAD`` years past the last published."""

    def __init__(
        self,
        additions: Iterable[CalendarDay] = (),
        *,
        published_years: Iterable[int] = (),
    ) -> None:
        self.additions = tuple(sorted(additions, key=lambda d: d.date))
        self.published_years = official_published_years() | frozenset(published_years)
        last = max(self.published_years)
        self.first_day = dt.date(FIRST_YEAR, 1, 1)
        self.last_day = dt.date(last + YEARS_AHEAD, 12, 31)
        self._origin = self.first_day.toordinal()
        years = range(FIRST_YEAR, last + YEARS_AHEAD + 1)
        official = China(years=years, language="zh_CN")  # type: ignore[no-untyped-call]
        extra = {day.date: day for day in self.additions}
        size = self.last_day.toordinal() - self._origin + 1
        working = bytearray(size)
        for offset in range(size):
            day = dt.date.fromordinal(self._origin + offset)
            if day in extra:
                working[offset] = extra[day].working
            elif day in official.weekend_workdays:
                working[offset] = 1
            else:
                working[offset] = day.weekday() < 5 and day not in official
        self._working = bytes(working)
        cumulative = array("l", [0]) * size
        ordinals = array("l")
        total = 0
        for offset, flag in enumerate(self._working):
            if flag:
                total += 1
                ordinals.append(offset)
            cumulative[offset] = total
        self._cumulative = cumulative
        self._working_offsets = ordinals
        self._reasons: dict[tuple[int, int], str | None] = {}
        # answers memoised by (ordinal, days) / (ordinal, ordinal): the calendar is immutable
        # and read models ask the same questions for case after case
        self._added: dict[tuple[dt.date, int], Counted[dt.date]] = {}
        self._counted: dict[tuple[dt.date, dt.date], Counted[int]] = {}
        self._last_ordinal = self.last_day.toordinal()
        self._names = {day: str(name) for day, name in official.items()}
        self._names.update({day: info.name for day, info in extra.items()})

    # -- queries ---------------------------------------------------------------------------
    def check(self, day: dt.date) -> None:
        """Refuse a day this calendar does not know with :class:`CalendarRangeError`."""
        self._offset(day)

    def is_working_day(self, day: dt.date) -> bool:
        return bool(self._working[self._offset(day)])

    def day_name(self, day: dt.date) -> str | None:
        """The holiday or make-up working day's name, if it has one."""
        if day in self._names:
            return self._names[day]
        if self.is_working_day(day) and day.weekday() >= 5:
            return "调休上班"
        return None

    def add_working_days(self, start: dt.date, days: int) -> Counted[dt.date]:
        """The end day of a limit of ``days`` working days triggered on ``start``."""
        try:
            return self._added[start, days]
        except KeyError:
            pass
        answer = self._add_working_days(start, days)
        if len(self._added) < _MEMO_SIZE:
            self._added[start, days] = answer
        return answer

    def _add_working_days(self, start: dt.date, days: int) -> Counted[dt.date]:
        if days < 0:
            raise ValueError(f"a limit cannot be negative ({days} working days)")
        offset = self._offset(start)
        if days == 0 and self._working[offset]:
            return Counted(start, self.provisional_reason(start, start))
        index = self._cumulative[offset] + max(days, 1) - 1
        if index >= len(self._working_offsets):
            raise CalendarRangeError(start, self.first_day, self.last_day, days=days)
        end = dt.date.fromordinal(self._origin + self._working_offsets[index])
        return Counted(end, self.provisional_reason(start, end))

    def count_working_days(self, after: dt.date, through: dt.date) -> Counted[int]:
        """Working days ``x`` with ``after < x <= through`` (negative if reversed)."""
        try:
            return self._counted[after, through]
        except KeyError:
            pass
        answer = self._count_working_days(after, through)
        if len(self._counted) < _MEMO_SIZE:
            self._counted[after, through] = answer
        return answer

    def _count_working_days(self, after: dt.date, through: dt.date) -> Counted[int]:
        count = self._cumulative[self._offset(through)] - self._cumulative[self._offset(after)]
        low, high = min(after, through), max(after, through)
        return Counted(count, self.provisional_reason(low, high))

    def working_day_index(self, day: dt.date) -> int:
        """How many working days the calendar has up to and including ``day``: the working
        days between two days are the difference of their indexes."""
        return self._cumulative[self._offset(day)]

    def working_days_in(self, after: dt.date, through: dt.date) -> list[dt.date]:
        """The working days ``x`` with ``after < x <= through`` (for explanations)."""
        first = self._cumulative[self._offset(after)]
        last = self._cumulative[self._offset(through)]
        offsets = self._working_offsets[first:last]
        return [dt.date.fromordinal(self._origin + o) for o in offsets]

    def non_working_days_in(self, after: dt.date, through: dt.date) -> list[dt.date]:
        """The days off ``x`` with ``after < x <= through`` (for explanations)."""
        start, stop = self._offset(after) + 1, self._offset(through) + 1
        return [
            dt.date.fromordinal(self._origin + o)
            for o in range(start, stop)
            if not self._working[o]
        ]

    def provisional_reason(self, first: dt.date, last: dt.date) -> str | None:
        """Why a result over ``first``..``last`` is provisional, or None if it is final."""
        key = (first.year, last.year)
        if key not in self._reasons:
            self._reasons[key] = self._reason(*key)
        return self._reasons[key]

    def _reason(self, first_year: int, last_year: int) -> str | None:
        missing = [y for y in range(first_year, last_year + 1) if y not in self.published_years]
        if not missing:
            return None
        years = ", ".join(str(y) for y in missing)
        return (
            f"the official holiday schedule for {years} is not published yet; counted with "
            "weekends and the statutory festival days only, without make-up working days"
        )

    def _offset(self, day: dt.date) -> int:
        ordinal = day.toordinal()
        if ordinal < self._origin or ordinal > self._last_ordinal:
            raise CalendarRangeError(day, self.first_day, self.last_day)
        return ordinal - self._origin


@lru_cache(maxsize=32)
def _cached(additions: tuple[CalendarDay, ...], published: frozenset[int]) -> WorkingCalendar:
    return WorkingCalendar(additions, published_years=published)


def calendar_for(
    additions: Iterable[CalendarDay] = (), published_years: Iterable[int] = ()
) -> WorkingCalendar:
    """A shared, cached calendar for these additions (packs with equal calendars share one)."""
    return _cached(tuple(sorted(additions, key=lambda d: d.date)), frozenset(published_years))
