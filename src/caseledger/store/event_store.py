"""Case streams in a database, through eventsourcing's recorders (SQLite or PostgreSQL).

:class:`CaseStore` is an eventsourcing ``Application`` with caseledger's mapper and
transcoder. It loads and saves :class:`Case` aggregates, turns the store's own errors into
caseledger's, and reads raw stored events and the notification log for auditors.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, NamedTuple

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
from caseledger.domain.pack_stream import PackVersion
from caseledger.domain.project import Project
from caseledger.domain.records import PROJECT_PREFIX, RecordedEvent, project_stream
from caseledger.domain.stream import EventStream
from caseledger.domain.streams import stream_kind
from caseledger.errors import ConcurrencyConflict, LedgerNotFound, StoreError
from caseledger.store.mapper import CaseEventMapper
from caseledger.store.transcoder import OrjsonTranscoder
from caseledger.store.url import LedgerLocation

__all__ = ["BatchWriter", "CaseStore", "LogRow", "Row", "SpanReader", "StreamRow", "open_store"]

_PAGE = 1000


Row = tuple[str, int, str, bytes]
"""One event to store: stream id, version, topic and the stored bytes."""

StreamRow = tuple[int, str, bytes]
"""One stored event of a known stream: version, topic and the stored bytes."""

LogRow = tuple[int, str, int, str, bytes]
"""One stored event read straight from the table: position in the log, stream number,
version, topic and the stored bytes (decode them with the mapper's ``decode_data``)."""


class CaseStore(Application[str]):
    """eventsourcing application holding every case's event stream."""

    name = "caseledger"
    _batch_cursors: dict[int, Any] = {}  # noqa: RUF012 (replaced, never changed in place)
    """The cursor of the batch open on each thread (:meth:`batch_writer`)."""

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

    def load(self, case_no: str) -> Case | None:
        """The case rebuilt from its events, or None if there is none."""
        case = self.load_stream(case_no)
        return case if isinstance(case, Case) else None

    def load_project(self, project_no: str) -> Project | None:
        """The project rebuilt from its events, or None if there is none."""
        project = self.load_stream(project_stream(project_no))
        return project if isinstance(project, Project) else None

    def load_stream(self, stream_id: str) -> EventStream | None:
        """The case, project or pack version (:func:`stream_kind`) rebuilt from its events,
        or None."""
        kind = stream_kind(stream_id)
        projector: Callable[[Any, Iterable[RecordedEvent]], EventStream | None] = kind.replay
        try:
            stream: EventStream = self.repository.get(stream_id, projector_func=projector)
        except AggregateNotFoundError:
            return None
        except PersistenceError as error:
            raise StoreError(f"reading {kind.noun} {stream_id!r} failed: {error}") from error
        return stream

    def refresh(self, stream: EventStream) -> EventStream:
        """``stream`` brought up to date: the events recorded after its version (by this
        process or any other) read and folded in; one query, however long the stream."""
        try:
            stored = self.recorder.select_events(stream.stream_id, gt=stream.version)
        except PersistenceError as error:
            raise StoreError(f"reading {stream.stream_id!r} failed: {error}") from error
        to_event = self.mapper.to_domain_event
        for row in stored:
            event = to_event(row)
            assert isinstance(event, RecordedEvent)
            stream.apply(event)
        return stream

    def load_streams(
        self, stream_ids: Iterable[str]
    ) -> dict[str, Case | Project | PackVersion | None]:
        """Each stream (case or project) rebuilt from its events, None for one with none:
        the events of up to :data:`_PAGE` streams read in one query, not one per stream."""

        def select(statement: str, params: tuple[Any, ...]) -> list[Any]:
            return _select(self, statement, params, "reading")

        return {s: stream for s, (stream, _) in self._read_streams(stream_ids, select).items()}

    def _read_streams(
        self,
        stream_ids: Iterable[str],
        select: Callable[[str, tuple[Any, ...]], list[Any]],
        mine: str = "1 = 0",
    ) -> dict[str, tuple[Case | Project | PackVersion | None, dict[str, int]]]:
        """:meth:`load_streams` through ``select``, each stream with the command ids (and
        versions) of its events for which the SQL expression ``mine`` is true."""
        wanted = list(dict.fromkeys(stream_ids))
        found: dict[str, tuple[Case | Project | PackVersion | None, dict[str, int]]] = {
            stream_id: (None, {}) for stream_id in wanted
        }
        t = _events_table(self)
        to_event = self.mapper.to_domain_event
        for start in range(0, len(wanted), _PAGE):
            chunk = tuple(wanted[start : start + _PAGE])
            statement = (
                f"SELECT originator_id, originator_version, topic, state, {mine} FROM {t.name} "
                f"WHERE originator_id IN ({', '.join([t.placeholder] * len(chunk))}) "
                "ORDER BY originator_id, originator_version"
            )
            by_stream: dict[str, list[RecordedEvent]] = {}
            ours: dict[str, dict[str, int]] = {}
            for stream_id, version, topic, state, own in select(statement, chunk):
                stored = StoredEvent(stream_id, version, topic, bytes(state))
                event = to_event(stored)
                assert isinstance(event, RecordedEvent)
                by_stream.setdefault(str(stream_id), []).append(event)
                if own:
                    ours.setdefault(str(stream_id), {})[event.command_id] = version
            for stream_id, events in by_stream.items():
                stream = stream_kind(stream_id).replay(None, events)
                found[stream_id] = (stream, ours.get(stream_id, {}))
        return found

    @contextmanager
    def batch_writer(self) -> Iterator[BatchWriter]:
        """A batch's one connection and transaction (:class:`BatchWriter`): rows written a
        chunk at a time as they come, streams read through it (seeing its own rows),
        committed when the block ends, rolled back if it raises; nothing is recorded
        until then. A row a concurrent writer recorded first makes it raise
        :class:`ConcurrencyConflict`, a failing store :class:`StoreError`."""
        opener = getattr(self.recorder, "batch_transaction", None)
        if opener is None:
            raise StoreError(f"{type(self.recorder).__name__} cannot write a batch")
        writer: BatchWriter | None = None
        thread = threading.get_ident()
        try:
            with opener() as transaction:
                writer = BatchWriter(self, transaction)
                # the store's own reads on this thread meanwhile (the pack versions held...)
                # go through the batch's transaction: they see its rows, and wait for no
                # other connection (in memory, none may be used while the batch's is open)
                self._batch_cursors = {**self._batch_cursors, thread: transaction.cursor}
                try:
                    yield writer
                finally:
                    self._batch_cursors = {
                        t: c for t, c in self._batch_cursors.items() if t != thread
                    }
        except RecordConflictError as error:
            failed = writer.failed if writer is not None else ()
            raise self._conflict_of(failed) from error
        except PersistenceError as error:
            raise StoreError(f"recording a batch failed, nothing was recorded: {error}") from error

    def _conflict_of(self, rows: Sequence[Row]) -> ConcurrencyConflict:
        """The conflict that made writing ``rows`` fail (after its transaction rolled
        back): a stream whose recorded version has reached the first of its rows."""
        first: dict[str, int] = {}
        for stream_id, version, _, _ in rows:
            first[stream_id] = min(version, first.get(stream_id, version))
        if not first:
            return ConcurrencyConflict("(batch)", 0, None)
        t = _events_table(self)
        recorded: dict[str, int] = {}
        wanted = tuple(first)
        for start in range(0, len(wanted), _PAGE):
            chunk = wanted[start : start + _PAGE]
            statement = (
                f"SELECT originator_id, max(originator_version) FROM {t.name} "
                f"WHERE originator_id IN ({', '.join([t.placeholder] * len(chunk))}) "
                "GROUP BY originator_id"
            )
            recorded.update(_select(self, statement, chunk, "reading the versions"))
        for stream_id, version in first.items():
            current = recorded.get(stream_id, 0)
            if current >= version:
                return ConcurrencyConflict(stream_id, version - 1, current)
        stream_id, version = next(iter(first.items()))
        return ConcurrencyConflict(stream_id, version - 1, recorded.get(stream_id, 0))

    def plain_cursor(self, what: str, *, commit: bool = False) -> AbstractContextManager[Any]:
        """A cursor over this store's database that gives plain tuples, in a transaction of
        its own (committed if ``commit``): for the tables kept beside the events (the
        Merkle tree's); a failure is a :class:`StoreError` saying ``what``."""
        return _plain_cursor(self, what, commit=commit)

    def stream_rows(self, stream_id: str) -> list[StreamRow]:
        """The stream's events as stored, in order: version, topic and bytes (decode them
        with :attr:`decoder`)."""
        try:
            stored = self.recorder.select_events(stream_id)
        except PersistenceError as error:
            raise StoreError(f"reading {stream_id!r} failed: {error}") from error
        return [(s.originator_version, s.topic, s.state) for s in stored]

    @property
    def decoder(self) -> Callable[[Any, int, bytes], dict[str, Any]]:
        """The mapper's :meth:`~CaseEventMapper.data_decoder`: stored bytes to a state."""
        return self.case_mapper.data_decoder()

    def save_cases(self, cases: Sequence[EventStream]) -> int:
        """Record the pending events of ``cases`` (and projects) in one transaction: all or
        nothing.

        Returns the number of events recorded. A concurrent writer that recorded on one of
        the cases first makes this raise :class:`ConcurrencyConflict`, recording nothing.
        """
        stored = {case.stream_id: case.collect_stored() for case in cases}
        pending = {stream: [event for event, _ in batch] for stream, batch in stored.items()}
        events = [event for batch in pending.values() for event in batch]
        if not events:
            return 0
        mapper = self.case_mapper
        try:
            if mapper.plain:  # the states made when recorded, encoded as they are
                encode = mapper.transcoder.encode
                rows = [
                    StoredEvent(e.case_no, e.version, e.type, encode(state))
                    for batch in stored.values()
                    for e, state in batch
                ]
                self.recorder.insert_events(rows)
            else:
                self.events.put(events)
        except RecordConflictError as error:
            raise self._conflict(pending) from error
        except PersistenceError as error:
            raise StoreError(f"recording {_events(len(events))} failed: {error}") from error
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

    def stream_numbers(self, upto: int) -> list[str]:
        """The number of every stream (cases and projects) begun at or before notification
        ``upto``, in the database's order of stream numbers: the order in which
        :class:`SpanReader` reads them."""
        t = _events_table(self)
        statement = (
            f"SELECT originator_id FROM {t.name} WHERE originator_version = 1 "
            f"AND {t.position} <= {t.placeholder} ORDER BY originator_id"
        )
        rows = _select(self, statement, (upto,), "reading the stream numbers")
        return [str(row[0]) for row in rows]

    def event_count(self, upto: int) -> int:
        """How many events are stored at or before notification ``upto``."""
        t = _events_table(self)
        statement = f"SELECT COUNT(*) FROM {t.name} WHERE {t.position} <= {t.placeholder}"
        return int(_select(self, statement, (upto,), "counting the events")[0][0])

    def span_reader(self) -> SpanReader:
        """A reader of the stored events of spans of streams, usable in forked processes."""
        return SpanReader(self)


class SpanReader:
    """Reads the stored events of a span of streams as plain tuples (:data:`LogRow`), the
    fast path for reading the whole log (rebuilding read models): straight from the table,
    without eventsourcing's ``Notification`` objects.

    ``reader(first, last, upto)`` gives the events of the streams numbered ``first`` to
    ``last`` (in the order of :meth:`CaseStore.stream_numbers`) recorded at or before
    notification ``upto``, stream after stream, each in version order. The process that made
    the reader reads through the store's connections; a process forked from it opens its own
    on first use (a database connection must not cross a fork) and closes it with
    :meth:`close`. ``forkable`` is True for an SQLite file in WAL mode only: no other process
    can open SQLite in memory (which cannot be read while it is written either), in other
    journal modes a writer locks readers out, and PostgreSQL's connection pool runs threads,
    whose locks a fork would copy. When it is False, only this process reads, and it should
    read what it needs before it writes."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store
        self._owner = os.getpid()
        self._own: Any = None
        self._sqlite = isinstance(store.factory, SQLiteFactory)
        t = _events_table(store)
        q = t.placeholder
        self._statement = (
            f"SELECT {t.position}, originator_id, originator_version, topic, state FROM {t.name} "
            f"WHERE originator_id >= {q} AND originator_id <= {q} AND {t.position} <= {q} "
            "ORDER BY originator_id, originator_version"
        )
        if self._sqlite:
            pool = store.recorder.datastore.pool  # type: ignore[attr-defined]
            self._db_name: str = pool.db_name
            self._timeout = float(pool.lock_timeout or 5)
            # in memory, no other process can open the database; in a journal mode other
            # than WAL, a writer locks the readers out (and the rebuild reads as it writes)
            mode = _select(store, "PRAGMA journal_mode", (), "reading the journal mode")
            self.forkable = not pool.is_sqlite_memory_mode and str(mode[0][0]).lower() == "wal"
        else:  # psycopg's pool runs threads, whose locks a fork would copy
            self.forkable = False

    def __call__(self, first: str, last: str, upto: int) -> list[LogRow]:
        if os.getpid() == self._owner:
            with _plain_cursor(self._store, "reading the event log") as cursor:
                return self._read(cursor, first, last, upto)
        import sqlite3  # forked processes read SQLite files only (see ``forkable``)

        try:
            if self._own is None:
                self._own = sqlite3.connect(
                    self._db_name, uri=True, isolation_level=None, timeout=self._timeout
                )
            return self._read(self._own.cursor(), first, last, upto)
        except sqlite3.Error as error:
            raise StoreError(f"reading the event log failed: {error}") from error

    def _read(self, cursor: Any, first: str, last: str, upto: int) -> list[LogRow]:
        cursor.execute(self._statement, (first, last, upto))
        rows: list[LogRow] = cursor.fetchall()
        if self._sqlite:
            return rows
        return [(n, c, v, t, bytes(d)) for n, c, v, t, d in rows]  # bytea is a memoryview

    def close(self) -> None:
        """Close the connection this (forked) process opened, if any."""
        own, self._own = self._own, None
        if own is not None:
            own.close()


class BatchWriter:
    """A batch's open transaction (:meth:`CaseStore.batch_writer`): :meth:`write` records a
    chunk of rows (as :meth:`EventStream.collect_rows` hands them over) at once, in the
    transaction; :meth:`load_streams` reads streams in it, this batch's rows included."""

    def __init__(self, store: CaseStore, transaction: Any) -> None:
        self._store = store
        self._transaction = transaction
        self.written = 0
        """Rows written so far (recorded once the transaction commits)."""
        self.failed: Sequence[Row] = ()
        """The chunk whose writing failed, if one did."""
        mapper = store.case_mapper
        self._compressor, self._cipher = mapper.compressor, mapper.cipher

    def write(self, rows: Sequence[Row]) -> None:
        """Write ``rows`` (one ``executemany`` on SQLite, COPY on PostgreSQL)."""
        if not rows:
            return
        if self._compressor or self._cipher:  # a store that is not plain JSON
            rows = [(s, v, t, self._sealed(d)) for s, v, t, d in rows]
        self.failed = rows
        self._transaction.write(rows)
        self.failed = ()
        self.written += len(rows)

    def _sealed(self, data: bytes) -> bytes:
        if self._compressor:
            data = self._compressor.compress(data)
        if self._cipher:
            data = self._cipher.encrypt(data)
        return data

    def load_streams(
        self, stream_ids: Iterable[str]
    ) -> dict[str, tuple[Case | Project | PackVersion | None, dict[str, int]]]:
        """Each stream rebuilt from its events as this transaction sees them (its own rows
        included), None for one with none, with the command ids of the events this batch
        wrote of it and their versions."""
        cursor = self._transaction.cursor

        def select(statement: str, params: tuple[Any, ...]) -> list[Any]:
            cursor.execute(statement, params)
            rows: list[Any] = cursor.fetchall()
            return rows

        return self._store._read_streams(stream_ids, select, mine=self._transaction.mine)


class _Table(NamedTuple):
    """The events table as its backend names it: table, log position column, placeholder."""

    name: str
    position: str
    placeholder: str


def _events_table(store: CaseStore) -> _Table:
    recorder: Any = store.recorder
    if isinstance(store.factory, SQLiteFactory):
        return _Table(recorder.events_table_name, "rowid", "?")
    schema = recorder.datastore.schema.replace('"', "")
    return _Table(f'"{schema}"."{recorder.events_table_name}"', "notification_id", "%s")


@contextmanager
def _plain_cursor(store: CaseStore, what: str, *, commit: bool = False) -> Iterator[Any]:
    """A cursor of the store's that gives plain tuples (eventsourcing's give mappings), in a
    transaction (a read one, unless ``commit``); a failure is a :class:`StoreError` saying
    ``what``."""
    batch = None if commit else store._batch_cursors.get(threading.get_ident())
    if batch is not None:  # a batch is open on this thread: read in its transaction
        yield batch
        return
    datastore: Any = store.recorder.datastore  # type: ignore[attr-defined]
    try:
        with datastore.transaction(commit=commit) as cursor:
            if isinstance(store.factory, SQLiteFactory):  # eventsourcing's wraps sqlite3's
                getattr(cursor, "sqlite_cursor", cursor).row_factory = None
            else:
                from psycopg.rows import tuple_row  # only needed for PostgreSQL

                cursor.row_factory = tuple_row
            yield cursor
    except PersistenceError as error:
        raise StoreError(f"{what} failed: {error}") from error


def _select(store: CaseStore, statement: str, params: tuple[Any, ...], what: str) -> list[Any]:
    """The rows of ``statement``, as plain tuples (see :func:`_plain_cursor`)."""
    with _plain_cursor(store, what) as cursor:
        cursor.execute(statement, params)
        rows: list[Any] = cursor.fetchall()
    return rows


def open_store(location: LedgerLocation, *, create: bool = True) -> CaseStore:
    """Open (creating tables if needed) the store at ``location``. A missing SQLite file is
    created readable by its owner only (its -wal and -shm then follow its mode), or with
    ``create`` false refused with :class:`LedgerNotFound`."""
    if location.backend == "sqlite":
        _sqlite_file(location, create=create)
    if location.backend == "postgresql" and location.schema:
        _create_schema(location)
    for attempt in range(5):
        try:
            return CaseStore(env=location.env)
        except (PersistenceError, OSError, StoreError) as error:
            # several processes opening one PostgreSQL schema at once can collide on
            # eventsourcing's CREATE OR REPLACE FUNCTION: that is worth another try
            if "concurrently" in str(error) and attempt < 4:
                time.sleep(0.05 * (attempt + 1))
                continue
            raise StoreError(f"cannot open ledger {location.redacted}: {error}") from error
    raise AssertionError("unreachable")


def _sqlite_file(location: LedgerLocation, *, create: bool) -> None:
    path = location.env["SQLITE_DBNAME"]
    if path == ":memory:" or path.startswith("file:") or os.path.exists(path):
        return
    if not create:
        raise LedgerNotFound(path)
    try:  # an empty file is an empty SQLite database: made here, it gets our mode
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    except OSError as error:
        raise StoreError(f"cannot create ledger {path!r}: {error.strerror}") from error
    os.chmod(path, 0o600)  # whatever the umask


def _create_schema(location: LedgerLocation) -> None:
    import json

    import psycopg  # only needed for PostgreSQL

    env = location.env
    options: dict[str, Any] = {
        "dbname": env["POSTGRES_DBNAME"],
        "host": env["POSTGRES_HOST"],
        "port": int(env["POSTGRES_PORT"]),
        "user": env["POSTGRES_USER"],
        "password": env["POSTGRES_PASSWORD"] or None,
        **json.loads(env["CASELEDGER_CONNINFO"]),  # the URL's options, timeouts included
    }
    try:
        with psycopg.connect(**options, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{location.schema}"')
    except psycopg.Error as error:
        raise StoreError(f"cannot open ledger {location.redacted}: {error}") from error


def _events(number: int) -> str:
    """ "1 event", "2 events"."""
    return f"{number} event{'' if number == 1 else 's'}"
