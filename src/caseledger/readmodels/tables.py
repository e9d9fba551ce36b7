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

__all__ = ["BOARD_SCHEMA", "UPSTREAM", "BoardRecorder", "BoardTables", "BoardWriting"]

BOARD_SCHEMA = 4
"""The version of the board tables; a new version gets new tables and replays the log."""
UPSTREAM = f"caseledger/board/v{BOARD_SCHEMA}"
"""The tracking key of the board: the upstream application and the board's version."""


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
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "case_no")
        self.insert = f"INSERT INTO {self.board} ({names}) VALUES ({', '.join(q for _ in COLUMNS)})"
        self.upsert = f"{self.insert} ON CONFLICT (case_no) DO UPDATE SET {updates}"
        self.delete_sanctions = f"DELETE FROM {self.sanctions} WHERE case_no = {q}"
        self.insert_sanction = (
            f"INSERT INTO {self.sanctions} ({', '.join(SANCTION_COLUMNS)}) VALUES "
            f"({', '.join(q for _ in SANCTION_COLUMNS)})"
        )
        self.create = [
            f"CREATE TABLE IF NOT EXISTS {self.board} ({_columns(BoardValues, key='case_no')})",
            f"CREATE INDEX IF NOT EXISTS {self.board}_red ON {self.board} "
            "(red_from, deadline, case_no) WHERE watched_until IS NULL",
            f"CREATE INDEX IF NOT EXISTS {self.board}_yellow ON {self.board} "
            "(yellow_from, red_from) WHERE watched_until IS NULL",
            f"CREATE INDEX IF NOT EXISTS {self.board}_received ON {self.board} (received_on)",
            f"CREATE TABLE IF NOT EXISTS {self.sanctions} ({_columns(SanctionValues)})",
            f"CREATE INDEX IF NOT EXISTS {self.sanctions}_case ON {self.sanctions} (case_no)",
        ]


def _columns(values: type[tuple[Any, ...]], *, key: str | None = None) -> str:
    """The column definitions of a table whose rows are the named tuple ``values``: TEXT for
    its ``str`` fields, INTEGER for the others, and ``key`` the primary key."""
    annotations: dict[str, Any] = values.__annotations__
    columns = []
    for name in values._fields:  # type: ignore[attr-defined]
        sql = "TEXT" if "str" in str(annotations[name]) else "INTEGER"
        columns.append(f"{name} {sql}" + (" PRIMARY KEY" if name == key else ""))
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
        """Write ``rows`` of distinct cases, in their order, a batch at a time (``fresh``:
        into tables just emptied, so plain inserts)."""
        rows = iter(rows)
        while batch := list(itertools.islice(rows, _BATCH)):
            cursor.executemany(
                self.sql.insert if fresh else self.sql.upsert, [r.values for r in batch]
            )
            if not fresh:
                cursor.executemany(self.sql.delete_sanctions, [(r.values[0],) for r in batch])
            sanctions = [s for r in batch for s in r.sanctions]
            if sanctions:
                cursor.executemany(self.sql.insert_sanction, sanctions)
        self._insert_tracking(cursor, tracking)  # type: ignore[attr-defined]
