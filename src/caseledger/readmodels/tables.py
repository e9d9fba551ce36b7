"""The board read model's tables: their names, statements and how rows are written, shared
by the SQLite and PostgreSQL recorders (:mod:`.sqlite`, :mod:`.postgres`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Tracking

from caseledger.judging.rows import (
    COLUMNS,
    SANCTION_COLUMNS,
    BoardRow,
    BoardValues,
    SanctionValues,
)

__all__ = [
    "BOARD_SCHEMA",
    "CURRENT",
    "PAST",
    "UPSTREAM",
    "BoardRecorder",
    "BoardTables",
    "BoardWriting",
]

BOARD_SCHEMA = 6
"""The version of the board tables; a new version gets new tables and replays the log."""
UPSTREAM = f"caseledger/board/v{BOARD_SCHEMA}"
"""The tracking key of the board: the upstream application and the board's version."""


CURRENT = "watched = 1 AND seg_to IS NULL"
"""The rows of today's board: segments under supervision that answer for every day from theirs."""
PAST = "watched = 1 AND seg_to IS NOT NULL AND (red_from IS NOT NULL OR yellow_from IS NOT NULL)"
"""The rows a past day's board may also need: ended segments under supervision that alert."""

_BATCH = 1000
"""How many rows a write sends to the database at once."""


class BoardTables:
    """The board's tables and statements; ``param`` formats a named placeholder."""

    board = f"caseledger_board_v{BOARD_SCHEMA}"
    sanctions = f"caseledger_board_v{BOARD_SCHEMA}_sanctions"
    tally = f"caseledger_board_v{BOARD_SCHEMA}_tally"
    """How many of today's segments (:data:`CURRENT`) begin to alert, and to be red, on each
    day, counted from the later of that day and the segment's own: today's board counts its
    lights by summing the days up to its day, not by counting a million index entries."""

    def __init__(self, param: str, positional: str) -> None:
        self.param = param
        self.positional = positional
        q = positional  # writes pass tuples: positional parameters are the fastest
        names = ", ".join(COLUMNS)
        self.insert = f"INSERT INTO {self.board} ({names}) VALUES ({', '.join(q for _ in COLUMNS)})"
        self.delete_rows = f"DELETE FROM {self.board} WHERE case_no = {q}"
        self.delete_sanctions = f"DELETE FROM {self.sanctions} WHERE case_no = {q}"
        self.insert_sanction = (
            f"INSERT INTO {self.sanctions} ({', '.join(SANCTION_COLUMNS)}) VALUES "
            f"({', '.join(q for _ in SANCTION_COLUMNS)})"
        )
        self.count = (
            f"INSERT INTO {self.tally} (day, alert, red) VALUES ({q}, {q}, {q}) "
            f"ON CONFLICT (day) DO UPDATE SET alert = {self.tally}.alert + excluded.alert, "
            f"red = {self.tally}.red + excluded.red"
        )
        later = "CASE WHEN {0} > seg_from THEN {0} ELSE seg_from END"
        self.recount = [
            f"DELETE FROM {self.tally}",
            f"INSERT INTO {self.tally} (day, alert, red) SELECT day, SUM(alert), SUM(red) FROM ("
            f"SELECT {later.format('alert_from')} AS day, 1 AS alert, 0 AS red FROM {self.board} "
            f"WHERE {CURRENT} AND alert_from IS NOT NULL UNION ALL "
            f"SELECT {later.format('red_from')} AS day, 0 AS alert, 1 AS red FROM {self.board} "
            f"WHERE {CURRENT} AND red_from IS NOT NULL) AS lit GROUP BY day",
        ]
        self.current_of = (
            f"SELECT seg_from, alert_from, red_from FROM {self.board} WHERE {CURRENT} "
            "AND case_no IN ({})"
        )
        self.columns = {self.board: COLUMNS, self.sanctions: SANCTION_COLUMNS}
        """The columns of the board's and the sanctions' tables, in the order of their rows."""
        self.types = {self.board: _types(BoardValues), self.sanctions: _types(SanctionValues)}
        """The PostgreSQL types of those columns."""
        board = self.board
        key = "case_no, seg_from"
        self.create = [
            f"CREATE TABLE IF NOT EXISTS {board} ({_columns(BoardValues)}, PRIMARY KEY ({key}))",
            # the segments that answer for every day from theirs on: today's board reads these
            f"CREATE INDEX IF NOT EXISTS {board}_red ON {board} "
            f"(red_from, deadline, case_no, seg_from) WHERE {CURRENT}",
            # the first day each is yellow or red: the counts of both lights, and the yellows
            f"CREATE INDEX IF NOT EXISTS {board}_alert ON {board} "
            f"(alert_from, red_from, seg_from) WHERE {CURRENT}",
            f"DROP INDEX IF EXISTS {board}_yellow",  # of earlier versions of this table
            # the segments that ended: a past day's board reads those that had not ended then
            f"CREATE INDEX IF NOT EXISTS {board}_past ON {board} (seg_to, seg_from) WHERE {PAST}",
            f"CREATE TABLE IF NOT EXISTS {self.tally} (day INTEGER PRIMARY KEY, "
            "alert INTEGER NOT NULL, red INTEGER NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.sanctions} ({_columns(SanctionValues)})",
            f"CREATE INDEX IF NOT EXISTS {self.sanctions}_case ON {self.sanctions} (case_no)",
        ]


