"""The board read model's recorder for SQLite (the ledger's own database file)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder

from caseledger.judging.rows import BoardRow
from caseledger.readmodels.tables import UPSTREAM, BoardTables, BoardWriting

__all__ = ["SQLiteBoardRecorder"]


class SQLiteBoardRecorder(BoardWriting, SQLiteTrackingRecorder):
    """The board tables in the ledger's SQLite database."""

    sql = BoardTables(":{}", "?")

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self.sql.create]

    def write(self, rows: Sequence[BoardRow], tracking: Tracking, *, after: int) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            self._write(cursor, rows, tracking)

    def replace(self, rows: Iterable[BoardRow], tracking: Tracking | None) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {self.sql.board}")
            cursor.execute(f"DELETE FROM {self.sql.sanctions}")
            cursor.execute(f"DELETE FROM {self.sql.tally}")
            cursor.execute("DELETE FROM tracking WHERE application_name = ?", (UPSTREAM,))
            if tracking is not None:
                self._write(cursor, rows, tracking, fresh=True)

    def query(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, params)
            return [dict(row) for row in cursor.fetchall()]
