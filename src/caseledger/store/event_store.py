"""Case streams in a database, through eventsourcing's recorders (SQLite or PostgreSQL).

:class:`CaseStore` is an eventsourcing ``Application`` with caseledger's mapper and
transcoder. It loads and saves :class:`Case` aggregates, turns the store's own errors into
caseledger's, and reads raw stored events and the notification log for auditors.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    Mapper,
    Notification,
    PersistenceError,
    RecordConflictError,
    StoredEvent,
)
from eventsourcing.utils import Environment, EnvType

from caseledger.domain.case import Case
from caseledger.domain.records import RecordedEvent
from caseledger.errors import ConcurrencyConflict, StoreError
from caseledger.store.mapper import CaseEventMapper
from caseledger.store.transcoder import OrjsonTranscoder
from caseledger.store.url import LedgerLocation

__all__ = ["CaseStore", "open_store"]

_PAGE = 1000


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

    def save_cases(self, cases: Sequence[Case]) -> int:
        """Record the pending events of ``cases`` in one transaction: all or nothing.

        Returns the number of events recorded. A concurrent writer that recorded on one of
        the cases first makes this raise :class:`ConcurrencyConflict`, recording nothing.
        """
        pending = {case.case_no: case.collect_events() for case in cases}
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
