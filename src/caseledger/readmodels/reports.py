"""What the supervision office reads from the board read model: the board, statistics and
sanction roll-ups, each for an ``as_of`` day, each one indexed query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

from caseledger.domain.vocabulary import Satisfaction
from caseledger.judging.judgement import Light
from caseledger.readmodels.projection import BoardProjection

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
    """One yellow or red open case."""

    case_no: str
    light: Light
    status: str
    item_code: str | None
    case_kind: str | None
    department: str | None
    window: str | None
    deadline: dt.date | None
    """While paused: the deadline as it stood when the clock stopped (it moves each day)."""
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
    "deadline_wd, paused_left, violations, paused, provisional, rule_pack FROM {table} "
)


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
    yellow or red on ``as_of`` (at most ``limit``), worst first:
    red before yellow, the longest red first, then the nearest deadline. Red and yellow are
    read from two partial indexes of open cases (on the day each turns red and yellow), so
    the query never evaluates a case."""
    p = projection.p
    params: dict[str, Any] = {"t": as_of.toordinal()}
    filters = []
    for column, value in (("department", department), ("window_code", window), ("item_code", item)):
        if value is not None:
            filters.append(f" AND {column} = {p(column)}")
            params[column] = value
    where = "".join(filters)
    table = projection.table
    red_where = f"WHERE watched_until IS NULL AND red_from <= {p('t')}{where}"
    yellow_where = (
        f"WHERE watched_until IS NULL AND yellow_from <= {p('t')} "
        f"AND (red_from IS NULL OR red_from > {p('t')}){where}"
    )
    counts = projection.query(
        f"SELECT (SELECT COUNT(*) FROM {table} {red_where}) AS red, "
        f"(SELECT COUNT(*) FROM {table} {yellow_where}) AS yellow",
        params,
    )[0]
    red_count, yellow_count = int(counts["red"]), int(counts["yellow"])
    select = _SELECT.format(table=table)
    cut = "" if limit is None else f" LIMIT {int(limit)}"
    rows = [
        (Light.RED, row)
        for row in projection.query(
            f"{select}{red_where} ORDER BY red_from, deadline, case_no{cut}", params
        )
    ]
    room = None if limit is None else max(0, limit - len(rows))
    if room is None or room > 0:
        cut = "" if room is None else f" LIMIT {room}"
        rows += [
            (Light.YELLOW, row)
            for row in projection.query(
                f"{select}{yellow_where} ORDER BY deadline, case_no{cut}", params
            )
        ]
    today: dict[str, int] = {}
    entries = []
    for light, row in rows:
        pack = row["rule_pack"]
        if pack not in today:
            today[pack] = projection.packs.get(pack).calendar.working_day_index(as_of)
        left = None if row["deadline_wd"] is None else row["deadline_wd"] - today[pack]
        if row["paused"]:
            left = row["paused_left"]  # the clock is stopped: what was left when it stopped
        entries.append(
            BoardEntry(
                case_no=row["case_no"],
                light=light,
                status=row["status"],
                item_code=row["item_code"],
                case_kind=row["case_kind"],
                department=row["department"],
                window=row["window_code"],
                deadline=_day(row["deadline"]),
                working_days_left=left,
                violations=[v for v in (row["violations"] or "").split(",") if v],
                paused=bool(row["paused"]),
                provisional=bool(row["provisional"]),
                rule_pack=pack,
            )
        )
    return Board(as_of, red_count, yellow_count, entries)


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
    """Statistics of the cases received up to ``as_of`` (and from ``since``), by ``by``."""
    p = projection.p
    key = _KEYS[by]
    params: dict[str, Any] = {"t": as_of.toordinal(), "s": (since or dt.date.min).toordinal()}
    t = p("t")
    done = f"(decided_on IS NOT NULL AND decided_on <= {t})"
    still_open = f"(closed_on IS NULL OR closed_on > {t})"
    statement = (
        f"SELECT COALESCE({key}, '-') AS key, COUNT(*) AS received, "
        f"SUM(CASE WHEN {done} THEN 1 ELSE 0 END) AS finished, "
        f"SUM(CASE WHEN {done} AND on_time = 1 THEN 1 ELSE 0 END) AS on_time, "
        f"SUM(CASE WHEN {done} AND early = 1 THEN 1 ELSE 0 END) AS early, "
        f"SUM(CASE WHEN ({done} AND on_time = 0) OR ({still_open} AND deadline < {t}) "
        "THEN 1 ELSE 0 END) AS overdue, "
        f"SUM(CASE WHEN {still_open} THEN 1 ELSE 0 END) AS open, "
        f"AVG(CASE WHEN {done} THEN working_days_used END) AS average, "
        "SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END) AS rated, "
        f"SUM(CASE WHEN rating IN ({_GOOD}) THEN 1 ELSE 0 END) AS rated_good "
        f"FROM {projection.table} "
        f"WHERE received_on <= {t} AND received_on >= {p('s')} "
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
    """Sanctions found up to ``as_of``, per department or window (and pack)."""
    p = projection.p
    key = _KEYS[by]
    statement = (
        f"SELECT COALESCE(s.{key}, '-') AS key, b.rule_pack AS rule_pack, s.case_no, s.sanction, "
        f"s.label, s.points, s.due FROM {projection.sanctions_table} s "
        f"JOIN {projection.table} b ON b.case_no = s.case_no "
        f"WHERE s.day <= {p('t')} ORDER BY key, b.rule_pack, s.case_no, s.day, s.rule"
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
