"""eventsourcing's PostgreSQL infrastructure, bounded in time (needs the ``postgres`` extra).

A ledger URL ``postgresql://...`` names this module as eventsourcing's persistence module.
It keeps eventsourcing's tables, recorders and LISTEN/NOTIFY, and changes these things:

- **Every wait for the server is bounded.** Each connection is a :class:`BoundedConnection`,
  which waits at most ``answer_timeout`` seconds for any one answer of the server; the
  server itself ends a statement after ``statement_timeout`` and gives up waiting for a lock
  after ``lock_timeout`` (both set on every session). A server that stops answering makes
  the waiting connection close, so nothing hangs: the caller gets a
  :class:`~caseledger.errors.StoreError` saying so.
- **A server that fails fails at once.** eventsourcing retries a failed read ten times, each
  after waiting up to the pool's timeout (about 52 s when the server is gone); here a lost
  connection, a refused one or a pool that cannot connect is a ``StoreError`` on its first
  occurrence, and a pooled connection is checked before use (:func:`check_quietly`: a
  round trip only when its socket has something to say), so after a restart the next call
  connects afresh instead of failing on a dead connection.
- **Events are written with COPY in bounded chunks.** eventsourcing sends a batch as one
  pipelined INSERT of an array of every event; a large batch can fill both socket buffers
  and deadlock client and server (psycopg issue #685). Here the rows go through ``COPY ...
  FROM STDIN (FORMAT BINARY)``, at most :data:`CHUNK_ROWS` rows per statement, each statement
  under the statement timeout, in the one transaction of the batch (all or nothing). A few
  small rows (a single command's) go in one ``INSERT`` of arrays instead, which is its own
  transaction: one round trip.
- **Writers do not queue behind one lock.** eventsourcing's recorder locks the events table
  (``LOCK TABLE ... IN EXCLUSIVE MODE``) in every transaction that records, so that
  notification ids become visible in order. Here no writer takes it: every row carries the
  id of the transaction that wrote it (``transaction_id``, see :data:`TRANSACTION_COLUMN`),
  and readers of the log read it in commit-safe *recording order* instead
  (:meth:`caseledger.store.event_store.CaseStore.read_log`; the argument is in
  docs/bulk-import.md). What the argument rests on, that a transaction recording events
  writes them before anything else, is kept by the database itself: a statement trigger
  on the events table (:data:`EVENTS_FIRST`) refuses an insert by a transaction that
  already has an id from elsewhere.
- **Connection options pass through**: the URL's ``sslmode``, ``sslrootcert``... reach
  libpq's conninfo (see :mod:`caseledger.store.url`).
"""

from __future__ import annotations

import json
import logging
import select
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from time import monotonic, sleep
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import ConnectionPool as EventsourcingPool
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from eventsourcing.utils import Environment, EnvType
from psycopg.errors import _WaitTimeout
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier
from psycopg_pool import ConnectionPool, PoolTimeout
from psycopg_pool.base import AttemptWithBackoff

from caseledger.errors import StoreError

__all__ = [
    "CHUNK_ROWS",
    "EVENTS_FIRST",
    "RECONNECT_EVERY",
    "TRANSACTION_COLUMN",
    "BoundedConnection",
    "BoundedDatastore",
    "BoundedPool",
    "CaseLedgerPostgresFactory",
    "CopyRecorder",
    "PostgresBatch",
    "check_quietly",
]

CHUNK_ROWS = 5_000
"""The most rows one COPY statement of a batch carries."""

TRANSACTION_COLUMN = "transaction_id"
"""The column of the events table holding the id of the transaction that wrote the row
(``xid8``, ``pg_current_xact_id()`` by default); rows written before it existed hold 0."""

EVENTS_FIRST = "caseledger_events_first"
"""The statement trigger (and its function) of the events table that refuses rows from a
transaction that wrote elsewhere first: such a transaction has an id while it holds no lock
on the table, so readers of the log cannot tell it from one that will never write an event
(docs/bulk-import.md §3). A flag local to the transaction, one per table, marks that its
first insert passed; it goes with a savepoint rolled back (and the lock with it), so
writing again after that is refused too."""

_EVENTS_FIRST_FUNCTION = """
CREATE OR REPLACE FUNCTION {0}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE flag text := 'caseledger.events_first_' || TG_RELID::text;
BEGIN
  IF current_setting(flag, true) IS DISTINCT FROM 'on' THEN
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
        MESSAGE = 'this transaction wrote elsewhere before recording events in '
          || TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME,
        HINT = 'record events in a transaction of their own, or before anything else in '
          || 'it: readers of the log count on it (caseledger docs/bulk-import.md §3)';
    END IF;
    PERFORM set_config(flag, 'on', true);
  END IF;
  RETURN NULL;
END $$"""

