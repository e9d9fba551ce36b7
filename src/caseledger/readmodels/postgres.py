"""The board read model's recorder for PostgreSQL (needs the ``postgres`` extra)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg.sql import SQL

from caseledger.judging.rows import BoardRow
from caseledger.readmodels.tables import UPSTREAM, BoardTables, BoardWriting

__all__ = ["PostgresBoardRecorder"]


class PostgresBoardRecorder(BoardWriting, PostgresTrackingRecorder):
    """The board tables in the ledger's PostgreSQL schema."""

    sql = BoardTables("%({})s", "%s")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = self.datastore.schema
        for statement in self.sql.create:
            qualified = statement.replace("caseledger_board", f'"{schema}".caseledger_board')
            qualified = qualified.replace(
                f'INDEX IF NOT EXISTS "{schema}".', "INDEX IF NOT EXISTS "
            )
            self.sql_create_statements.append(SQL(qualified))  # type: ignore[arg-type]
        self._schema = schema

    def write(self, rows: Sequence[BoardRow], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f'SET LOCAL search_path TO "{self._schema}"')
            self._write(cursor, rows, tracking)

    def replace(self, rows: Iterable[BoardRow], tracking: Tracking | None) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f'SET LOCAL search_path TO "{self._schema}"')
            cursor.execute(f"DELETE FROM {self.sql.board}")
            cursor.execute(f"DELETE FROM {self.sql.sanctions}")
            cursor.execute(f"DELETE FROM {self.sql.tally}")
            cursor.execute(
                f'DELETE FROM "{self._schema}".{self.tracking_table_name} '
                "WHERE application_name = %s",
                (UPSTREAM,),
            )
            if tracking is not None:
                self._write(cursor, rows, tracking, fresh=True)

    def query(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f'SET LOCAL search_path TO "{self._schema}"')
            cursor.execute(statement, params)
            return [dict(row) for row in cursor.fetchall()]
