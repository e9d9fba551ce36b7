"""Case streams in a database, through eventsourcing's recorders (SQLite or PostgreSQL).

:class:`CaseStore` is an eventsourcing ``Application`` with caseledger's mapper and
transcoder. It loads and saves :class:`Case` aggregates, turns the store's own errors into
caseledger's, and reads raw stored events and the notification log for auditors.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    Mapper,
    Notification,
    PersistenceError,
    RecordConflictError,
    StoredEvent,
)
from eventsourcing.sqlite import SQLiteFactory
from eventsourcing.utils import Environment, EnvType

from caseledger.domain.case import Case
from caseledger.domain.project import Project
from caseledger.domain.records import PROJECT_PREFIX, RecordedEvent, project_stream
from caseledger.domain.stream import EventStream
from caseledger.errors import ConcurrencyConflict, StoreError
from caseledger.store.mapper import CaseEventMapper
from caseledger.store.transcoder import OrjsonTranscoder
from caseledger.store.url import LedgerLocation

__all__ = ["CaseStore", "LogRow", "open_store"]

_PAGE = 1000


LogRow = tuple[int, str, int, str, bytes]
"""One stored event read straight from the log: position, case number, version, topic and
the stored bytes (decode them with the mapper's ``decode_data``)."""


class CaseStore(Application[str]):
    """eventsourcing application holding every case's event stream."""

    name = "caseledger"

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the ledger URL configures the store: eventsourcing would also read the
        process environment (``SQLITE_DBNAME``, ``COMPRESSOR_TOPIC``...), which could send a
        ledger to another file or change the stored form behind the caller's back."""
        return Environment(name, dict(env or {}))

    def construct_mapper(self) -> Mapper[str]:
        return CaseEventMapper(
            transcoder=OrjsonTranscoder(),
            compressor=self.factory.compressor(),
            cipher=self.factory.cipher(),
        )

    @property
    def case_mapper(self) -> CaseEventMapper:
        assert isinstance(self.mapper, CaseEventMapper)
        return self.mapper

    def load(self, case_no: str, *, version: int | None = None) -> Case | None:
        """The case rebuilt from its events (up to ``version``), or None if there is none."""
        try:
            case: Case = self.repository.get(case_no, version=version, projector_func=Case.replay)
        except AggregateNotFoundError:
            return None
        except PersistenceError as error:
            raise StoreError(f"reading case {case_no!r} failed: {error}") from error
        return case

    def load_project(self, project_no: str) -> Project | None:
        """The project rebuilt from its events, or None if there is none."""
        stream = project_stream(project_no)
        try:
            project: Project = self.repository.get(stream, projector_func=Project.replay)
        except AggregateNotFoundError:
            return None
        except PersistenceError as error:
            raise StoreError(f"reading project {project_no!r} failed: {error}") from error
        return project

    def save_cases(self, cases: Sequence[EventStream]) -> int:
        """Record the pending events of ``cases`` (and projects) in one transaction: all or
        nothing.

        Returns the number of events recorded. A concurrent writer that recorded on one of
        the cases first makes this raise :class:`ConcurrencyConflict`, recording nothing.
        """
        pending = {case.stream_id: case.collect_events() for case in cases}
        events = [event for batch in pending.values() for event in batch]
        if not events:
            return 0
        try:
            self.events.put(events)
        except RecordConflictError as error:
            raise self._conflict(pending) from error
        except PersistenceError as error:
            raise StoreError(f"recording {len(events)} event(s) failed: {error}") from error
        return len(events)

    def _conflict(self, pending: dict[str, list[RecordedEvent]]) -> ConcurrencyConflict:
        for case_no, batch in pending.items():
            if not batch:
                continue
            expected = batch[0].version - 1
            current = self.current_version(case_no)
            if current != expected:
                return ConcurrencyConflict(case_no, expected, current)
        case_no = next(iter(pending))
        return ConcurrencyConflict(case_no, 0, None)

    def current_version(self, case_no: str) -> int:
        """The version of the case's last stored event (0 for none)."""
        rows = self.recorder.select_events(case_no, desc=True, limit=1)
        return rows[0].originator_version if rows else 0

    def project_numbers(self) -> list[str]:
        """Every project number, in the order the projects were registered."""
        numbers: list[str] = []
        position = 0
        while True:
            rows = self.recorder.select_notifications(
                start=position, limit=_PAGE, topics=["project_registered"],
                inclusive_of_start=False,
            )  # fmt: skip
            numbers += [str(n.originator_id)[len(PROJECT_PREFIX) :] for n in rows]
            if len(rows) < _PAGE:
                return numbers
            position = rows[-1].id

    def stored_events(self, case_no: str) -> list[StoredEvent]:
        """The case's rows exactly as stored."""
        return list(self.recorder.select_events(case_no))

    def notifications(self, start: int = 1, page: int = _PAGE) -> Iterator[Notification]:
        """Every stored event in the order it was recorded, page by page."""
        position: int | None = start
        while True:
            rows = self.recorder.select_notifications(start=position, limit=page)
            yield from rows
            if len(rows) < page:
                return
            position = rows[-1].id + 1

    def max_notification_id(self) -> int:
        return self.recorder.max_notification_id() or 0

    def log_rows(self, upto: int, page: int = 50_000) -> Iterator[LogRow]:
        """Every stored event up to notification ``upto``, in log order, as plain tuples
        (see :data:`LogRow`).

        The fast path for reading the whole log (rebuilding read models): rows come straight
        from the table, without building eventsourcing's ``Notification`` objects."""
        recorder: Any = self.recorder
        table = recorder.events_table_name
        sqlite = isinstance(self.factory, SQLiteFactory)
        if sqlite:
            statement = (
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
                "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?"
            )
        else:
            schema = recorder.datastore.schema.replace('"', "")
            statement = (
                "SELECT notification_id, originator_id, originator_version, topic, state "
                f'FROM "{schema}"."{table}" WHERE notification_id > %s '
                "AND notification_id <= %s ORDER BY notification_id LIMIT %s"
            )
        position = 0
        while position < upto:
            try:
                with recorder.datastore.transaction(commit=False) as cursor:
                    cursor.row_factory = None if sqlite else _tuple_row()  # plain tuples
                    cursor.execute(statement, (position, upto, page))
                    rows = cursor.fetchall()
            except PersistenceError as error:
                raise StoreError(f"reading the event log failed: {error}") from error
            if not rows:
                return
            if sqlite:
                yield from rows
            else:  # PostgreSQL gives bytea as memoryview
                yield from ((n, c, v, t, bytes(d)) for n, c, v, t, d in rows)
            position = rows[-1][0]


def _tuple_row() -> Any:
    from psycopg.rows import tuple_row  # only needed for PostgreSQL

    return tuple_row


def open_store(location: LedgerLocation) -> CaseStore:
    """Open (creating tables if needed) the store at ``location``."""
    if location.backend == "postgresql" and location.schema:
        _create_schema(location)
    for attempt in range(5):
        try:
            return CaseStore(env=location.env)
        except (PersistenceError, OSError) as error:
            # several processes opening one PostgreSQL schema at once can collide on
            # eventsourcing's CREATE OR REPLACE FUNCTION: that is worth another try
            if "concurrently" in str(error) and attempt < 4:
                time.sleep(0.05 * (attempt + 1))
                continue
            raise StoreError(f"cannot open ledger {location.redacted}: {error}") from error
    raise AssertionError("unreachable")


def _create_schema(location: LedgerLocation) -> None:
    import psycopg  # only needed for PostgreSQL

    env = location.env
    try:
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
            autocommit=True,
        ) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{location.schema}"')
    except psycopg.Error as error:
        raise StoreError(f"cannot open ledger {location.redacted}: {error}") from error