_GUARD_LOCK_TIMEOUT = 0.2
"""How long (seconds) opening a ledger that lacks only the trigger :data:`EVENTS_FIRST`
waits for the table's lock to make it: the writers that come meanwhile wait as long."""

log = logging.getLogger("caseledger.store")

ONE_STATEMENT_ROWS = 16
"""The most rows written in one statement (one round trip) rather than with COPY."""
ONE_STATEMENT_BYTES = 64 * 1024
"""The most bytes of state written in one statement rather than with COPY."""

CONNINFO_ENV = "CASELEDGER_CONNINFO"
"""The environment key holding the libpq connection options (a JSON object)."""
ANSWER_TIMEOUT_ENV = "CASELEDGER_ANSWER_TIMEOUT"
"""The environment key holding the client's bound on one wait for the server (seconds)."""


class BoundedConnection(psycopg.Connection[DictRow]):
    """A psycopg connection whose every wait for the server lasts at most
    ``answer_timeout`` seconds (unless the caller gives its own timeout, as a LISTEN loop
    does). Past it the connection is closed: its protocol state is unknown."""

    answer_timeout: float = 60.0

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        if timeout is not None:
            return super().wait(gen, interval=interval, timeout=timeout)
        try:
            return super().wait(gen, interval=interval, timeout=self.answer_timeout)
        except _WaitTimeout:
            self.pgconn.finish()  # close the socket without a word: the server is not there
            raise psycopg.OperationalError(
                f"the server did not answer within {self.answer_timeout:g} s"
            ) from None


def check_quietly(conn: psycopg.Connection[Any]) -> None:
    """The pool's check of a connection before use, without a round trip to the server for
    a connection that is fine: an idle connection's socket has nothing to read unless the
    server closed it (a restart sends its farewell and closes) or a notification waits;
    only then is psycopg's check (an empty query) made, which raises for a dead one. A
    server gone without a word is noticed by the call itself, within ``answer_timeout``."""
    try:
        ready, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    except (psycopg.Error, OSError, ValueError):
        ready = [True]  # no socket: let psycopg's check say why
    if ready or conn.pgconn.status != psycopg.pq.ConnStatus.OK:
        ConnectionPool.check_connection(conn)


RECONNECT_EVERY = 0.5
"""The longest wait (seconds) between two attempts of the pool to replace a lost connection.
psycopg's pool doubles its wait after each failure (1, 2, 4... s for five minutes), so a
server back after a 10 s outage was reached again only 5 s later at worst, 80 s after a
minute-long one; here the wait grows from 0.1 s to this and stays, so a restarted server
is used again within about this long (an attempt against a server that refuses costs a
worker thread a refused connection)."""


class SteadyAttempt(AttemptWithBackoff):
    """psycopg's reconnection attempt, its backoff capped at :data:`RECONNECT_EVERY`."""

    INITIAL_DELAY = 0.1

    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, RECONNECT_EVERY)


class BoundedPool(EventsourcingPool[Any]):
    """eventsourcing's pool (psycopg's, asking for a password when it connects), replacing
    a lost connection with :class:`SteadyAttempt`, and trying the next pooled connection at
    once when its check finds one dead."""

    def _add_connection(self, attempt: AttemptWithBackoff | None, growing: bool = False) -> None:
        if attempt is None:
            attempt = SteadyAttempt(timeout=self.reconnect_timeout)
        super()._add_connection(attempt, growing=growing)

    def _getconn_with_check_loop(self, deadline: float) -> Any:
        """A pooled connection that passes the check (psycopg's loop, but for its wait).

        psycopg sleeps after each connection its check finds dead, 1 s at first, doubling:
        after an outage the pool still holds the connections the server lost, so the first
        call sleeps its whole timeout (1 s here) on the first of them and fails though the
        server is back. Here a dead one is dropped (and replaced by the pool) and the next
        one tried at once, as many times as the pool holds connections; only past that,
        when fresh connections fail too, does it wait between tries."""
        dropped = 0
        while True:
            conn = self._getconn_unchecked(deadline - monotonic())
            try:
                self._check_connection(conn)
            except BaseException as error:
                self._putconn(conn, from_getconn=True)
                if not isinstance(error, Exception):
                    raise  # cancelled, interrupted: no more tries
            else:
                return conn
            dropped += 1
            if dropped > self.max_size:
                left = deadline - monotonic()
                if left <= 0:
                    raise PoolTimeout()
                sleep(min(RECONNECT_EVERY, left))


