"""What the supervision office reads from the board read model: the board, statistics and
sanction roll-ups, each for an ``as_of`` day, each one indexed query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

from caseledger.calendar import WorkingCalendar
from caseledger.domain.vocabulary import Satisfaction
from caseledger.judging.judgement import Light
from caseledger.readmodels.projection import BoardProjection
from caseledger.readmodels.tables import CURRENT, PAST

__all__ = [
    "GROUPINGS",
    "Board",
    "BoardEntry",
    "Grouping",
    "ScoreRow",
    "StatRow",
    "board",
    "scores",
    "statistics",
]

Grouping = Literal["department", "window", "item", "month", "quarter", "pack"]
GROUPINGS: tuple[str, ...] = get_args(Grouping)
_KEYS: dict[str, str] = {
    "department": "department",
    "window": "window_code",
    "item": "item_code",
    "month": "received_month",
    # e.g. 2026-Q4: window staff are assessed and reported once a quarter (seed 001 line 19)
    "quarter": "(substr(received_month, 1, 4) || '-Q' || "
    "CAST((CAST(substr(received_month, 6, 2) AS INTEGER) + 2) / 3 AS TEXT))",
    "pack": "rule_pack",
}


_GOOD = ", ".join(f"'{grade.value}'" for grade in Satisfaction if grade.good)
"""The grades counted as 好评, as SQL literals (fixed names, not user input)."""


def _day(ordinal: int | None) -> dt.date | None:
    return dt.date.fromordinal(ordinal) if ordinal is not None else None


@dataclass(frozen=True)
class BoardEntry:
    """One yellow or red case under supervision on the board's day."""

    case_no: str
    light: Light
    status: str
    item_code: str | None
    case_kind: str | None
    department: str | None
    window: str | None
    deadline_kind: str | None
    """Which deadline decides the light: ``statutory``, ``promised`` or ``certificate``."""
    deadline: dt.date | None
    """That deadline on the board's day (a pause moves it day by day)."""
    working_days_left: int | None
    violations: list[str]
    paused: bool
    provisional: bool
    rule_pack: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["light"] = self.light.value
        data["deadline"] = self.deadline.isoformat() if self.deadline else None
        return data


@dataclass(frozen=True)
class Board:
    """The yellow and red open cases on a day: how many of each, and the worst first."""

    as_of: dt.date
    red: int
    yellow: int
    entries: list[BoardEntry]

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "red": self.red,
            "yellow": self.yellow,
            "cases": [e.as_dict() for e in self.entries],
        }


_SELECT = (
    "SELECT case_no, status, item_code, case_kind, department, window_code, deadline, "
    "deadline_kind, deadline_wd, started_from, paused_left, findings, paused, provisional, "
    "rule_pack, red_from FROM {table} "
)

_VALID = "seg_from <= {t}"
"""A segment answers for a day from its own day (and, if it ended, up to its end)."""


