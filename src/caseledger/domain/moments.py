"""Moments: how caseledger reads and compares the times it is given.

Every moment a caller gives (an ``as_of``, an event's ``at``) must be timezone-aware: one
check, :func:`aware`, raises the same typed error everywhere. Moments are compared as
instants (:func:`instant`), and "what had happened by ``as_of``" is one filter,
:func:`happened_by`, for events and facts alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol, TypeVar

from caseledger.errors import InvalidCommand

__all__ = ["CHINA_TIME", "aware", "end_of_day", "happened_by", "instant"]

CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
"""China Standard Time, UTC+08:00: the zone in which the command line reads a date or a time
given without an offset, and in which the demo's cases happen. Judging a case never uses it:
a rule pack's calendar names its own offset."""


def aware(moment: dt.datetime, what: str = "as_of") -> dt.datetime:
    """``moment``, if it is timezone-aware; else :class:`InvalidCommand` naming ``what``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidCommand(
            [(what, f"{moment.isoformat()} has no UTC offset; give an aware moment, e.g. +08:00")]
        )
    return moment


def end_of_day(day: dt.date, zone: dt.tzinfo = CHINA_TIME) -> dt.datetime:
    """The moment a day's board, statistics and status are judged at: 23:59:59 in ``zone``
    (the command line reads a date given alone so)."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone)


def instant(moment: dt.datetime) -> dt.datetime:
    """Compare instants, not wall clocks: two times of one zone compare by wall clock."""
    return moment.astimezone(dt.UTC)


class _Dated(Protocol):
    @property
    def at(self) -> dt.datetime: ...


D = TypeVar("D", bound=_Dated)


def happened_by(items: Sequence[D], as_of: dt.datetime) -> Sequence[D]:
    """The items (events or facts, in business-time order) that happened by ``as_of``;
    ``items`` itself, not a copy, when all of them had."""
    moment = instant(aware(as_of))
    if not items or instant(items[-1].at) <= moment:
        return items
    return [item for item in items if instant(item.at) <= moment]