class BoundedDatastore(PostgresDatastore):
    """eventsourcing's datastore, whose connections turn every failure of the server
    (refused, lost, not answering, no connection from the pool in time) into
    :class:`StoreError` at once, instead of eventsourcing's errors that its recorders retry
    ten times. A unique violation stays eventsourcing's ``IntegrityError`` (a concurrent
    writer recorded first, which the store reports as a conflict)."""

    @contextmanager
    def get_connection(self) -> Iterator[psycopg.Connection[DictRow]]:
        try:
            with super().get_connection() as conn:
                yield conn
        except (OperationalError, InterfaceError) as error:
            if isinstance(error.__cause__, psycopg.errors.ObjectNotInPrerequisiteState):
                # the events table's trigger (EVENTS_FIRST): the caller's transaction, not
                # the server, is at fault
                raise StoreError(f"the events table refused the write: {error}") from error
            raise StoreError(f"the PostgreSQL server failed: {error}") from error


class CopyRecorder(PostgresApplicationRecorder):
    """eventsourcing's application recorder, writing a batch with COPY in chunks of at most
    :data:`CHUNK_ROWS` rows, in one transaction, instead of one pipelined INSERT; taking no
    table lock (:meth:`_lock_table`); its table given :data:`TRANSACTION_COLUMN` and its
    index when opened, whether new or made before the column existed."""

    serialise_writers = False
    """Whether recording transactions take the table lock as eventsourcing's do: only to
    measure what the lock costs (benchmarks/bench_writers.py ``--compare-lock`` sets it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        table = SQL("{0}.{1}").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name)
        )
        self.copy_statement = SQL(
            "COPY {0} (originator_id, originator_version, topic, state) FROM STDIN (FORMAT BINARY)"
        ).format(table)
        self._table = table
        self.insert_arrays = SQL(
            "WITH written AS (INSERT INTO {0} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::text[], %s::int8[], %s::text[], %s::bytea[]) RETURNING 1) "
            "SELECT pg_notify(%s, '') FROM (SELECT COUNT(*) FROM written) AS done"
        ).format(table)
        self._order_index = f"{self.events_table_name}_recording_order"[:63]

    def _lock_table(self, curs: Any) -> None:
        """No lock: every insert path of eventsourcing's recorder and of this one calls this
        before writing, and with :data:`TRANSACTION_COLUMN` readers need no serialised
        writers (see the module's documentation). Only with ``serialise_writers`` is the
        table locked as eventsourcing does."""
        if self.serialise_writers:
            super()._lock_table(curs)

    def create_table(self) -> None:
        """eventsourcing's setup, made by one opener at a time. Checked in the catalog
        first: opening a ledger that has everything takes no lock at all (``CREATE INDEX IF
        NOT EXISTS`` would wait for every writer running, a long import among them).
        Otherwise a session advisory lock of the table's name is held around the setup, so
        that processes opening a new ledger, or one made by an earlier version, at once do
        not make the same objects together (a duplicate type, or a deadlock between one
        opener's index and another's trigger); each then finds done what the one before it
        did."""
        with self.datastore.transaction(commit=False) as curs:
            ready = all(self._found(curs).values())
            if ready:
                self._check_transaction_ids(curs)
        if ready:
            self.datastore.register_type_adapters()
            return
        key = f"caseledger setup {self.datastore.schema}.{self.events_table_name}"
        with self.datastore.get_connection() as conn:  # autocommit: the lock is the session's
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
            try:
                super().create_table()
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))

    def _found(self, curs: Any) -> dict[str, bool]:
        """What of the table the catalog holds: the transaction column, its index, the
        notification ids' index, the trigger :data:`EVENTS_FIRST` (all false before the
        table exists)."""
        schema = self.datastore.schema
        curs.execute(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = %s AND column_name = %s) AS has_column, "
            "to_regclass(%s) IS NOT NULL AS has_index, to_regclass(%s) IS NOT NULL AS has_ids, "
            "EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(%s) "
            "AND tgname = %s) AS has_guard",
            (
                schema,
                self.events_table_name,
                TRANSACTION_COLUMN,
                f'"{schema}"."{self._order_index}"',
                f'"{schema}"."{self.notification_id_index_name}"',
                f'"{schema}"."{self.events_table_name}"',
                EVENTS_FIRST,
            ),
        )
        found = curs.fetchone()
        assert found is not None
        return {key: bool(value) for key, value in found.items()}

    def _create_table(self, curs: Any) -> None:
        """eventsourcing's tables, then the transaction column, its index and the trigger
        :data:`EVENTS_FIRST`, whichever is missing (under :meth:`create_table`'s lock). On a
        ledger made before the column, ``ALTER TABLE`` adds it with 0 for every row there
        (no rewrite of the table: one constant; those rows were written under the table
        lock, so their notification ids are their commit order), then makes
        ``pg_current_xact_id()`` the default. A ledger that lacks only the trigger gets it
        only if the table is free within :data:`_GUARD_LOCK_TIMEOUT` (the trigger waits for
        the writers running, and every writer after it waits for it): during a long import
        the ledger opens without it, saying so, and the next opening makes it."""
        found = self._found(curs)
        if all(found.values()):
            self._check_transaction_ids(curs)
            return
        if found["has_column"] and found["has_index"] and found["has_ids"]:
            self._check_transaction_ids(curs)
            self._make_guard(curs, timeout=_GUARD_LOCK_TIMEOUT)
            return
        super()._create_table(curs)
        column = Identifier(TRANSACTION_COLUMN)
        if not found["has_column"]:
            curs.execute(
                SQL(
                    "ALTER TABLE {0} ADD COLUMN IF NOT EXISTS {1} xid8 NOT NULL DEFAULT '0'"
                ).format(self._table, column)
            )
            curs.execute(
                SQL("ALTER TABLE {0} ALTER COLUMN {1} SET DEFAULT pg_current_xact_id()").format(
                    self._table, column
                )
            )
        curs.execute(
            SQL("CREATE INDEX IF NOT EXISTS {0} ON {1} ({2}, notification_id)").format(
                Identifier(self._order_index), self._table, column
            )
        )
        self._make_guard(curs, timeout=None)

    def _make_guard(self, curs: Any, *, timeout: float | None) -> None:
        """The trigger :data:`EVENTS_FIRST` and its function; with ``timeout``, given up
        (with a warning) if the table's lock is not had within that many seconds."""
        guard = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(EVENTS_FIRST))
        statements = [
            SQL(_EVENTS_FIRST_FUNCTION).format(guard),
            SQL(
                "CREATE OR REPLACE TRIGGER {0} BEFORE INSERT ON {1} "
                "FOR EACH STATEMENT EXECUTE FUNCTION {2}()"
            ).format(Identifier(EVENTS_FIRST), self._table, guard),
        ]
        if timeout is None:
            for statement in statements:
                curs.execute(statement)
            return
        curs.execute("SELECT current_setting('lock_timeout') AS before")
        row = curs.fetchone()
        before = row["before"] if row else "0"
        curs.execute("SAVEPOINT caseledger_guard")
        curs.execute("SELECT set_config('lock_timeout', %s, true)", (f"{int(timeout * 1000)}ms",))
        try:
            for statement in statements:
                curs.execute(statement)
        except psycopg.errors.LockNotAvailable:
            curs.execute("ROLLBACK TO SAVEPOINT caseledger_guard")  # the lock_timeout too
            log.warning(
                "the events table %s.%s was busy (a long import?): opened without its trigger "
                "%s, which the next opening of the ledger makes (docs/bulk-import.md §3)",
                self.datastore.schema, self.events_table_name, EVENTS_FIRST,
            )  # fmt: skip
            return
        curs.execute("RELEASE SAVEPOINT caseledger_guard")
        curs.execute("SELECT set_config('lock_timeout', %s, true)", (before,))

    def _insert_in_one_statement(self, stored_events: Sequence[StoredEvent]) -> None:
        """A few small rows (a single command's) in one statement, its own transaction (one
        round trip): an ``INSERT`` of arrays and the ``NOTIFY``, where COPY's transaction
        takes five (``BEGIN``, ``NOTIFY``, COPY's two, ``COMMIT``)."""
        columns = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            # the pool's connections are autocommit: one statement, one transaction
            curs.execute(self.insert_arrays, (*columns, self.channel_name), prepare=True)

    def _check_transaction_ids(self, curs: Any) -> None:
        """Refuse a table whose rows carry transaction ids this server has not reached: they
        were restored from another server (``pg_dump``; ``pg_upgrade`` and replicas keep the
        ids), and the events recorded from now on would come before them in recording
        order, behind every follower's position: never read."""
        curs.execute(
            SQL(
                "SELECT MAX({1})::text AS highest, "
                "pg_snapshot_xmax(pg_current_snapshot())::text AS next FROM {0}"
            ).format(self._table, Identifier(TRANSACTION_COLUMN))
        )
        row = curs.fetchone()
        if row is None or row["highest"] is None or int(row["highest"]) < int(row["next"]):
            return
        raise StoreError(
            f"the events table holds transaction id {row['highest']}, which this server has "
            f"not reached (its next is {row['next']}): the ledger was restored from another "
            "server, and events recorded now would be ordered before those already read. "
            "Advance this server's transaction ids past it (pg_resetwal --next-transaction-id "
            "and --epoch, server stopped); pg_upgrade and replicas keep the ids"
        )

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """Write the rows in one transaction, all or nothing. A unique violation (a writer
        recorded first) is eventsourcing's ``IntegrityError``, as eventsourcing's own
        recorder raises; a server that fails or times out, :class:`StoreError`."""
        if not stored_events:
            return
        if (
            len(stored_events) <= ONE_STATEMENT_ROWS
            and sum(len(e.state) for e in stored_events) <= ONE_STATEMENT_BYTES
            and not self.serialise_writers
        ):
            self._insert_in_one_statement(stored_events)
            return
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self.begin_writing(curs)
            self.copy_rows(
                curs, [(e.originator_id, e.originator_version, e.topic, e.state)
                       for e in stored_events]
            )  # fmt: skip

    def begin_writing(self, curs: Any) -> None:
        """What a transaction does before its first row, the one place for it (a single
        command's and a batch's alike): eventsourcing's table lock and notification."""
        self._lock_table(curs)
        self._notify_channel(curs)

    def copy_rows(self, curs: Any, rows: Sequence[tuple[Any, int, str, bytes]]) -> None:
        """COPY ``rows`` (stream, version, topic, state) in statements of at most
        :data:`CHUNK_ROWS` rows each, in the transaction ``curs`` is in."""
        for start in range(0, len(rows), CHUNK_ROWS):
            with curs.copy(self.copy_statement) as copy:
                copy.set_types(["text", "int8", "text", "bytea"])
                for row in rows[start : start + CHUNK_ROWS]:
                    copy.write_row(row)

    @contextmanager
    def batch_transaction(self) -> Iterator[PostgresBatch]:
        """One connection and one transaction for a batch, committed when the block ends,
        rolled back if it raises (psycopg's errors come out as eventsourcing's, a failing
        server as :class:`StoreError`)."""
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            # the client checks items between two statements of the batch: it may be idle
            # longer than the session's idle-in-transaction timeout (eventsourcing's 5 s)
            # allows, though never longer than a statement may run
            curs.execute(
                "SELECT set_config('idle_in_transaction_session_timeout', "
                "current_setting('statement_timeout'), true)"
            )
            yield PostgresBatch(self, curs)


