"""Case streams in a database, through eventsourcing's recorders (SQLite or PostgreSQL).

:class:`CaseStore` is an eventsourcing ``Application`` with caseledger's mapper and
transcoder. It loads and saves :class:`Case` aggregates, turns the store's own errors into
caseledger's, and reads raw stored events and the log.

Every reader that follows the log (the board's catch-up and rebuild, the Merkle tree,
verification, checkpoints) reads it through :meth:`CaseStore.read_log`, in *recording
order*, from a position that is the notification id of the last event it read:

- on SQLite, rowid order: one writer at a time, so rowid order is commit order;
- on PostgreSQL, where writers take no table lock, the order of (id of the transaction that
  wrote the row, notification id), holding only the rows of transactions below the horizon
  of the reading statement's snapshot (:func:`_horizon`: the oldest transaction it sees
  running that writes events). No transaction below it can still write an event, so no row
  can later appear in the part of the order already read: a reader that goes on from where
  it stopped never skips an event nor reads one twice. It lags behind the oldest
  transaction still writing (see docs/bulk-import.md §3).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
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

__all__ = [
    "INDEXED_TOPICS",
    "BatchWriter",
    "CaseStore",
    "LogRow",
    "Row",
    "SpanReader",
    "StreamRow",
    "open_store",
]

_PAGE = 1000

INDEXED_TOPICS = ("pack_recorded",)
"""Topics read on their own (:meth:`CaseStore.topic_rows`), each with a partial index: a
pack version's event is one in millions of a province's log."""


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

    @property
    def reads_are_round_trips(self) -> bool:
        """Whether a read costs a round trip to a server (PostgreSQL), rather than a look
        into a file this process reads itself (SQLite, where a read waits for no writer)."""
        return not isinstance(self.factory, SQLiteFactory)

    @staticmethod
    def timed_out(error: StoreError) -> bool:
        """Whether ``error`` is the server giving up waiting for a lock or a statement
        (``lock_timeout``, ``statement_timeout``: SQLSTATE 55P03, 57014) while it is up,
        rather than a server that failed."""
        cause: BaseException | None = error
        while cause is not None:
            if getattr(cause, "sqlstate", None) in _TIMED_OUT:
                return True
            cause = cause.__cause__
        return False

    def current_version(self, case_no: str) -> int:
        """The version of the case's last stored event (0 for none)."""
        rows = self.recorder.select_events(case_no, desc=True, limit=1)
        return rows[0].originator_version if rows else 0

    def topic_rows(self, topic: str) -> list[LogRow]:
        """Every stored event of ``topic``, in log order, as :data:`LogRow`: read through
        the partial index :func:`open_store` keeps for the few topics read this way
        (:data:`INDEXED_TOPICS`), not by a scan of the whole log."""
        if topic not in INDEXED_TOPICS:
            raise ValueError(f"{topic!r} is not one of the indexed topics {INDEXED_TOPICS}")
        t = _events_table(self)
        statement = (  # the topic written out: a partial index answers a constant, not a $1
            f"SELECT {t.position}, originator_id, originator_version, topic, state FROM {t.name} "
            f"WHERE topic = '{topic}' ORDER BY {t.position}"
        )
        rows = _select(self, statement, (), f"reading the {topic!r} events")
        return [(n, str(c), v, tp, bytes(d)) for n, c, v, tp, d in rows]

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

    def read_log(self, after: int = 0, limit: int = _PAGE, cursor: Any = None) -> list[LogRow]:
        """At most ``limit`` events recorded after log position ``after`` (0: from the
        start), in recording order (see the module's documentation); the position of each
        is its row's first value, and the last one's is where to go on from. Read with
        ``cursor`` (one of :meth:`plain_cursor`'s) when given, in the caller's transaction."""
        return self.read_log_page(after, limit, cursor)[0]

    def read_log_page(
        self, after: int = 0, limit: int = _PAGE, cursor: Any = None
    ) -> tuple[list[LogRow], bool]:
        """:meth:`read_log`'s rows, and whether fewer than ``limit`` of them means the end of
        the log as settled for the read: not when, on PostgreSQL, a transaction that ended
        meanwhile held every try short (:meth:`_settled_rows`), then read on."""
        t = _events_table(self)
        statement, params = t.log_after(after, limit)
        if t.sqlite:
            return _select(self, statement, params, "reading the event log", cursor), True
        rows, whole = self._settled_rows(statement, params, cursor)
        if not rows and after:
            self._check_position(after, cursor)
        return [(n, c, v, tp, bytes(d)) for n, c, v, tp, d in rows], whole  # bytea: a view

    def _settled_rows(
        self, statement: str, params: tuple[Any, ...], cursor: Any
    ) -> tuple[list[Any], bool]:
        """The rows of a statement reading settled rows (PostgreSQL, :func:`_horizon`),
        read again, up to :data:`_LOWERED_TRIES` times in all, while a transaction that
        ended after the statement's snapshot was taken held its horizon down (its last row
        is then a row of NULLs): the rows read are right, but may stop short of rows that
        every earlier read returned, which a reader that reads the whole log once (verify,
        checkpoints, seals) would take for rows removed. A later statement's snapshot no
        longer has that transaction running. With the rows, whether the last read was not
        held down so (False after every try was)."""
        for _ in range(_LOWERED_TRIES):
            rows = _select(self, statement, params, "reading the event log", cursor)
            if not rows or rows[-1][0] is not None:
                return rows, True
        return rows[:-1], False

    def _check_position(self, position: int, cursor: Any = None) -> None:
        """On PostgreSQL a log position stands for its event's place in recording order,
        found by its row: one that is not (a position of another ledger, or of rows deleted
        since) must not read as "nothing after it" nor as "everything"."""
        t = _events_table(self)
        statement = f"SELECT 1 FROM {t.name} WHERE notification_id = %s"
        if not _select(self, statement, (position,), "reading the event log", cursor):
            raise StoreError(
                f"log position {position} is no event of this ledger (no row has that "
                "notification id): a position comes from this ledger's own log (read_log, "
                "log_head, a board's or tree's tracking); was the ledger restored without "
                "its last events, or the position taken from another one?"
            )

    def notifications(
        self, after: int = 0, page: int = _PAGE, *, settled: bool = True
    ) -> Iterator[Notification]:
        """Every event recorded after log position ``after``, in recording order
        (:meth:`read_log`), page by page. Not ``settled``: every event committed, in
        notification id order, including those a follower cannot read yet (for lists, not
        for followers: a transaction still running may commit one before them later)."""
        if not settled:
            yield from self._committed(after, page)
            return
        position = after
        while True:
            rows = self.read_log(position, page)
            for n, stream, version, topic, state in rows:
                yield Notification(
                    id=n, originator_id=stream, originator_version=version, topic=topic,
                    state=state,
                )  # fmt: skip
            if len(rows) < page:
                return
            position = rows[-1][0]

    def _committed(self, after: int, page: int) -> Iterator[Notification]:
        position = after
        while True:
            rows = self.recorder.select_notifications(
                start=position, limit=page, inclusive_of_start=False
            )
            yield from rows
            if len(rows) < page:
                return
            position = rows[-1].id

    def log_head(self) -> int:
        """The log position of the last event in recording order that a reader can read
        now (:meth:`read_log`; 0 for none): a boundary that no event recorded later falls
        below, for :meth:`stream_numbers`, :meth:`event_count` and :class:`SpanReader`."""
        t = _events_table(self)
        if t.sqlite:
            rows = _select(self, t.head, (), "reading the event log")
        else:
            rows, _ = self._settled_rows(t.head, (), None)
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def max_notification_id(self) -> int:
        return self.recorder.max_notification_id() or 0

    def stream_numbers(self, upto: int) -> list[str]:
        """The number of every stream (cases and projects) begun at or before log position
        ``upto`` (:meth:`log_head`), in the database's order of stream numbers: the order
        in which :class:`SpanReader` reads them."""
        t = _events_table(self)
        statement = (
            f"SELECT originator_id FROM {t.name} WHERE originator_version = 1 "
            f"AND {t.upto} ORDER BY originator_id"
        )
        rows = _select(self, statement, (upto,), "reading the stream numbers")
        if not rows and upto and not t.sqlite:
            self._check_position(upto)
        return [str(row[0]) for row in rows]

    def event_count(self, upto: int) -> int:
        """How many events are stored at or before log position ``upto`` (:meth:`log_head`)."""
        t = _events_table(self)
        statement = f"SELECT COUNT(*) FROM {t.name} WHERE {t.upto}"
        count = int(_select(self, statement, (upto,), "counting the events")[0][0])
        if not count and upto and not t.sqlite:
            self._check_position(upto)
        return count

    def span_reader(self) -> SpanReader:
        """A reader of the stored events of spans of streams, usable in forked processes."""
        return SpanReader(self)