def _columns(values: type[tuple[Any, ...]]) -> str:
    """The column definitions of a table whose rows are the named tuple ``values``: TEXT for
    its ``str`` fields, INTEGER for the others."""
    annotations: dict[str, Any] = values.__annotations__
    columns = []
    for name in values._fields:  # type: ignore[attr-defined]
        sql = "TEXT" if "str" in str(annotations[name]) else "INTEGER"
        columns.append(f"{name} {sql}")
    return ", ".join(columns)


def _types(values: type[tuple[Any, ...]]) -> list[str]:
    """The PostgreSQL types of the columns :func:`_columns` defines (``int4`` for INTEGER),
    in order."""
    return ["text" if " TEXT" in column else "int4" for column in _columns(values).split(", ")]


class BoardRecorder(Protocol):
    """What the projection needs of a board recorder."""

    sql: BoardTables

    def write(self, rows: Sequence[BoardRow], tracking: Tracking, *, after: int) -> None: ...
    def replace(self, rows: Iterable[BoardRow], tracking: Tracking | None) -> None: ...
    def query(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]: ...
    def max_tracking_id(self, application_name: str) -> int | None: ...


class BoardWriting:
    """What both recorders share: writing rows with tracking."""

    sql: BoardTables

    def _write(
        self,
        cursor: Any,
        rows: Iterable[BoardRow],
        tracking: Tracking,
        *,
        fresh: bool = False,
        after: int | None = None,
    ) -> None:
        """Write ``rows``, every segment of the cases they are of, a batch at a time, in place
        of those cases' rows (``fresh``: into tables just emptied, so plain inserts), and
        the new position ``tracking`` (moved from ``after``, see :meth:`_track`)."""
        rows = iter(rows)
        while batch := list(itertools.islice(rows, _BATCH)):
            change: dict[int, list[int]] = {}  # day: [alerting from it, red from it]
            if not fresh:
                numbers = list(dict.fromkeys(r.values.case_no for r in batch))
                # a write first: SQLite then takes the write lock, waiting for it, where a read
                # first would fail at once to upgrade its lock while another writer holds it
                self._delete_cases(cursor, self.sql.sanctions, numbers)
                marks = ", ".join(self.sql.positional for _ in numbers)
                cursor.execute(self.sql.current_of.format(marks), numbers)
                for old in cursor.fetchall():
                    _lit(change, -1, *(old[c] for c in ("seg_from", "alert_from", "red_from")))
                self._delete_cases(cursor, self.sql.board, numbers)
            values = [r.values for r in batch]
            self._insert_rows(cursor, self.sql.board, values)
            sanctions = [s for r in batch for s in r.sanctions]
            if sanctions:
                self._insert_rows(cursor, self.sql.sanctions, sanctions)
            if fresh:
                continue  # counted once the tables are full (``recount``)
            for v in values:
                if v.watched and v.seg_to is None:
                    _lit(change, 1, v.seg_from, v.alert_from, v.red_from)
            counted = [(day, alert, red) for day, (alert, red) in change.items() if alert or red]
            if counted:
                self._add_counts(cursor, counted)
        if fresh:
            for statement in self.sql.recount:
                cursor.execute(statement)
        self._track(cursor, tracking, after)

    def _delete_cases(self, cursor: Any, table: str, numbers: list[str]) -> None:
        """Delete the rows of the cases ``numbers`` from ``table`` (the board's or its
        sanctions'): a statement a case, as SQLite runs them at C speed."""
        statement = self.sql.delete_rows if table == self.sql.board else self.sql.delete_sanctions
        cursor.executemany(statement, [(case_no,) for case_no in numbers])

    def _insert_rows(self, cursor: Any, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (board values or sanction values) into ``table``."""
        statement = self.sql.insert if table == self.sql.board else self.sql.insert_sanction
        cursor.executemany(statement, rows)

    def _add_counts(self, cursor: Any, counted: list[tuple[int, int, int]]) -> None:
        """Add ``counted`` (day, alerting, red; one row a day) to the tally."""
        cursor.executemany(self.sql.count, counted)

    def _track(self, cursor: Any, tracking: Tracking, after: int | None) -> None:
        """Record the board's new position: eventsourcing's tracking record, which refuses
        (``IntegrityError``) a position not past the one held. That suffices where the log
        positions grow in recording order (SQLite's rowids); PostgreSQL's recorder moves
        it only from ``after``, the position the rows were read from."""
        self._insert_tracking(cursor, tracking)  # type: ignore[attr-defined]


def _lit(
    change: dict[int, list[int]], n: int, seg_from: int, alert: int | None, red: int | None
) -> None:
    """Count a segment of today's board (``n``: 1 written, -1 replaced) on the days it
    begins to alert and to be red, from its own day."""
    if alert is not None:
        change.setdefault(max(alert, seg_from), [0, 0])[0] += n
    if red is not None:
        change.setdefault(max(red, seg_from), [0, 0])[1] += n