class PostgresBatch:
    """The open transaction of a batch: ``write`` one chunk of rows (COPY, in statements of
    at most :data:`CHUNK_ROWS`); ``cursor`` reads (plain tuples) in the same transaction;
    ``mine`` is true of the rows this transaction wrote."""

    mine = "xmin = pg_current_xact_id_if_assigned()::xid"
    """(NULL, not true, before the transaction's first row: no transaction id is taken
    for reading, which would hold back the followers of the log for nothing.)"""

    def __init__(self, recorder: CopyRecorder, cursor: Any) -> None:
        self.cursor = cursor
        self._recorder = recorder
        self._begun = False

    def write(self, rows: Sequence[tuple[str, int, str, bytes]]) -> None:
        if not self._begun:
            self._recorder.begin_writing(self.cursor)
            self._begun = True
        self._recorder.copy_rows(self.cursor, rows)


class CaseLedgerPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL factory with :class:`BoundedDatastore`,
    :class:`BoundedConnection` and :class:`CopyRecorder`, and the connection options of the
    ledger URL."""

    application_recorder_class = CopyRecorder

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        datastore = self.datastore
        # the datastore's class only adds a method: the one eventsourcing made is kept, with
        # its pool not yet opened, and given the bounded connections and the URL's options
        datastore.__class__ = BoundedDatastore
        pool: Any = datastore.pool
        pool.__class__ = BoundedPool
        answer = float(self.env.get(ANSWER_TIMEOUT_ENV) or BoundedConnection.answer_timeout)
        pool.connection_class = type(
            "BoundedConnection", (BoundedConnection,), {"answer_timeout": answer}
        )
        pool.kwargs.update(json.loads(self.env.get(CONNINFO_ENV) or "{}"))
        if pool._check is not None:  # pre-ping asked (the ledger URL always asks)
            pool._check = check_quietly
