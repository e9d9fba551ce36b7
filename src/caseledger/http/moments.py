"""The ``as_of`` of a request: a date (its end, 23:59:59 China time) or an ISO time (China
time unless it gives an offset); absent, now. The HTTP layer reads the wall clock here only."""

from __future__ import annotations

import datetime as dt

from caseledger.domain.moments import CHINA_TIME
from caseledger.errors import InvalidRequest

__all__ = ["FORMS", "as_of_day", "as_of_moment", "end_of"]

FORMS = "a date (2026-11-20) or an ISO time (2026-11-20T09:00, China time unless it has an offset)"


def end_of(day: dt.date) -> dt.datetime:
    """The last second of ``day`` in China time."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=CHINA_TIME)


def as_of_moment(text: str | None, *, default: dt.date | None = None) -> dt.datetime:
    """The moment ``as_of`` means (absent: the end of ``default``, else now)."""
    if text is None or text == "":
        return end_of(default) if default else dt.datetime.now(CHINA_TIME)
    try:
        if "T" not in text and " " not in text.strip():
            return end_of(dt.date.fromisoformat(text))
        moment = dt.datetime.fromisoformat(text)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TIME)
        moment.astimezone(dt.UTC)
    except (ValueError, OverflowError) as error:
        raise InvalidRequest(
            f"parameter as_of {text!r}", f"not {FORMS} ({error})", "give a date or a time"
        ) from None
    return moment


def as_of_day(text: str | None, *, default: dt.date | None = None) -> dt.date:
    """The day (China time) of ``as_of``, for what answers for a whole day (board, stats)."""
    return as_of_moment(text, default=default).astimezone(CHINA_TIME).date()
