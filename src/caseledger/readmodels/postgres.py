"""The board read model's recorder for PostgreSQL (needs the ``postgres`` extra), and the
LISTEN loop that wakes the board's follower."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import psycopg
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg.sql import SQL

from caseledger.judging.rows import BoardRow
from caseledger.readmodels.tables import UPSTREAM, BoardTables, BoardWriting

if TYPE_CHECKING:
    from caseledger.store.event_store import CaseStore

__all__ = ["PostgresBoardRecorder", "listening"]


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

    def write(self, rows: Sequence[BoardRow], tracking: Tracking, *, after: int) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f'SET LOCAL search_path TO "{self._schema}"')
            self._write(cursor, rows, tracking, after=after)

    def _delete_cases(self, cursor: Any, table: str, numbers: list[str]) -> None:
        """One statement for every case: psycopg's ``executemany`` sends one a row."""
        cursor.execute(f"DELETE FROM {table} WHERE case_no = ANY(%s)", (numbers,))

    def _insert_rows(self, cursor: Any, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """One ``COPY`` (binary, the columns' types given) for every row."""
        names = ", ".join(self.sql.columns[table])
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(self.sql.types[table])
            for row in rows:
                copy.write_row(row)

    def _add_counts(self, cursor: Any, counted: list[tuple[int, int, int]]) -> None:
        """One statement for every day (each day once: ``ON CONFLICT`` allows no repeat)."""
        days, alerts, reds = (list(column) for column in zip(*counted, strict=True))
        cursor.execute(
            f"INSERT INTO {self.sql.tally} (day, alert, red) SELECT * FROM "
            "unnest(%s::int4[], %s::int4[], %s::int4[]) ON CONFLICT (day) DO UPDATE SET "
            f"alert = {self.sql.tally}.alert + excluded.alert, "
            f"red = {self.sql.tally}.red + excluded.red",
            (days, alerts, reds),
        )

    def _track(self, cursor: Any, tracking: Tracking, after: int | None) -> None:
        """Move the board's position from ``after`` to ``tracking``'s, or raise
        ``IntegrityError`` if it is no longer ``after`` (another projection applied these
        events first). Positions are notification ids read in recording order, which do not
        grow (a transaction with a later id can commit first), so eventsourcing's record,
        which only lets the id grow, would refuse them; a projection waiting on the row
        another one updates sees its new value once that one commits, and fails here."""
        if after is None:
            super()._track(cursor, tracking, after)
            return
        table = f'"{self._schema}".{self.tracking_table_name}'
        cursor.execute(
            f"UPDATE {table} SET notification_id = %s "
            "WHERE application_name = %s AND notification_id = %s",
            (tracking.notification_id, tracking.application_name, after),
        )
        if cursor.rowcount == 1:
            return
        if after == 0:  # no position yet: the first one
            cursor.execute(
                f"INSERT INTO {table} (application_name, notification_id) VALUES (%s, %s) "
                "ON CONFLICT (application_name) DO NOTHING",
                (tracking.application_name, tracking.notification_id),
            )
            if cursor.rowcount == 1:
                return
        raise IntegrityError(
            f"the board's position moved from {after} while these events were applied"
        )

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


@contextmanager
def listening(store: CaseStore) -> Iterator[Callable[[float, threading.Event], None]]:
    """A connection LISTENing on the store's channel (every recording transaction NOTIFYs
    it at its commit), held while in the block; the block gets ``notified(seconds, stop)``,
    which returns once a notification arrives, ``seconds`` have passed, or ``stop`` is set
    (checked every tenth of a second)."""
    recorder: Any = store.recorder
    with recorder.datastore.get_connection() as conn:
        conn.execute(f'LISTEN "{recorder.channel_name}"')  # the pool's are autocommit

        def notified(seconds: float, stop: threading.Event) -> None:
            waited = 0.0
            while waited < seconds and not stop.is_set():
                step = min(0.1, seconds - waited)
                if list(conn.notifies(timeout=step, stop_after=1)):
                    # take every notification queued meanwhile: one catch-up reads them all
                    list(conn.notifies(timeout=0.0))
                    return
                waited += step

        try:
            yield notified
        finally:
            with suppress(psycopg.Error):  # back to the pool listening to nothing
                conn.execute(f'UNLISTEN "{recorder.channel_name}"')
