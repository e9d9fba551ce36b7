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

BOARD_SCHEMA = 5
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

    def __init__(self, param: str, positional: str) -> None:
        self.param = param
        q = positional  # writes pass tuples: positional parameters are the fastest
        names = ", ".join(COLUMNS)
        self.insert = f"INSERT INTO {self.board} ({names}) VALUES ({', '.join(q for _ in COLUMNS)})"
        self.delete_rows = f"DELETE FROM {self.board} WHERE case_no = {q}"
        self.delete_sanctions = f"DELETE FROM {self.sanctions} WHERE case_no = {q}"
        self.insert_sanction = (
            f"INSERT INTO {self.sanctions} ({', '.join(SANCTION_COLUMNS)}) VALUES "
            f"({', '.join(q for _ in SANCTION_COLUMNS)})"
        )
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


class BoardRecorder(Protocol):
    """What the projection needs of a board recorder."""

    sql: BoardTables

    def write(self, rows: Sequence[BoardRow], tracking: Tracking) -> None: ...
    def replace(self, rows: Iterable[BoardRow], tracking: Tracking | None) -> None: ...
    def query(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]: ...
    def max_tracking_id(self, application_name: str) -> int | None: ...


class BoardWriting:
    """What both recorders share: writing rows with tracking."""

    sql: BoardTables

    def _write(
        self, cursor: Any, rows: Iterable[BoardRow], tracking: Tracking, *, fresh: bool = False
    ) -> None:
        """Write ``rows``, every segment of the cases they are of, a batch at a time, in place
        of those cases' rows (``fresh``: into tables just emptied, so plain inserts)."""
        rows = iter(rows)
        while batch := list(itertools.islice(rows, _BATCH)):
            if not fresh:
                cases = [(case_no,) for case_no in dict.fromkeys(r.values.case_no for r in batch)]
                cursor.executemany(self.sql.delete_rows, cases)
                cursor.executemany(self.sql.delete_sanctions, cases)
            cursor.executemany(self.sql.insert, [r.values for r in batch])
            sanctions = [s for r in batch for s in r.sanctions]
            if sanctions:
                cursor.executemany(self.sql.insert_sanction, sanctions)
        self._insert_tracking(cursor, tracking)  # type: ignore[attr-defined]
