"""The supervision board read model: one row per case, kept up to date from the event log.

Each row (:mod:`caseledger.judging.rows`) holds what the board and the statistics need,
with the dates from which the case is yellow and red, so a board query for any ``as_of`` is
an index range scan, not an evaluation of every case. Rows and sanctions are written
together with eventsourcing's tracking record (the position in the log) in one transaction,
so every event is applied exactly once; a catch-up reads the log in the store's recording
order from that position (:meth:`CaseStore.read_log`: on PostgreSQL, commit-safe although
writers run in parallel).
Rebuilding clears the tables and replays the whole log through the same code, so
incremental and rebuilt rows agree.

The rows reflect the ledger as recorded: deadlines include every recorded pause and
extension. For the exact state of one case at a past moment, evaluate it (``status``).
"""

from __future__ import annotations

import functools
import gc
import itertools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.sqlite import SQLiteFactory

from caseledger.domain.records import is_case_stream, is_pack_stream
from caseledger.errors import StoreError
from caseledger.judging.evaluation import pack_for
from caseledger.judging.facts import Decoder, Fact, facts_of
from caseledger.judging.rows import BoardRow, case_rows
from caseledger.readmodels.parallel import block_results_in_processes
from caseledger.readmodels.sqlite import SQLiteBoardRecorder
from caseledger.readmodels.tables import UPSTREAM, BoardRecorder, BoardWriting
from caseledger.rules.pack import RulePack
from caseledger.rules.registry import PackRegistry
from caseledger.store.event_store import CaseStore, LogRow, SpanReader

__all__ = ["FOLLOW_SETTLE_SECONDS", "BoardProjection", "collector_paused"]