def board(
    projection: BoardProjection,
    as_of: dt.date,
    *,
    department: str | None = None,
    window: str | None = None,
    item: str | None = None,
    limit: int | None = None,
) -> Board:
    """Every case under supervision (open, or approved with its certificate owed) that is
    yellow or red on ``as_of`` (at most ``limit``), worst first: red before yellow, the
    longest red first, then the nearest deadline. Each case is read from the segment of its
    history that answers for ``as_of`` (what its events up to that day bring), through
    partial indexes: those of the segments that have not ended (today's board) and of those
    that ended on or after ``as_of`` (a past day's). The query never evaluates a case, and
    gives what ``evaluate(case, end of as_of)`` gives (:func:`~caseledger.judging.
    supervision.watch_of`)."""
    p = projection.p
    params: dict[str, Any] = {"t": as_of.toordinal()}
    filters = []
    for column, value in (("department", department), ("window_code", window), ("item_code", item)):
        if value is not None:
            filters.append(f" AND {column} = {p(column)}")
            params[column] = value
    t = p("t")
    valid = _VALID.format(t=t) + "".join(filters)
    current = f"WHERE {CURRENT} AND {valid}"
    past = f"WHERE {PAST} AND seg_to >= {t} AND {valid}"
    red = f" AND red_from <= {t}"
    yellow = f" AND alert_from <= {t} AND (red_from IS NULL OR red_from > {t})"
    # one pass over the alerting segments counts both lights: yellow or red from alert_from
    alert = f" AND alert_from <= {t}"
    table = projection.table
    lights = (
        f"SELECT COUNT(*) AS alert, COUNT(*) FILTER (WHERE red_from <= {t}) AS red FROM {table}"
    )
    if filters:
        today = f"{lights} {current}{alert}"
    else:  # the days' tally of today's segments: a sum over days, not a count of segments
        today = (
            "SELECT COALESCE(SUM(alert), 0) AS alert, COALESCE(SUM(red), 0) AS red "
            f"FROM {projection.tally_table} WHERE day <= {t}"
        )
    counts = projection.query(f"{today} UNION ALL {lights} {past}{alert}", params)
    red_count = sum(int(row["red"]) for row in counts)
    yellow_count = sum(int(row["alert"]) for row in counts) - red_count
    select = _SELECT.format(table=table)
    cut = "" if limit is None else f" LIMIT {int(limit)}"
    order = f" ORDER BY red_from, deadline, case_no{cut}"
    reds = _merged(
        [projection.query(f"{select}{where}{red}{order}", params) for where in (current, past)],
        key=lambda row: (row["red_from"], row["deadline"] or 0, row["case_no"]),
    )
    rows = [(Light.RED, row) for row in reds[:limit]]
    room = None if limit is None else max(0, limit - len(rows))
    if room is None or room > 0:
        cut = "" if room is None else f" LIMIT {room}"
        yellows = _merged(
            [
                projection.query(f"{select}{where}{yellow} ORDER BY deadline, case_no{cut}", params)
                for where in (current, past)
            ],
            key=lambda row: (row["deadline"] or 0, row["case_no"]),
        )
        rows += [(Light.YELLOW, row) for row in yellows[:room]]
    calendars: dict[str, WorkingCalendar] = {}
    entries = []
    for light, row in rows:
        pack = row["rule_pack"]
        if pack not in calendars:
            calendars[pack] = projection.packs.get(pack).calendar
        deadline, left = _deadline_on(row, as_of, calendars[pack])
        entries.append(
            BoardEntry(
                case_no=row["case_no"],
                light=light,
                status=row["status"],
                item_code=row["item_code"],
                case_kind=row["case_kind"],
                department=row["department"],
                window=row["window_code"],
                deadline_kind=row["deadline_kind"] if deadline else None,
                deadline=deadline,
                working_days_left=left,
                violations=_violations_by(row["findings"], params["t"]),
                paused=bool(row["paused"]),
                provisional=bool(row["provisional"]),
                rule_pack=pack,
            )
        )
    return Board(as_of, red_count, yellow_count, entries)


def _merged(parts: list[list[dict[str, Any]]], key: Any) -> list[dict[str, Any]]:
    """The rows of ``parts`` (each already in order) in one order."""
    rows = [row for part in parts for row in part]
    return rows if len(parts[1]) == 0 else sorted(rows, key=key)


def _deadline_on(
    row: dict[str, Any], day: dt.date, calendar: WorkingCalendar
) -> tuple[dt.date | None, int | None]:
    """The deadline a row's case is watched for on ``day``, and the working days left to it:
    none before its clock starts; while a pause holds it, the day that keeps the working days
    left when the clock stopped."""
    started = row["started_from"]
    if row["deadline"] is None or started is None or started > day.toordinal():
        return None, None
    if row["paused_left"] is not None:
        left = int(row["paused_left"])
        return calendar.add_working_days(day, left).value, left
    return _day(row["deadline"]), int(row["deadline_wd"]) - calendar.working_day_index(day)


def _violations_by(findings: str | None, day: int) -> list[str]:
    """The kinds of the findings (``day:violation`` pairs) that had appeared by ``day``."""
    kinds = set()
    for item in (findings or "").split(","):
        on, _, violation = item.partition(":")
        if violation and int(on) <= day:
            kinds.add(violation)
    return sorted(kinds)


@dataclass(frozen=True)
class StatRow:
    """Counts the seeds report: received, finished, on time, early (提前办结), overdue."""

    key: str
    received: int
    finished: int
    on_time: int
    early: int
    overdue: int
    open: int
    average_working_days: float | None
    rated: int = 0
    """Finished cases rated after completion (办结评价)."""
    rated_good: int = 0
    """Of them, rated 好评 (非常满意, 满意 or 基本满意)."""

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.finished if self.finished else None

    @property
    def early_rate(self) -> float | None:
        """提前办结率: finished before the deadline, over all finished."""
        return self.early / self.finished if self.finished else None

    @property
    def good_rating_rate(self) -> float | None:
        """好评率: rated good, over all rated."""
        return self.rated_good / self.rated if self.rated else None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["on_time_rate"] = self.on_time_rate
        data["early_rate"] = self.early_rate
        data["good_rating_rate"] = self.good_rating_rate
        return data


