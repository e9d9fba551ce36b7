"""eventsourcing's SQLite infrastructure, writing a batch in one ``executemany``.

eventsourcing's application recorder inserts a batch one ``execute`` per event, to return
each row's notification id; caseledger never uses those ids (readers follow the log by
position), so here the rows of a batch go in one ``executemany``, in the batch's one
transaction, as eventsourcing's aggregate recorder writes them.

A large batch (:meth:`ManyRecorder.batch_transaction`) holds one connection and one
transaction (``BEGIN IMMEDIATE``) while it runs, writes its rows in chunks as they come and
reads its streams through the same connection, so that it sees its own rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from eventsourcing.sqlite import (
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteFactory,
)

__all__ = ["CaseLedgerSQLiteFactory", "ManyRecorder", "SQLiteBatch"]


class SQLiteBatch:
    """The open transaction of a batch: ``write`` one chunk of rows with one
    ``executemany``; ``cursor`` reads (plain tuples) in the same transaction; ``mine`` is
    true of the rows this transaction wrote."""

    def __init__(self, cursor: sqlite3.Cursor, insert: str, first_rowid: int) -> None:
        self.cursor = cursor
        self._insert = insert
        self.mine = f"rowid > {int(first_rowid)}"
        """Rows are given rowids above every rowid before them: the transaction holds the
        write lock from its start, so each row above the last one then is its own."""

    def write(self, rows: Sequence[tuple[str, int, str, bytes]]) -> None:
        self.cursor.executemany(self._insert, rows)


class ManyRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite application recorder, inserting a batch with ``executemany``
    (returning no notification ids)."""

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        return SQLiteAggregateRecorder._insert_events(self, c, stored_events, **kwargs)

    @contextmanager
    def batch_transaction(self) -> Iterator[SQLiteBatch]:
        """One connection and one write transaction for a batch, committed when the block
        ends, rolled back if it raises. sqlite3's errors come out as eventsourcing's (a
        unique violation as ``IntegrityError``)."""
        with self.datastore.get_connection(commit=True) as conn:
            cursor: sqlite3.Cursor = conn.cursor().sqlite_cursor
            cursor.row_factory = None
            try:
                try:
                    cursor.execute("BEGIN IMMEDIATE")
                    cursor.execute(f"SELECT coalesce(max(rowid), 0) FROM {self.events_table_name}")
                    yield SQLiteBatch(cursor, self.insert_events_statement, cursor.fetchone()[0])
                except BaseException:
                    if cursor.connection.in_transaction:
                        conn.rollback()
                    raise
                conn.commit()
            except sqlite3.IntegrityError as error:
                raise IntegrityError(error) from error
            except sqlite3.Error as error:
                raise OperationalError(error) from error
            finally:
                cursor.close()


class CaseLedgerSQLiteFactory(SQLiteFactory):
    """eventsourcing's SQLite factory with :class:`ManyRecorder`."""

    application_recorder_class = ManyRecorder