FOLLOW_SETTLE_SECONDS = 0.05
"""How long a follower on PostgreSQL lets pass after a catch-up that applied events, before
the next (:meth:`BoardProjection.follow`): how much later than its commit an event may reach
the board under a stream of commits, so that they are applied many at a time."""


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a rebuild (or a batch of commands,
    :meth:`~caseledger.ledger.CaseLedger.record_batch`) builds its many small, acyclic
    objects (they are freed by reference counting): its passes would otherwise rescan all
    that is held, again and again (a third of an import's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class BoardProjection:
    """Keeps the board read model of a store up to date, exactly once per event."""

    def __init__(self, store: CaseStore, packs: PackRegistry, default_pack: str) -> None:
        self.store = store
        self.packs = packs
        self.default_pack = default_pack
        kind: type[Any]
        if isinstance(store.factory, SQLiteFactory):
            kind = SQLiteBoardRecorder
        else:  # PostgreSQL, only importable with the postgres extra
            from caseledger.readmodels.postgres import PostgresBoardRecorder

            kind = PostgresBoardRecorder
        recorder = store.factory.tracking_recorder(kind)
        assert isinstance(recorder, BoardWriting)
        self.recorder: BoardRecorder = recorder  # type: ignore[assignment]

    @property
    def position(self) -> int:
        return self.recorder.max_tracking_id(UPSTREAM) or 0

    def catch_up(self, *, batch: int = 2000) -> int:
        """Apply every event recorded since the last catch-up (up to the last settled when
        its log was read: a page shorter than ``batch`` that is the whole settled log is not
        read again); returns how many.

        The events are read in the store's recording order (:meth:`CaseStore.read_log`),
        from the position the board's tracking record holds; the rows and the new position
        are written in one transaction, which fails if another projection moved the
        position meanwhile (then this one goes on from where that one stopped)."""
        done = 0
        cache: dict[str, list[Fact]] = {}
        packs: dict[str, RulePack] = {}
        decode = self.store.decoder
        position = self.position
        while True:
            log, whole = self.store.read_log_page(position, batch)
            if not log:
                return done
            touched: dict[str, None] = {}
            for _, case_no, version, topic, state in log:
                if not is_case_stream(case_no):
                    continue  # projects are judged on demand, pack versions are no cases
                facts = cache.get(case_no)
                if facts is None:
                    facts = cache[case_no] = self._earlier_facts(case_no, version)
                facts += facts_of(case_no, [(version, topic, state)], decode)
                touched[case_no] = None
            rows = [r for case_no in touched for r in self._rows(case_no, cache[case_no], packs)]
            try:
                self.recorder.write(rows, Tracking(UPSTREAM, log[-1][0]), after=position)
            except IntegrityError:
                # another projection applied these events first: continue from where it is
                position = self.position
                cache.clear()
                continue
            position = log[-1][0]
            # a pack version's event is no case's (nor project's): not counted as applied
            done += sum(not is_pack_stream(row[1]) for row in log)
            if len(log) < batch and whole:
                return done  # the whole log as read: what came after, the next catch-up

    def follow(
        self,
        stop: threading.Event,
        *,
        poll_seconds: float = 0.5,
        settle_seconds: float = FOLLOW_SETTLE_SECONDS,
    ) -> int:
        """Keep the board up to date until ``stop`` is set; returns the events applied.

        On PostgreSQL the projection LISTENs on the channel every recording transaction
        NOTIFYs at its commit, and catches up as soon as one arrives, and at least every
        ``poll_seconds`` (events held back behind a transaction still running become
        readable when it ends, which NOTIFYs nothing if it rolled back); on SQLite, which
        has no push subscription, it catches up every ``poll_seconds``. On PostgreSQL, after
        a catch-up that applied events it lets ``settle_seconds`` pass before the next, so
        that under a stream of commits each catch-up applies what came meanwhile in one go:
        a catch-up costs about as much for one event as for fifty (measured with 8 writers:
        the machine's CPU a command 1.13 to 1.19 ms with 0.05 s, 1.34 to 1.40 ms without).
        Either way each wake-up is a catch-up, so events are applied exactly once, whoever
        else is catching up."""
        done = self.catch_up()
        if isinstance(self.store.factory, SQLiteFactory):
            while not stop.wait(poll_seconds):
                done += self.catch_up()
            return done
        from caseledger.readmodels.postgres import listening  # needs the postgres extra

        with listening(self.store) as notified:
            while not stop.is_set():
                notified(poll_seconds, stop)
                applied = self.catch_up()
                done += applied
                # what is committed meanwhile: one catch-up; stopped meanwhile, caught up
                if applied and settle_seconds > 0 and stop.wait(settle_seconds):
                    done += self.catch_up()
        return done

    def rebuild(self, *, workers: int | None = None) -> int:
        """Clear the read model and replay the whole log; returns the events applied.

        The cases are cut in blocks of consecutive case numbers, spread over ``workers``
        forked processes (default: one per core, see :mod:`caseledger.readmodels.parallel`;
        the rows are the same whatever the number), on an SQLite file in WAL mode and on
        PostgreSQL (where every process reads one exported snapshot, see
        :class:`~caseledger.store.event_store.SpanReader`). Each process reads a block's events in
        one query, in case order, and judges each case once on its whole history; this
        process writes the rows as they come, with the tracking record, in one transaction.
        Events recorded meanwhile are applied by the next catch-up."""
        with collector_paused():
            position = self.store.log_head()
            streams = self.store.stream_numbers(position)
            numbers = [n for n in streams if is_case_stream(n)]
            versions = sum(map(is_pack_stream, streams))  # one event each: not applied
            self.packs.prepare()  # the recorded pack versions, read before forking
            reader = self.store.span_reader()
            judge = functools.partial(self._judge_block, reader=reader, upto=position, packs={})
            tracking = Tracking(UPSTREAM, position) if position else None
            fork = reader.forkable
            with (
                reader,
                block_results_in_processes(
                    judge,
                    numbers,
                    workers if fork else 1,
                    finish=reader.close,
                    prepare=reader.forking,
                ) as rows,
            ):
                applied = self.store.event_count(position) - versions  # as workers start
                # written as they come: the rows of the first cases while the workers judge
                # the next ones (when the database can be read while it is written)
                segments = itertools.chain.from_iterable(rows)
                self.recorder.replace(segments if fork else list(segments), tracking)
            return applied

    def _judge_block(
        self, numbers: Sequence[str], reader: SpanReader, upto: int, packs: dict[str, RulePack]
    ) -> list[list[BoardRow]]:
        """The rows of the cases ``numbers`` (consecutive in the store's order), from one read
        of their events."""
        stored: dict[str, list[LogRow]] = {}
        for row in reader(numbers[0], numbers[-1], upto):
            stored.setdefault(row[1], []).append(row)
        missing = [case_no for case_no in numbers if case_no not in stored]
        if missing:
            raise StoreError(
                f"the events of case {missing[0]!r} were not found where the log's index puts "
                "them: check the events table for damage (caseledger verify), then rebuild"
            )
        decode = self.store.decoder
        return [self._judge_stored(stored[case_no], packs, decode) for case_no in numbers]

    def _judge_stored(
        self, stored: list[LogRow], packs: dict[str, RulePack], decode: Decoder
    ) -> list[BoardRow]:
        """The rows of one case from its stored events (``decode``: the store's decoder, got
        once for many cases)."""
        case_no = stored[0][1]
        facts = facts_of(case_no, [(row[2], row[3], row[4]) for row in stored], decode)
        return self._rows(case_no, facts, packs)

    def _earlier_facts(self, case_no: str, version: int) -> list[Fact]:
        if version == 1:
            return []
        rows = self.store.stream_rows(case_no)[: version - 1]
        return facts_of(case_no, rows, self.store.decoder)

    def _rows(
        self, case_no: str, facts: list[Fact], packs: dict[str, RulePack] | None = None
    ) -> list[BoardRow]:
        """The rows of the case's segments (:func:`case_rows`) under its pack; ``packs``: the
        packs already got, by name (a rebuild gets each once)."""
        return case_rows(case_no, facts, lambda known: self._pack(known, packs))

    def _pack(self, facts: list[Fact], packs: dict[str, RulePack] | None) -> RulePack:
        """The pack of the case (:func:`pack_for`), through ``packs`` when given."""
        if packs is None:
            return pack_for(facts, self.packs, self.default_pack)
        key = self.default_pack
        for fact in facts:
            if fact.type == "accepted":
                key = f"{fact.get('rule_pack')}@{fact.get('rule_pack_hash')}"
                break
        pack = packs.get(key)
        if pack is None:
            pack = packs[key] = pack_for(facts, self.packs, self.default_pack)
        return pack

    @property
    def table(self) -> str:
        """The name of the board table."""
        return self.recorder.sql.board

    @property
    def sanctions_table(self) -> str:
        """The name of the table of sanctions found on the board's cases."""
        return self.recorder.sql.sanctions

    @property
    def tally_table(self) -> str:
        """The name of the table of how many of today's segments begin to alert, and to be
        red, on each day (:attr:`~caseledger.readmodels.tables.BoardTables.tally`)."""
        return self.recorder.sql.tally

    def p(self, name: str) -> str:
        """A named placeholder in this database's style."""
        return self.recorder.sql.param.format(name)

    def query(self, statement: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.recorder.query(statement, params or {})

    def rows(self) -> list[dict[str, Any]]:
        """Every row (each segment of each case), by case number and day (for tests and
        audits of the read model)."""
        return self.query(f"SELECT * FROM {self.table} ORDER BY case_no, seg_from")

    def sanction_rows(self) -> list[dict[str, Any]]:
        return self.query(
            f"SELECT * FROM {self.sanctions_table} "
            "ORDER BY case_no, seg_from, day, violation, rule, sanction"
        )