def statistics(
    projection: BoardProjection,
    as_of: dt.date,
    *,
    by: Grouping = "department",
    since: dt.date | None = None,
) -> list[StatRow]:
    """Statistics of the cases received up to ``as_of`` (and from ``since``), by ``by``,
    each case as it stood at the end of ``as_of`` (the segment of its history that answers
    for that day): a finished case counts as on time only if it has no overtime finding by
    then, as :func:`~caseledger.judging.supervision.watch_of` says."""
    p = projection.p
    key = _KEYS[by]
    params: dict[str, Any] = {"t": as_of.toordinal(), "s": (since or dt.date.min).toordinal()}
    t = p("t")
    done = "decided_on IS NOT NULL"
    late = f"(overtime_from IS NOT NULL AND overtime_from <= {t})"
    on_time = f"{done} AND NOT {late}"
    statement = (
        f"SELECT COALESCE({key}, '-') AS key, COUNT(*) AS received, "
        f"SUM(CASE WHEN {done} THEN 1 ELSE 0 END) AS finished, "
        f"SUM(CASE WHEN {on_time} THEN 1 ELSE 0 END) AS on_time, "
        f"SUM(CASE WHEN {on_time} AND decided_on < decision_deadline THEN 1 ELSE 0 END) "
        "AS early, "
        f"SUM(CASE WHEN {late} THEN 1 ELSE 0 END) AS overdue, "
        "SUM(CASE WHEN closed_on IS NULL THEN 1 ELSE 0 END) AS open, "
        f"AVG(CASE WHEN {done} THEN working_days_used END) AS average, "
        "SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END) AS rated, "
        f"SUM(CASE WHEN rating IN ({_GOOD}) THEN 1 ELSE 0 END) AS rated_good "
        f"FROM {projection.table} "
        f"WHERE {_VALID.format(t=t)} AND (seg_to IS NULL OR seg_to >= {t}) "
        f"AND received_on >= {p('s')} "
        f"GROUP BY COALESCE({key}, '-') ORDER BY key"
    )
    return [
        StatRow(
            key=row["key"],
            received=int(row["received"]),
            finished=int(row["finished"] or 0),
            on_time=int(row["on_time"] or 0),
            early=int(row["early"] or 0),
            overdue=int(row["overdue"] or 0),
            open=int(row["open"] or 0),
            average_working_days=(
                round(float(row["average"]), 2) if row["average"] is not None else None
            ),
            rated=int(row["rated"] or 0),
            rated_good=int(row["rated_good"] or 0),
        )
        for row in projection.query(statement, params)
    ]


@dataclass(frozen=True)
class ScoreRow:
    """Sanctions rolled up for one unit: points off, and the score where the pack keeps one."""

    key: str
    rule_pack: str
    sanctions: int
    points_off: int
    score: int | None
    rectifications_due: list[tuple[str, dt.date | None, str]]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rectifications_due"] = [
            {"case_no": c, "due": d.isoformat() if d else None, "label": label}
            for c, d, label in self.rectifications_due
        ]
        return data


def scores(
    projection: BoardProjection, as_of: dt.date, *, by: Literal["department", "window"]
) -> list[ScoreRow]:
    """Sanctions found up to ``as_of``, per department or window (and pack): those of each
    case's segment that answers for ``as_of``."""
    p = projection.p
    key = _KEYS[by]
    t = p("t")
    statement = (
        f"SELECT COALESCE(s.{key}, '-') AS key, b.rule_pack AS rule_pack, s.case_no, s.sanction, "
        f"s.label, s.points, s.due FROM {projection.sanctions_table} s "
        f"JOIN {projection.table} b ON b.case_no = s.case_no AND b.seg_from = s.seg_from "
        f"WHERE s.seg_from <= {t} AND (s.seg_to IS NULL OR s.seg_to >= {t}) AND s.day <= {t} "
        "ORDER BY key, b.rule_pack, s.case_no, s.day, s.rule"
    )
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in projection.query(statement, {"t": as_of.toordinal()}):
        grouped.setdefault((row["key"], row["rule_pack"]), []).append(row)
    result = []
    for (unit, pack_name), rows in grouped.items():
        points = sum(int(r["points"] or 0) for r in rows)
        base = projection.packs.get(pack_name).score_base
        result.append(
            ScoreRow(
                key=unit,
                rule_pack=pack_name,
                sanctions=len(rows),
                points_off=points,
                score=None if base is None else base - points,
                rectifications_due=[
                    (r["case_no"], _day(r["due"]), r["label"])
                    for r in rows
                    if r["sanction"] == "rectification_notice"
                ],
            )
        )
    return result


FILTER_COLUMNS: dict[str, str] = {
    "department": "department",
    "window": "window_code",
    "item": "item_code",
}
"""The board's filters (``board(department=..., window=..., item=...)``) and their columns."""


def known_values(projection: BoardProjection, column: str) -> set[str]:
    """Every value the board's filter ``column`` (a key of :data:`FILTER_COLUMNS`) takes in some
    case's row, so a caller can tell a misspelt filter value from one no case has today."""
    name = FILTER_COLUMNS[column]
    rows = projection.query(
        f"SELECT DISTINCT {name} AS value FROM {projection.table} WHERE {name} IS NOT NULL"
    )
    return {str(row["value"]) for row in rows}
