"""eventsourcing's SQLite infrastructure, writing a batch in one ``executemany``.

eventsourcing's application recorder inserts a batch one ``execute`` per event, to return
each row's notification id; caseledger never uses those ids (readers follow the log by
position), so here the rows of a batch go in one ``executemany``, in the batch's one
transaction, as eventsourcing's aggregate recorder writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import (
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteFactory,
)

__all__ = ["CaseLedgerSQLiteFactory", "ManyRecorder"]


class ManyRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite application recorder, inserting a batch with ``executemany``
    (returning no notification ids)."""

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        return SQLiteAggregateRecorder._insert_events(self, c, stored_events, **kwargs)


class CaseLedgerSQLiteFactory(SQLiteFactory):
    """eventsourcing's SQLite factory with :class:`ManyRecorder`."""

    application_recorder_class = ManyRecorder