class SpanReader:
    """Reads the stored events of a span of streams as plain tuples (:data:`LogRow`), the
    fast path for reading the whole log (rebuilding read models): straight from the table,
    without eventsourcing's ``Notification`` objects.

    ``reader(first, last, upto)`` gives the events of the streams numbered ``first`` to
    ``last`` (in the order of :meth:`CaseStore.stream_numbers`) recorded at or before
    log position ``upto``, stream after stream, each in version order. ``forkable`` says
    whether processes forked from the one that made the reader may read too, each through a
    connection of its own, opened on first use (a database connection must not cross a
    fork) and closed with :meth:`close`; fork them inside :meth:`forking`.

    - **SQLite**: this process reads through the store's connections; forkable for a file in
      WAL mode only (no other process can open SQLite in memory, which cannot be read while
      it is written either; in other journal modes a writer locks readers out).
    - **PostgreSQL**: always forkable. Every process, this one included, reads through a
      plain psycopg connection of its own, made as the store's pool makes its connections
      (the URL's options: TLS, timeouts, ``application_name``...), in one ``REPEATABLE READ
      READ ONLY`` transaction: this process exports its snapshot (``pg_export_snapshot``)
      and the forked ones import it (``SET TRANSACTION SNAPSHOT``), so every process reads
      the very same committed state, whatever is recorded meanwhile (``upto`` then bounds
      it as on SQLite). The exporting transaction stays open until this process's
      :meth:`close`. psycopg's pool runs threads, whose locks a fork would copy:
      :meth:`forking` closes the pool (its threads end, its connections close) and, once
      the workers are forked, puts a new pool of the same settings in its place, which
      connects again on first use.

    When ``forkable`` is False, only this process reads, and it should read what it needs
    before it writes."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store
        self._owner = os.getpid()
        self._own: dict[int, Any] = {}  # by process: its connection (one per process)
        self._snapshot: str | None = None  # exported by this process (PostgreSQL)
        self._sqlite = isinstance(store.factory, SQLiteFactory)
        t = _events_table(store)
        q = t.placeholder
        self._statement = (
            f"SELECT {t.position}, originator_id, originator_version, topic, state FROM {t.name} "
            f"WHERE originator_id >= {q} AND originator_id <= {q} AND {t.upto} "
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
        else:  # every process reads through its own connection, in one snapshot
            self.forkable = True

    def __call__(self, first: str, last: str, upto: int) -> list[LogRow]:
        if self._sqlite:
            return self._read_sqlite(first, last, upto)
        import psycopg  # only needed for PostgreSQL

        try:
            return self._read(self._connection().cursor(), first, last, upto)
        except psycopg.Error as error:
            raise StoreError(f"reading the event log failed: {error}") from error

    def _read_sqlite(self, first: str, last: str, upto: int) -> list[LogRow]:
        if os.getpid() == self._owner:
            with _plain_cursor(self._store, "reading the event log") as cursor:
                return self._read(cursor, first, last, upto)
        import sqlite3  # forked processes read SQLite files only (see ``forkable``)

        try:
            own = self._own.get(os.getpid())
            if own is None:
                own = self._own[os.getpid()] = sqlite3.connect(
                    self._db_name, uri=True, isolation_level=None, timeout=self._timeout
                )
            return self._read(own.cursor(), first, last, upto)
        except sqlite3.Error as error:
            raise StoreError(f"reading the event log failed: {error}") from error

    def _connection(self) -> Any:
        """This process's PostgreSQL connection, in the reader's snapshot (made on first
        use: exported in the process that made the reader, imported in the forked ones)."""
        own = self._own.get(os.getpid())
        if own is not None:
            return own
        from psycopg import sql
        from psycopg.rows import tuple_row

        pool: Any = self._store.recorder.datastore.pool  # type: ignore[attr-defined]
        kwargs = {**pool.kwargs, "row_factory": tuple_row, "autocommit": True}
        password = getattr(pool, "get_password_func", None)
        if password is not None:
            kwargs["password"] = password()
        own = pool.connection_class.connect(pool.conninfo, **kwargs)
        self._own[os.getpid()] = own
        own.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        if os.getpid() == self._owner:
            self._snapshot = own.execute("SELECT pg_export_snapshot()").fetchone()[0]
        elif self._snapshot is not None:
            own.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(self._snapshot)))
        return own

    @contextmanager
    def forking(self) -> Iterator[None]:
        """Around the forks of the processes that read with this reader: on PostgreSQL, the
        snapshot is exported first, and the store's pool (whose threads a fork would copy)
        is closed, then replaced by a new one of the same settings (see the class's
        docstring). Only the calling process's threads are stopped: with other threads
        alive, :mod:`caseledger.readmodels.parallel` does not fork at all, and the pool is
        left open: they may be using it (a web server's, a follower's LISTEN loop)."""
        if self._sqlite:
            yield
            return
        if os.getpid() == self._owner:
            self._connection()  # the snapshot the forked processes import
        datastore: Any = self._store.recorder.datastore  # type: ignore[attr-defined]
        pool = datastore.pool
        if _threads_besides(pool):
            yield
            return
        pool.close()
        try:
            yield
        finally:
            datastore.pool = _reopened(pool)

    def _read(self, cursor: Any, first: str, last: str, upto: int) -> list[LogRow]:
        cursor.execute(self._statement, (first, last, upto))
        rows: list[LogRow] = cursor.fetchall()
        if self._sqlite:
            return rows
        return [(n, c, v, t, bytes(d)) for n, c, v, t, d in rows]  # bytea is a memoryview

    def close(self) -> None:
        """Close the connection this process opened, if any (on PostgreSQL, in the process
        that made the reader, this ends the snapshot: call it once every process read)."""
        own = self._own.pop(os.getpid(), None)
        if own is not None:
            with suppress(Exception):  # a connection already broken has nothing to close
                own.close()
        if os.getpid() == self._owner:
            self._snapshot = None

    def __enter__(self) -> SpanReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _threads_besides(pool: Any) -> bool:
    """Whether a thread other than the calling one and ``pool``'s own is alive (psycopg's
    pool names its scheduler and workers as attributes; a pool without them has every
    thread counted)."""
    own = {id(t) for t in [*getattr(pool, "_workers", ()), getattr(pool, "_sched_runner", None)]}
    current = threading.current_thread()
    return any(t is not current and id(t) not in own for t in threading.enumerate())


_POOL_SETTINGS = (
    "connection_class", "kwargs", "min_size", "max_size", "name", "close_returns", "timeout",
    "max_waiting", "max_lifetime", "max_idle", "reconnect_timeout", "num_workers",
)  # fmt: skip
"""The settings of a psycopg pool, as its attributes name them."""
_POOL_CALLBACKS = ("configure", "check", "reset", "reconnect_failed")
"""The functions a psycopg pool is given, kept as ``_NAME``."""


def _reopened(pool: Any) -> Any:
    """A new, not yet opened, psycopg pool with the settings of ``pool`` (closed): psycopg's
    pools cannot be reopened."""
    settings = {name: getattr(pool, name) for name in _POOL_SETTINGS}
    settings.update({name: getattr(pool, f"_{name}") for name in _POOL_CALLBACKS})
    password = getattr(pool, "get_password_func", None)  # eventsourcing's pool has it
    if password is not None:
        settings["get_password_func"] = password
    return type(pool)(pool.conninfo, open=False, **settings)


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
        store, cursor = self._store, self._transaction.cursor

        def select(statement: str, params: tuple[Any, ...]) -> list[Any]:
            return _select(store, statement, params, "reading the batch's streams", cursor)

        return store._read_streams(stream_ids, select, mine=self._transaction.mine)


class _Table(NamedTuple):
    """The events table as its backend names it, and how the log is read in recording order
    (see the module's documentation): ``upto`` is the condition "at or before the position
    given" (one placeholder), ``head`` the statement of the last position readable now."""

    name: str
    position: str
    placeholder: str
    sqlite: bool
    upto: str
    head: str

    def log_after(self, after: int, limit: int) -> tuple[str, tuple[int, ...]]:
        """The statement (and its parameters) of at most ``limit`` events after position
        ``after``, in recording order."""
        columns = f"{self.position}, originator_id, originator_version, topic, state"
        if self.sqlite:
            return (
                f"SELECT {columns} FROM {self.name} WHERE rowid > ? ORDER BY rowid LIMIT {limit}",
                (after,),
            )
        # the position's transaction id, looked up by its notification id (0 before any);
        # a position with no row compares as NULL: no rows, which read_log then explains
        mark = (
            "'0'"
            if after == 0
            else f"(SELECT transaction_id FROM {self.name} WHERE notification_id = %s)"
        )
        return (
            f"{_horizon(self.name)} (SELECT {columns} FROM {self.name} "
            f"WHERE (transaction_id, notification_id) > ({mark}, %s) AND {_SETTLED} "
            f"ORDER BY transaction_id, notification_id LIMIT {limit}) {_lowered(5)}",
            (after,) if after == 0 else (after, after),
        )


def _horizon(table: str) -> str:
    """The CTEs before a statement that reads the settled rows of ``table`` (the condition
    :data:`_SETTLED`): those written by a transaction that can no longer add a row before
    the rows read, below the *horizon* ``horizon.h`` of the statement's snapshot: the
    smallest id among the transactions the snapshot sees as running that write ``table``
    (or may have, see below), else the snapshot's ``xmax`` (every id from it on is not yet
    visible).

    The snapshot's ``xmin`` would do, but it is the whole server's: any transaction of any
    database with an id would hold the log back. So a running transaction ``x`` is left
    out only when all three hold, in this order:

    1. the lock table, read once after the snapshot was taken (one ``pg_locks`` read,
       kept in a materialised CTE), shows ``x``'s own lock on its id held by a backend
       (not a prepared transaction, whose locks have no backend);
    2. that same read shows no ``RowExclusiveLock`` of that backend on ``table``, granted
       or awaited: it had not written a row there, since that lock is taken before the
       first row (and before the transaction's id, for a transaction that writes the log
       first, as every writer of caseledger does) and held to its end;
    3. ``pg_xact_status(x)``, asked after that read, is still "in progress". Without this
       a writer could be seen running, then commit and release its locks before they were
       read, and be left out while its rows are invisible to the snapshot: the horizon
       would pass them (a follower would skip them for good). Since a transaction never
       runs again once ended, "still running afterwards" means the locks read were its
       own, taken while it ran.

    One that ended meanwhile is kept (its rows, if it wrote any, are invisible to the
    snapshot), and the CTE ``horizon`` says so (``lowered``) when it is the lowest one kept:
    the statement then ends with a row of NULLs, and is read again
    (:meth:`CaseStore._settled_rows`), with a later snapshot, which no longer counts it.

    A statement in a transaction that wrote rows of its own (a batch's reads) holds the
    horizon at its own id: its rows are not settled until it commits. A ``NULL`` from
    ``pg_xact_status`` (an id too old to look up; not one of a running transaction) keeps
    the transaction. A transaction that wrote elsewhere first and then events, or wrote
    events in a savepoint it rolled back and then wrote them again, would be a writer this
    does not see: the events table's trigger refuses both
    (:data:`caseledger.store.postgres.EVENTS_FIRST`). On a hot standby, the horizon is the
    snapshot's ``xmin``."""
    # a hot standby's snapshot holds the primary's running ids as subtransactions, and its
    # lock table none of their row locks: there only the snapshot's xmin is safe
    snapshot = "pg_current_snapshot()"
    xmax = f"pg_snapshot_xmax({snapshot})"
    own = f"COALESCE(pg_current_xact_id_if_assigned(), {xmax})"  # xmax: no id of its own
    return (
        "WITH held AS MATERIALIZED "
        "(SELECT pid, locktype, transactionid, relation, mode, granted FROM pg_locks), "
        # the ids whose backend holds no RowExclusiveLock on the table: found once, hashed
        # (one pass over the lock table, however many transactions run)
        "quiet AS MATERIALIZED (SELECT own.transactionid FROM held AS own "
        "WHERE own.locktype = 'transactionid' AND own.mode = 'ExclusiveLock' AND own.granted "
        "AND own.pid IS NOT NULL AND own.pid NOT IN (SELECT w.pid FROM held AS w "
        f"WHERE w.relation = '{table}'::regclass AND w.mode = 'RowExclusiveLock' "
        "AND w.pid IS NOT NULL)), "
        "kept AS MATERIALIZED (SELECT x, "
        "COALESCE(pg_xact_status(x) = 'in progress', true) AS running "
        f"FROM pg_snapshot_xip({snapshot}) AS x WHERE NOT pg_is_in_recovery() "
        "AND NOT COALESCE(CASE WHEN x::xid IN (SELECT transactionid FROM quiet) "
        "THEN pg_xact_status(x) = 'in progress' ELSE false END, false)), "
        # capped below this transaction's own id, if it has one (a read in a batch's
        # transaction): its own rows are not settled, they may yet be rolled back
        "horizon AS MATERIALIZED (SELECT CASE WHEN pg_is_in_recovery() "
        f"THEN pg_snapshot_xmin({snapshot}) ELSE LEAST(COALESCE(MIN(x), {xmax}), {own}) "
        "END AS h, COALESCE(MIN(x) FILTER (WHERE NOT running) < LEAST(COALESCE(MIN(x) "
        f"FILTER (WHERE running), {xmax}), {own}), false) AS lowered FROM kept)"
    )


_SETTLED = "transaction_id < (SELECT h FROM horizon)"
"""The condition "settled" of a statement after :func:`_horizon`'s CTEs."""


def _lowered(columns: int) -> str:
    """The last part of a statement after :func:`_horizon`'s CTEs: a row of ``columns``
    NULLs when a transaction that ended meanwhile held the horizon down."""
    nulls = ", ".join(["NULL"] * columns)
    return f"UNION ALL SELECT {nulls} FROM horizon WHERE lowered"


_LOWERED_TRIES = 10
"""How many times in all a statement whose horizon an ended transaction held down is read."""


_TIMED_OUT = frozenset({"55P03", "57014"})
"""SQLSTATEs of a server that gave up waiting: lock_not_available, query_canceled."""


def _events_table(store: CaseStore) -> _Table:
    recorder: Any = store.recorder
    if isinstance(store.factory, SQLiteFactory):
        name = recorder.events_table_name
        return _Table(name, "rowid", "?", True, "rowid <= ?", f"SELECT MAX(rowid) FROM {name}")
    schema = recorder.datastore.schema.replace('"', "")
    name = f'"{schema}"."{recorder.events_table_name}"'
    upto = (
        "(transaction_id, notification_id) <= "
        f"(SELECT transaction_id, notification_id FROM {name} WHERE notification_id = %s)"
    )
    head = (
        f"{_horizon(name)} (SELECT notification_id FROM {name} WHERE {_SETTLED} "
        f"ORDER BY transaction_id DESC, notification_id DESC LIMIT 1) {_lowered(1)}"
    )
    return _Table(name, "notification_id", "%s", False, upto, head)


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


def _select(
    store: CaseStore, statement: str, params: tuple[Any, ...], what: str, cursor: Any = None
) -> list[Any]:
    """The rows of ``statement``, as plain tuples (see :func:`_plain_cursor`), read with
    ``cursor`` (in the caller's transaction) when given."""
    if cursor is not None:
        cursor.execute(statement, params)
        given: list[Any] = cursor.fetchall()
        return given
    with _plain_cursor(store, what) as own:
        own.execute(statement, params)
        rows: list[Any] = own.fetchall()
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
            store = CaseStore(env=location.env)
            _index_topics(store)
            return store
        except (PersistenceError, OSError, StoreError) as error:
            # several processes opening one PostgreSQL schema at once can collide on
            # eventsourcing's CREATE OR REPLACE FUNCTION: that is worth another try
            if "concurrently" in str(error) and attempt < 4:
                time.sleep(0.05 * (attempt + 1))
                continue
            raise StoreError(f"cannot open ledger {location.redacted}: {error}") from error
    raise AssertionError("unreachable")


def _index_topics(store: CaseStore) -> None:
    """The partial index of each of :data:`INDEXED_TOPICS`, made if missing (on PostgreSQL
    looked up first: even ``CREATE INDEX IF NOT EXISTS`` waits for the table's writers). A
    ledger that cannot be written (a read-only file) goes without: its reads scan."""
    t = _events_table(store)
    sqlite = isinstance(store.factory, SQLiteFactory)
    for topic in INDEXED_TOPICS:
        name = f"{store.recorder.events_table_name}_{topic}_idx"  # type: ignore[attr-defined]
        column = "topic" if sqlite else t.position  # SQLite's indexes hold the rowid anyway
        create = (
            f"CREATE INDEX IF NOT EXISTS \"{name}\" ON {t.name} ({column}) WHERE topic = '{topic}'"
        )
        with (
            contextlib.suppress(StoreError),
            _plain_cursor(store, "indexing the log", commit=True) as cursor,
        ):
            if not sqlite:
                schema = t.name.split(".")[0]
                cursor.execute("SELECT to_regclass(%s)", (f'{schema}."{name}"',))
                if cursor.fetchone()[0] is not None:
                    continue
            cursor.execute(create)


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
        # another process may make it at the same moment ("IF NOT EXISTS" races)
        with (
            psycopg.connect(**options, autocommit=True) as conn,
            suppress(psycopg.errors.UniqueViolation),
        ):
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{location.schema}"')
    except psycopg.Error as error:
        raise StoreError(f"cannot open ledger {location.redacted}: {error}") from error


def _events(number: int) -> str:
    """ "1 event", "2 events"."""
    return f"{number} event{'' if number == 1 else 's'}"
