"""``CaseLedger``: the application a government system embeds.

Open it by URL, record commands (one at a time or as an atomic batch), read cases and
their histories as of any moment, and hand auditors verification and seals::

    with CaseLedger("sqlite:///caseledger.db") as ledger:
        ledger.record(command)
        case = ledger.case("QZ-2026-000001")

Recording reads the wall clock once, for ``recorded_at``; pass ``clock=`` to fix it (tests,
imports of a known moment). Nothing else here or below reads the clock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import gc
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TypeVar, overload

from pydantic import ValidationError

from caseledger.audit.chains import VerificationReport
from caseledger.audit.checkpoint import (
    consistency_file,
    latest_checkpoint,
    receipt,
    take_checkpoint,
)
from caseledger.audit.keys import Signer
from caseledger.audit.log import TreeLog
from caseledger.audit.offline import Checkpoint, VerifierKey
from caseledger.audit.seal import Seal, take_seal
from caseledger.audit.verify import verify_store
from caseledger.domain.case import Case
from caseledger.domain.events import Accepted, CaseLinked, PackRecorded, ProjectRegistered
from caseledger.domain.moments import CHINA_TIME, happened_by
from caseledger.domain.pack_stream import PackVersion
from caseledger.domain.project import Project
from caseledger.domain.records import (
    Command,
    PackCommand,
    ProjectCommand,
    RecordedEvent,
    is_case_stream,
    is_project_stream,
    parse_command,
    project_stream,
    updated,
)
from caseledger.domain.records import problems_of as command_problems
from caseledger.domain.stream import EventStream
from caseledger.domain.streams import stream_kind
from caseledger.errors import (
    BatchItemError,
    BatchRejected,
    CaseLedgerError,
    CaseNotFound,
    ConcurrencyConflict,
    InvalidCommand,
    KeyFileError,
    ProjectNotFound,
    RecordedPackMissing,
    StoreError,
    UnknownItem,
    UnknownPackVersion,
)
from caseledger.judging.evaluation import DEFAULT_PACK, CaseEvaluation, evaluate
from caseledger.judging.facts import Fact, facts_of
from caseledger.judging.project import ProjectEvaluation, evaluate_project
from caseledger.readmodels.projection import BoardProjection, collector_paused
from caseledger.readmodels.reports import (
    Board,
    Grouping,
    ScoreRow,
    StatRow,
    board,
    scores,
    statistics,
)
from caseledger.rules.pack import RulePack
from caseledger.rules.registry import PackRegistry
from caseledger.rules.versions import PackContent
from caseledger.store.event_store import BatchWriter, CaseStore, Row, open_store
from caseledger.store.packs import HeldVersion, LedgerPacks
from caseledger.store.url import DEFAULT_URL, parse_ledger_url
from caseledger.whatif import WhatIfReport, what_if

__all__ = ["AnyCommand", "BatchResult", "CaseLedger", "RecordResult", "problems_of"]

Clock = Callable[[], dt.datetime]
_RECENT = 1_000
"""Streams a ledger keeps as it last recorded on them, so that the next command on one reads
only what was recorded since: its cost does not grow with the stream's length."""
_RECENT_EVENTS = 100_000
"""At most how many events the streams kept hold together (the oldest kept go first)."""
_CHUNK = 2_000
"""Commands of a batch validated, and their streams read, together."""
_HELD = 10_000
"""The most streams a batch holds at once (each about 1.5 KB, lean); the least recently
used is dropped past it, and read again if a later item names it."""
_HELD_EVENTS = 20_000
"""The most events read back with the streams a batch holds (about 1.2 KB each)."""
_WRITE_ROWS = 5_000
"""Rows a batch writes together (one ``executemany`` on SQLite, one COPY on PostgreSQL)."""
_YOUNG_EVERY = 100_000
"""Items a batch checks between two collections of young objects, the collector paused."""

_ROWS_AFTER_FAILURE = 50_000
"""Once an item of a batch failed, the most rows held back unwritten (what is written then
is only rolled back; it is written when more wait, or a stream of theirs is read again)."""

TREE_EVERY = 1000
"""How many events a ledger records between two extensions of the Merkle tree."""


def _wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


AnyCommand = Command | ProjectCommand


@dataclass(frozen=True)
class RecordResult:
    """What a command did: the event it recorded, or (``already_recorded``) found.
    ``case_no`` is the stream's id: the case number, or ``#`` and the project number."""

    case_no: str
    version: int
    type: str
    hash: str
    already_recorded: bool = False

    @classmethod
    def of(cls, event: RecordedEvent, *, already_recorded: bool) -> RecordResult:
        return cls(event.case_no, event.version, event.type, event.hash, already_recorded)


@dataclass(frozen=True)
class BatchResult:
    """What a batch did, one result per command in order (a :class:`Sequence`; a batch's
    own holds them as columns and makes each :class:`RecordResult` when it is read)."""

    results: Sequence[RecordResult]

    @property
    def recorded(self) -> int:
        if isinstance(self.results, _Results):
            return len(self.results) - self.results.already_recorded
        return sum(not r.already_recorded for r in self.results)

    @property
    def already_recorded(self) -> int:
        if isinstance(self.results, _Results):
            return self.results.already_recorded
        return sum(r.already_recorded for r in self.results)

    @property
    def cases(self) -> int:
        if isinstance(self.results, _Results):
            return self.results.streams
        return len({r.case_no for r in self.results})


class _Results(Sequence[RecordResult]):
    """A batch's results as columns, about 45 bytes each (a million results in 45 MB, not
    the 500 of as many objects): the stream as an index into its interned ids, the version,
    the event type as an index, the hash as 32 raw bytes, whether it was already recorded.
    Each :class:`RecordResult` is made when it is read."""

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._id_index: dict[str, int] = {}
        self._types: list[str] = []
        self._type_index: dict[str, int] = {}
        self._stream = array("l")
        self._version = array("q")
        self._type = array("H")
        self._hash = bytearray()
        self._already = bytearray()
        self.already_recorded = 0

    def append(self, result: RecordResult) -> None:
        stream = self._id_index.get(result.case_no)
        if stream is None:
            stream = self._id_index[result.case_no] = len(self._ids)
            self._ids.append(result.case_no)
        kind = self._type_index.get(result.type)
        if kind is None:
            kind = self._type_index[result.type] = len(self._types)
            self._types.append(result.type)
        self._stream.append(stream)
        self._version.append(result.version)
        self._type.append(kind)
        self._hash += bytes.fromhex(result.hash)
        self._already.append(result.already_recorded)
        self.already_recorded += result.already_recorded

    @property
    def streams(self) -> int:
        """How many streams the results name."""
        return len(self._ids)

    def index_of(self, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """The index of the result of each (stream, version) of ``wanted`` (one pass)."""
        numbers = {self._id_index[s]: s for s, _ in wanted if s in self._id_index}
        found = {}
        for index, (stream, version) in enumerate(zip(self._stream, self._version, strict=True)):
            if stream in numbers and (numbers[stream], version) in wanted:
                found[numbers[stream], version] = index
        return found

    def __len__(self) -> int:
        return len(self._version)

    @overload
    def __getitem__(self, index: int) -> RecordResult: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[RecordResult]: ...
    def __getitem__(self, index: int | slice) -> RecordResult | Sequence[RecordResult]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("result index out of range")
        return RecordResult(
            self._ids[self._stream[index]],
            self._version[index],
            self._types[self._type[index]],
            self._hash[index * 32 : index * 32 + 32].hex(),
            bool(self._already[index]),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{len(self)} batch results>"


class _Held:
    """A stream a batch holds: the stream as it stands (None before its first event), and
    the command ids this batch gave it, each with its item's position (negative) or, for
    one read back from the database, its version (positive)."""

    __slots__ = ("events", "ours", "stream")

    def __init__(self, stream: EventStream | None, ours: dict[str, int]) -> None:
        self.stream = stream
        self.ours = ours
        self.events = 0 if stream is None else len(stream.events)
        """The events read with the stream (what holding it costs)."""


class _BatchStreams(dict[str, EventStream | None]):
    """The streams a batch touches, as its checks read them (:meth:`CaseLedger._apply`,
    :meth:`CaseLedger._check_rules` take it as their ``batch``: a dict that keeps nothing
    itself, whose ``get`` and ``[]`` read the streams held, or the database), and the rows
    it writes.

    At most ``limit`` streams are held, holding at most ``events`` read events together;
    past that the least recently used is dropped, and read again (through the batch's
    transaction, its own rows included) if a later item names it. The pack versions the
    batch adds are held to the end and written last. Rows wait in ``_rows`` and are written
    ``chunk`` at a time, and before a stream whose rows wait is read again; once an item
    failed (``writing`` false), they are written only when a read needs them or more than
    ``_ROWS_AFTER_FAILURE`` wait."""

    def __init__(self, writer: BatchWriter, *, limit: int, events: int, chunk: int) -> None:
        super().__init__()
        self._writer = writer
        self._limit, self._events_limit, self._chunk = limit, events, chunk
        self._held: dict[str, _Held] = {}  # the least recently used first
        self._events = 0
        self.packs: dict[str, EventStream] = {}
        self._rows: dict[str, list[Row]] = {}
        self._waiting = 0
        self.writing = True

    def held(self, stream_id: str) -> _Held:
        """The stream ``stream_id`` as held, read if it is not (and now the most recent)."""
        entry = self._held.pop(stream_id, None)
        if entry is None:
            self.prefetch([stream_id])
            entry = self._held.pop(stream_id)
        self._held[stream_id] = entry
        return entry

    def prefetch(self, stream_ids: Iterable[str]) -> None:
        """Read the streams of ``stream_ids`` not held yet, in one query per thousand."""
        wanted = [s for s in dict.fromkeys(stream_ids) if s not in self._held]
        if not wanted:
            return
        if any(s in self._rows for s in wanted):
            self.flush()  # its rows first, so that it is read as it stands
        for stream_id, (stream, ours) in self._writer.load_streams(wanted).items():
            entry = self._held[stream_id] = _Held(stream, ours)
            self._events += entry.events
        while len(self._held) > 1 and (
            len(self._held) > self._limit or self._events > self._events_limit
        ):  # the stream read last is kept, whatever its length
            self._events -= self._held.pop(next(iter(self._held))).events

    def add_rows(self, stream_id: str, rows: list[Row]) -> None:
        """Rows to write; written once a chunk of them waits."""
        if not rows:
            return
        self._rows.setdefault(stream_id, []).extend(rows)
        self._waiting += len(rows)
        if self._waiting >= (self._chunk if self.writing else _ROWS_AFTER_FAILURE):
            self.flush()

    def flush(self) -> None:
        """Write the rows waiting, stream after stream in the order they came."""
        rows = [row for waiting in self._rows.values() for row in waiting]
        self._rows, self._waiting = {}, 0
        for start in range(0, len(rows), self._chunk):
            self._writer.write(rows[start : start + self._chunk])

    def finish(self) -> None:
        """Write what waits, then the pack versions the batch added."""
        self.flush()
        for pack in self.packs.values():
            self.add_rows(pack.stream_id, pack.collect_rows())
        self.flush()

    # -- the mapping ``_apply`` and ``_check_rules`` read ------------------------------------
    def __getitem__(self, stream_id: str) -> EventStream | None:
        if stream_id in self.packs:
            return self.packs[stream_id]
        return self.held(stream_id).stream

    def __setitem__(self, stream_id: str, stream: EventStream | None) -> None:
        if isinstance(stream, PackVersion):  # added by an acceptance: held to the end
            self.packs[stream_id] = stream
        else:
            self.held(stream_id).stream = stream

    def get(self, stream_id: str, default: Any = None) -> Any:
        try:
            return self[stream_id]
        except KeyError:
            return default

    def __contains__(self, stream_id: object) -> bool:
        return stream_id in self._held or stream_id in self.packs

    def __iter__(self) -> Iterator[str]:
        yield from self._held
        yield from self.packs

    def __len__(self) -> int:
        return len(self._held) + len(self.packs)


class CaseLedger:
    """The ledger of administrative-approval cases in one database."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        packs: PackRegistry | None = None,
        default_pack: str = DEFAULT_PACK,
        clock: Clock | None = None,
        max_clock_skew: dt.timedelta = dt.timedelta(minutes=5),
        create: bool = True,
        keep_tree: bool = True,
    ) -> None:
        """Open the ledger at ``url``; a new SQLite file is made (owner-only) unless
        ``create`` is false, when a missing file raises :class:`LedgerNotFound`. With
        ``keep_tree`` (the default) the Merkle tree over the log is extended once every
        ``TREE_EVERY`` events this ledger records and when it closes; without, only when
        a checkpoint or receipt is made."""
        self.location = parse_ledger_url(url)
        self._packs = packs
        self.default_pack = default_pack
        """The pack that judges cases not (yet) accepted under a pack of their own."""
        self._board: BoardProjection | None = None
        self._board_lock = threading.Lock()
        self._catch_up_lock = threading.Lock()
        self._clock = clock or _wall_clock
        self._max_skew = max_clock_skew
        self._store: CaseStore = open_store(self.location, create=create)
        self._held = LedgerPacks(self._store)
        self._judging: PackRegistry | None = None
        self._tree = TreeLog(self._store) if keep_tree else None
        self._untreed = 0
        self._recent: dict[str, EventStream] = {}
        """The streams last recorded on (at most ``_RECENT``, holding at most
        ``_RECENT_EVENTS``; the oldest dropped first), behind ``_recent_lock``."""
        self._recent_lock = threading.Lock()
        self._future_bound: tuple[dt.datetime | None, dt.timedelta, dt.datetime] = (
            None,
            max_clock_skew,
            dt.datetime.min.replace(tzinfo=dt.UTC),
        )
        """The latest business time a command recorded at ``[0]`` may have (``[2]``)."""

    @property
    def packs(self) -> PackRegistry:
        """The rule packs cases are judged by (the installed ones unless given)."""
        if self._packs is None:
            self._packs = PackRegistry.discover()
        return self._packs

    @property
    def judging_packs(self) -> PackRegistry:
        """The packs cases are judged by: the installed ones and the versions this ledger
        holds, each case under the version it was accepted under (``judge_under="recorded"``)."""
        if self._judging is None:
            self._judging = self.packs.judging(self._held)
        return self._judging

    @property
    def held_packs(self) -> LedgerPacks:
        """The rule-pack versions recorded in this ledger (its pack streams)."""
        return self._held

    def pack_history(self, name: str | None = None) -> list[HeldVersion]:
        """The pack versions this ledger holds (of pack ``name``), in the order first used."""
        held = list(self._held.held().values())
        if name is not None:
            if not any(h.content.name == name for h in held):
                names = sorted({h.content.name for h in held})
                raise UnknownPackVersion(name, names, why="has no version recorded in this ledger")
            held = [h for h in held if h.content.name == name]
        return held

    def pack_version(self, asked: str) -> RulePack:
        """The pack version ``NAME@VERSION`` (installed or held) or ``NAME`` (installed, else
        the version last first used)."""
        if "@" in asked:
            return self.judging_packs.version(asked)
        return self.judging_packs.get(asked, replaced=False)

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        self._extend_tree(0, now=self._untreed > 0)
        self._store.close()

    def __enter__(self) -> CaseLedger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def store(self) -> CaseStore:
        """The underlying eventsourcing application (for read models and auditors)."""
        return self._store

    # -- writing -------------------------------------------------------------------------
    def record(
        self, command: AnyCommand | Mapping[str, Any], *, expected_version: int | None = None
    ) -> RecordResult:
        """Record one command (a case's, or with ``project_no`` a project's), idempotently.

        A retry with the same command id and content returns the original result with
        ``already_recorded=True`` and records nothing. ``expected_version`` (the version
        the caller last saw) turns any change since then into :class:`ConcurrencyConflict`.
        """
        command = _as_command(command)
        recorded_at = self._now()
        self._check_not_future(command, recorded_at)
        # the stream as this ledger last recorded on it, brought up to date (one query for
        # what was recorded since), or read whole; taken out while in use, so a thread
        # recording on the same stream meanwhile reads its own
        with self._recent_lock:
            kept = self._recent.pop(command.stream_id, None)
        if kept is None and self._may_start(command):
            result, stream = self._record_first(command, recorded_at, expected_version)
        else:
            read = self._store.refresh(kept) if kept is not None else self._load(command)
            result, stream = self._record_on(read, command, recorded_at, expected_version)
        with self._recent_lock:  # kept only once saved (a failure above discards it)
            self._recent[command.stream_id] = stream
            # streams of at most 100 events cannot pass the budget (_RECENT of them hold at
            # most _RECENT_EVENTS): count the events only when a longer one is kept
            held = sum(s.version for s in self._recent.values()) if stream.version > 100 else 0
            while self._recent and (len(self._recent) > _RECENT or held > _RECENT_EVENTS):
                oldest = self._recent.pop(next(iter(self._recent)))
                held -= oldest.version
        return result

    def _record_first(
        self, command: AnyCommand, recorded_at: dt.datetime, expected_version: int | None
    ) -> tuple[RecordResult, EventStream]:
        """Record ``command``, which may open its stream (a case's ``received``), on a stream
        this ledger does not hold. On PostgreSQL, where a read is a round trip, the stream
        is not read first: the command is written as version 1, which the store's unique
        key on (stream, version) refuses if the stream is there after all. On SQLite it is
        read first (a read there waits for no writer). Either way, a write refused so (or,
        unread, a command the checks refuse on a new stream) is done again on the stream as
        read: the answer is the one a read first gives, and two writers opening one case at
        once do not conflict (the second finds its command recorded, or another refused). A
        server that gave up waiting for a lock (an unread write waits for locks a read does
        not) is asked by a read whether the stream is there, to answer from it."""
        unread = self._store.reads_are_round_trips
        first = None if unread else self._load(command)
        try:
            return self._record_on(first, command, recorded_at, expected_version)
        except StoreError as error:
            if not unread or not self._store.timed_out(error):
                raise
            read = self._load(command)
            if read is None:
                raise  # the write was needed, and waited too long
        except ConcurrencyConflict:
            read = self._load(command)
        except CaseLedgerError:
            if not unread:
                raise  # judged on the stream as read
            read = self._load(command)
        return self._record_on(read, command, recorded_at, expected_version)

    def _record_on(
        self,
        stream: EventStream | None,
        command: AnyCommand,
        recorded_at: dt.datetime,
        expected_version: int | None,
    ) -> tuple[RecordResult, EventStream]:
        """Apply ``command`` to ``stream`` (None: a new one) and save what it adds, with
        the pack versions it brings, in one transaction."""
        packs: dict[str, EventStream | None] = {}
        result, stream = self._apply(stream, command, recorded_at, expected_version, packs)
        if not result.already_recorded:
            self._save([*(p for p in packs.values() if p is not None), stream])
        return result, stream

    @staticmethod
    def _may_start(command: AnyCommand) -> bool:
        """Whether ``command`` may be its stream's first event (a case's ``received``...)."""
        kind: type[EventStream] = stream_kind(command.stream_id)
        try:
            kind.check_start(command)
        except CaseLedgerError:
            return False
        return True

    def record_batch(
        self,
        commands: Iterable[AnyCommand | Mapping[str, Any]],
        *,
        source: str = "batch",
        progress: Callable[[int], None] | None = None,
    ) -> BatchResult:
        """Record many commands of many cases in one transaction: all or nothing.

        Every item is checked; if any is bad, :class:`BatchRejected` lists each bad item's
        position and field, and nothing is recorded. ``progress`` is called with the number
        of items checked so far. The items are read as they come and the batch's memory
        does not grow with their number (see docs/bulk-import.md)."""
        recorded_at = self._now()
        self._held.held()  # read before the batch's transaction opens (in memory, none other may)
        results = _Results()
        errors: list[BatchItemError] = []
        repeats: list[tuple[int, str, str, int]] = []  # position, stream, command id, version
        with collector_paused(), self._store.batch_writer() as writer:
            batch = _BatchStreams(writer, limit=_HELD, events=_HELD_EVENTS, chunk=_WRITE_ROWS)
            for position, command in self._checked(commands, recorded_at, batch, errors):
                if position % _YOUNG_EVERY == 0:
                    gc.collect(1)  # the batch's own cyclic garbage, if any: the young only
                stream_id = command.stream_id
                held = batch.held(stream_id)
                try:
                    seen = held.ours.get(command.command_id)
                    if seen is not None:
                        repeats.append((position, stream_id, command.command_id, seen))
                        batch.writing = False
                        continue
                    result, stream = self._apply(held.stream, command, recorded_at, None, batch)
                    stream.lean()  # the events it records are not kept in it
                    held.stream = stream
                    held.ours[command.command_id] = -position
                    results.append(result)
                    batch.add_rows(stream_id, stream.collect_rows())
                except StoreError:  # the store failed, not the item: said once, for the batch
                    raise
                except CaseLedgerError as error:
                    errors.extend(_item_errors(position, error))
                    held.ours.setdefault(command.command_id, -position)  # a repeat is refused
                    batch.writing = False  # what is written now would be rolled back
                if progress is not None:
                    progress(position)
            if errors or repeats:
                errors += _repeat_errors(repeats, results, errors)
                errors.sort(key=lambda e: e.position)  # a chunk's bad forms were found first
                raise BatchRejected(errors, source=source)  # the transaction rolls back
            batch.finish()
        self._saved(writer.written, list(batch.packs.values()))
        return BatchResult(results)

    def _checked(
        self,
        commands: Iterable[AnyCommand | Mapping[str, Any]],
        recorded_at: dt.datetime,
        batch: _BatchStreams,
        errors: list[BatchItemError],
    ) -> Iterator[tuple[int, AnyCommand]]:
        """The batch's commands with their positions, each validated once, a chunk at a
        time: the streams of a chunk the batch does not hold are read in one query. A
        command that does not validate goes to ``errors`` instead."""
        chunk: list[tuple[int, AnyCommand]] = []
        for position, item in enumerate(commands, start=1):
            try:
                command = _as_command(item)
                self._check_not_future(command, recorded_at)
                chunk.append((position, command))
            except CaseLedgerError as error:
                errors.extend(_item_errors(position, error))
                batch.writing = False
            if len(chunk) == _CHUNK:
                batch.prefetch(c.stream_id for _, c in chunk)
                yield from chunk
                chunk = []
        batch.prefetch(c.stream_id for _, c in chunk)
        yield from chunk

    # -- reading -------------------------------------------------------------------------
    def case(self, case_no: str, *, as_of: dt.datetime | None = None) -> Case:
        """The case's state now, or as it stood at business time ``as_of``."""
        _not_a_project(case_no)
        case = self._store.load(case_no)
        if case is None:
            raise CaseNotFound(case_no)
        return case if as_of is None else _as_of(case, as_of, _case_missing(case_no))

    def history(self, case_no: str) -> list[RecordedEvent]:
        """Every event of the case, in order."""
        return list(self.case(case_no).events)

    def case_numbers(self) -> list[str]:
        """Every case number, in the order the cases were first recorded (every case
        committed, even while the board cannot read it yet)."""
        seen: dict[str, None] = {}
        for notification in self._store.notifications(settled=False):
            seen.setdefault(str(notification.originator_id), None)
        return [stream for stream in seen if is_case_stream(stream)]

    def cases(self) -> Iterator[Case]:
        """Every case's current state, in the order the cases were first recorded."""
        for case_no in self.case_numbers():
            yield self.case(case_no)

    def project(self, project_no: str, *, as_of: dt.datetime | None = None) -> Project:
        """The parallel-approval project's state now, or as it stood at ``as_of``."""
        project = self._store.load_project(project_no)
        if project is None:
            raise ProjectNotFound(project_no)
        return project if as_of is None else _as_of(project, as_of, _project_missing(project_no))

    def project_numbers(self) -> list[str]:
        """Every parallel-approval project's number, in the order they were registered."""
        return self._store.project_numbers()

    # -- supervision ---------------------------------------------------------------------
    def evaluate(
        self, case_no: str, as_of: dt.datetime, *, judge_under: str = "recorded"
    ) -> CaseEvaluation:
        """How the case stood at ``as_of`` under its pack: clock, light, violations, sanctions,
        and the explanation (``.explain()``, ``.as_dict()``).

        ``judge_under``: ``"recorded"``, the pack version the case was accepted under, read
        from the ledger whatever is installed; ``"installed"``, the installed version of its
        pack; ``"NAME@VERSION"``, that version for the cases of NAME (and of the packs that
        extend it). The evaluation says which (``judged_under``)."""
        _not_a_project(case_no)
        facts = self._facts(case_no, as_of, _case_missing(case_no))
        packs = self.judging_packs
        if judge_under != "recorded":
            packs = packs.judging(judge_under=judge_under)
        try:
            return evaluate(case_no, facts, packs, as_of, default_pack=self.default_pack)
        except RecordedPackMissing as error:
            raise RecordedPackMissing(
                error.name, error.version, error.content_hash, case_no
            ) from None

    def evaluate_project(self, project_no: str, as_of: dt.datetime) -> ProjectEvaluation:
        """How the parallel-approval project stood at ``as_of``: its overall deadline, light,
        violations, sanctions, stages and the light of each of its cases, and why."""
        facts = self._facts(project_stream(project_no), as_of, _project_missing(project_no))
        cases: dict[str, CaseEvaluation | None] = {}
        linked = (f.get("case_no") for f in facts if f.type == "case_linked")
        for case_no in linked:
            try:
                cases[case_no] = self.evaluate(case_no, as_of)
            except CaseNotFound:  # linked before it was received (or received later)
                cases[case_no] = None
        return evaluate_project(project_no, facts, cases, self.packs, as_of)

    def projects(self, as_of: dt.datetime) -> list[ProjectEvaluation]:
        """Every project registered by ``as_of``, evaluated at ``as_of``, worst first (red,
        then yellow, then green; the earliest deadline first)."""
        self.packs.check_day(as_of.astimezone(CHINA_TIME).date())
        evaluations = []
        for project_no in self.project_numbers():
            try:
                evaluations.append(self.evaluate_project(project_no, as_of))
            except ProjectNotFound:  # registered after as_of
                continue
        far = dt.date.max
        return sorted(evaluations, key=lambda e: (-e.light.rank, e.deadline or far, e.project_no))

    @property
    def read_models(self) -> BoardProjection:
        """The board read model, kept in this ledger's database."""
        with self._board_lock:
            if self._board is None:
                self._board = BoardProjection(self._store, self.judging_packs, self.default_pack)
        return self._board

    def catch_up(self) -> int:
        """Apply the events recorded since the read models last caught up; returns how many.
        Threads of one process catch up one at a time (two at once would write the same rows:
        on PostgreSQL, a deadlock)."""
        with self._catch_up_lock:
            return self.read_models.catch_up()

    def follow(self, stop: threading.Event) -> int:
        """Keep the read models up to date until ``stop`` is set (push on PostgreSQL, polling
        on SQLite); returns the events applied."""
        return self.read_models.follow(stop)

    def rebuild_read_models(self) -> int:
        """Clear the read models and replay the whole log; returns the events applied."""
        return self.read_models.rebuild()

    def board(
        self,
        as_of: dt.date,
        *,
        department: str | None = None,
        window: str | None = None,
        item: str | None = None,
        limit: int | None = None,
    ) -> Board:
        """Open cases that are yellow or red on ``as_of``, worst first (after a catch-up)."""
        self.packs.check_day(as_of)
        self.catch_up()
        return board(
            self.read_models, as_of, department=department, window=window, item=item, limit=limit
        )

    def statistics(
        self, as_of: dt.date, *, by: Grouping = "department", since: dt.date | None = None
    ) -> list[StatRow]:
        """Received, finished, on time, early, overdue, average working days, by ``by``."""
        self.packs.check_day(as_of)
        self.catch_up()
        return statistics(self.read_models, as_of, by=by, since=since)

    def scores(
        self, as_of: dt.date, *, by: Literal["department", "window"] = "department"
    ) -> list[ScoreRow]:
        """Sanctions up to ``as_of`` rolled up per department or window."""
        self.packs.check_day(as_of)
        self.catch_up()
        return scores(self.read_models, as_of, by=by)

    # -- rule-pack versions (issue 12) ---------------------------------------------------
    def what_if(
        self,
        pack: RulePack | str,
        *,
        as_of: dt.datetime,
        cases: Iterable[str] | None = None,
        department: str | None = None,
        item: str | None = None,
        workers: int | None = None,
    ) -> WhatIfReport:
        """Re-judge the recorded cases (``cases``, or those received by ``department``, of
        ``item``; all by default) at ``as_of`` under ``pack`` (a :class:`RulePack`, e.g. of a
        folder being written, or ``NAME@VERSION`` installed or held) in the place of the
        pack of its name, and report what changes against their recorded judgement.
        Records nothing."""
        label = None
        if isinstance(pack, str):
            label = pack
            pack = self.pack_version(pack)
        return what_if(
            self._store,
            self.judging_packs,
            pack,
            as_of,
            cases=cases,
            department=department,
            item=item,
            default_pack=self.default_pack,
            label=label,
            workers=workers,
        )

    # -- auditing ------------------------------------------------------------------------
    def verify(
        self,
        *,
        seal: Seal | None = None,
        checkpoint: Checkpoint | None = None,
        key: VerifierKey | None = None,
    ) -> VerificationReport:
        """Check every case's hash chain (and, given a seal, that nothing sealed is gone).
        Given the ledger's verifier ``key``, also check the whole log against ``checkpoint``
        (default: the last one kept in the database), naming each event altered, deleted,
        moved or inserted since, each case deleted or cut off, or a log that forked."""
        if checkpoint is not None and key is None:
            raise KeyFileError(
                "checkpoint",
                "key",
                "a checkpoint is checked with the ledger's verifier key: give key=",
            )
        if key is not None and checkpoint is None:
            checkpoint = self.latest_checkpoint()
            if checkpoint is None:
                raise KeyFileError(
                    "the ledger",
                    "checkpoint",
                    "none kept yet: take one with "
                    "ledger.checkpoint(signer) or `caseledger checkpoint`",
                )
        return verify_store(self._store, seal=seal, checkpoint=checkpoint, key=key)

    def checkpoint(self, signer: Signer) -> Checkpoint:
        """Sign the tree's size and root with ``signer`` (the ledger's private key, kept
        outside the database), keep the checkpoint in the database and return it. A ledger
        that does not verify, or no longer extends its last checkpoint, is not signed."""
        return take_checkpoint(self._store, signer)

    def latest_checkpoint(self) -> Checkpoint | None:
        """The last checkpoint kept in the database (None before the first)."""
        return latest_checkpoint(self._store)

    def receipt(self, case_no: str, checkpoint: Checkpoint | None = None) -> bytes:
        """The case's receipt (回执, JSON): its events, their leaf indexes and inclusion
        proofs against ``checkpoint`` (default: the last kept), which it carries."""
        chosen = checkpoint or self.latest_checkpoint()
        if chosen is None:
            raise KeyFileError("the ledger", "checkpoint", "none kept yet: take one first")
        if self._store.load_stream(case_no) is None:  # a case's, or a project's ('#...')
            raise CaseNotFound(case_no)
        return receipt(self._store, case_no, chosen, source="checkpoint")

    def consistency(self, old: Checkpoint, new: Checkpoint | None = None) -> bytes:
        """The proof (JSON) that the log of ``new`` (default: the last kept) extends ``old``'s."""
        chosen = new or self.latest_checkpoint()
        if chosen is None:
            raise KeyFileError("the ledger", "checkpoint", "none kept yet: take one first")
        return consistency_file(self._store, old, chosen)

    def seal(self) -> Seal:
        """A seal of every case's head, to keep outside the database and verify against."""
        return take_seal(self._store, sealed_at=self._now())

    # -- internals -----------------------------------------------------------------------
    def _extend_tree(self, recorded: int, *, now: bool = False) -> None:
        """Extend the Merkle tree over the log once ``TREE_EVERY`` events were recorded here
        since it last was (and on closing), in a transaction of its own after the writes'
        own committed: a transaction per write would cost each write a second commit (a
        second fsync), a batch of them costs it 1/TREE_EVERY of one. Checkpoints and
        receipts extend it first, over every event, whoever recorded it. Should it fail, the
        events stay recorded and the next extension covers them: the failure is not the
        command's."""
        self._untreed += recorded
        if self._tree is not None and (now or self._untreed >= TREE_EVERY):
            with contextlib.suppress(StoreError):
                self._tree.extend()
                self._untreed = 0

    def _now(self) -> dt.datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the ledger's clock must return timezone-aware datetimes")
        return now

    def _check_not_future(self, command: AnyCommand, recorded_at: dt.datetime) -> None:
        bound = self._future_bound
        if bound[0] is not recorded_at or bound[1] != self._max_skew:  # once a batch
            bound = self._future_bound = (
                recorded_at,
                self._max_skew,
                recorded_at.astimezone(dt.UTC) + self._max_skew,
            )
        # an instant against one in UTC: compared as instants, whatever the command's zone
        if command.at > bound[2]:
            raise InvalidCommand(
                [
                    (
                        "at",
                        f"{command.at.isoformat()} is in the future (recording at "
                        f"{recorded_at.isoformat()}); record events after they happen",
                    )
                ]
            )

    def _save(self, streams: list[EventStream]) -> None:
        """Save the pending events of ``streams``; new pack versions are read again after."""
        self._saved(self._store.save_cases(streams), streams)

    def _saved(self, recorded: int, streams: Sequence[EventStream]) -> None:
        """After ``recorded`` events of ``streams`` were saved: new pack versions are read
        again, and the Merkle tree is extended when its turn comes."""
        if any(isinstance(s, PackVersion) for s in streams):
            self._held.refresh()
        self._extend_tree(recorded)

    def _load(self, command: AnyCommand) -> EventStream | None:
        return self._store.load_stream(command.stream_id)

    def _facts(self, stream_id: str, as_of: dt.datetime, missing: Missing) -> list[Fact]:
        """The facts of the stream that had happened by ``as_of``, from its stored rows (the
        one road from stored bytes to judging, :func:`facts_of`)."""
        facts = facts_of(stream_id, self._store.stream_rows(stream_id), self._store.decoder)
        if not facts:
            raise missing("")
        known = list(happened_by(facts, as_of))
        if not known:
            raise missing(_began_after(facts[0].type, as_of))
        return known

    def _apply(
        self,
        stream: EventStream | None,
        command: AnyCommand,
        recorded_at: dt.datetime,
        expected_version: int | None,
        batch: dict[str, EventStream | None],
    ) -> tuple[RecordResult, EventStream]:
        if stream is not None:
            prior = stream.prior(_as_recorded(command, stream))
            if prior is not None:
                return RecordResult.of(prior, already_recorded=True), stream
        current = 0 if stream is None else stream.version
        if expected_version is not None and expected_version != current:
            raise ConcurrencyConflict(command.stream_id, expected_version, current)
        # the lifecycle first, once: a command that cannot happen now is refused for that,
        # whatever its pack or item would say
        if stream is None:
            kind: type[EventStream] = stream_kind(command.stream_id)
            kind.check_start(command)
            stream = kind.empty(command.stream_id)
        else:
            stream.check(command)
        command = self._check_rules(command, batch, recorded_at)
        event = stream.append(command, recorded_at=recorded_at)
        return RecordResult.of(event, already_recorded=False), stream

    def _check_rules(
        self, command: AnyCommand, batch: dict[str, EventStream | None], recorded_at: dt.datetime
    ) -> AnyCommand:
        """An accepted case (or a registered project) must name an installed pack, a case
        its item of the pack's catalogue; a linked case must be in the ledger. An acceptance
        is returned with its pack's version and content hash, and the pack versions this
        ledger does not hold yet are added to ``batch`` (their streams), to save with it."""
        body = command.event
        if not isinstance(body, _RULED):
            return command
        if isinstance(body, ProjectRegistered):
            self.packs.get(body.rule_pack)
            return command
        if isinstance(body, CaseLinked):
            if batch.get(body.case_no) is None and self._store.load(body.case_no) is None:
                raise CaseNotFound(body.case_no, hint="record its 'received' event before linking")
            return command
        if not isinstance(body, Accepted) or not isinstance(command, Command):
            return command
        pack = self._acceptance_pack(body)
        on = pack.local_date(command.at)
        if not pack.knows_item(body.item_code, on):
            codes = [code for layer in pack.lineage() for code in layer.data.items]
            near = difflib.get_close_matches(body.item_code, codes, n=3)
            raise UnknownItem(pack.name, body.item_code, on, near=near)
        for layer in reversed(list(pack.lineage())):  # the root (the baseline) first
            stream_id = "@" + layer.content_hash
            if batch.get(stream_id) is not None or self._held.knows(layer.content_hash):
                continue
            content = PackContent.of(layer)  # made only for a version not held yet
            recorded = PackRecorded.model_validate(
                {**content.body(), "first_case": command.case_no}
            )
            pack_command = PackCommand(
                command_id=f"pack-{content.content_hash[:32]}",
                at=command.at,
                actor=command.actor,
                event=recorded,
            )
            batch[stream_id] = PackVersion.start(pack_command, recorded_at=recorded_at)
        stamp = {"rule_pack_version": pack.version, "rule_pack_hash": pack.content_hash}
        return updated(command, {"event": updated(body, stamp)})

    def _acceptance_pack(self, body: Accepted) -> RulePack:
        """The pack version an acceptance is recorded under: the installed one, unless the
        command names a version (or hash) this ledger holds (a held one needs no install)."""
        wanted_hash, wanted = body.rule_pack_hash, body.rule_pack_version
        if wanted_hash is not None:
            if body.rule_pack in self.packs:
                installed = self.packs.get(body.rule_pack)
                if installed.content_hash == wanted_hash:
                    return installed
            found = self._held.pack(wanted_hash)
            if found is None or found.name != body.rule_pack:
                raise RecordedPackMissing(body.rule_pack, wanted, wanted_hash)
            return found
        installed = self.packs.get(body.rule_pack)
        if wanted in (None, installed.version):
            return installed
        return self.judging_packs.version(f"{body.rule_pack}@{wanted}")


_RULED = (Accepted, CaseLinked, ProjectRegistered)
"""The event types whose commands the rule packs or the ledger check (``_check_rules``)."""

S = TypeVar("S", Case, Project)
Missing = Callable[[str], CaseLedgerError]
"""Makes the error for a stream that is not there (``CaseNotFound``...) with a hint."""


def _as_of(stream: S, as_of: dt.datetime, missing: Missing) -> S:
    """The stream as it stood at business time ``as_of``: its events that had happened by
    then, folded again."""
    earlier = happened_by(stream.events, as_of)
    if earlier is stream.events:
        return stream
    if not earlier:
        raise missing(_began_after(stream.events[0].type, as_of))
    replayed = type(stream).replay(None, earlier)
    assert replayed is not None
    return replayed


def _began_after(first_type: str, as_of: dt.datetime) -> str:
    verb = "registered" if first_type == "project_registered" else "received"
    return f"it was {verb} after {as_of.isoformat()}"


def _case_missing(case_no: str) -> Missing:
    return lambda hint: CaseNotFound(case_no, hint=hint)


def _project_missing(project_no: str) -> Missing:
    return lambda hint: ProjectNotFound(project_no, hint=hint)


def _as_recorded(command: AnyCommand, stream: EventStream) -> AnyCommand:
    """A retried acceptance as it was recorded: with the pack version and hash the ledger
    gave it, when the retry leaves them out (as the first try did)."""
    body = command.event
    if not isinstance(body, Accepted) or body.rule_pack_hash is not None:
        return command
    for event in stream.events:
        if event.command_id == command.command_id and isinstance(event.event, Accepted):
            first = event.event
            if body.rule_pack_version in (None, first.rule_pack_version):
                stamp = {"rule_pack_version": first.rule_pack_version,
                         "rule_pack_hash": first.rule_pack_hash}  # fmt: skip
                return command.model_copy(update={"event": body.model_copy(update=stamp)})
    return command


def _not_a_project(case_no: str) -> None:
    if is_project_stream(case_no):
        raise CaseNotFound(case_no, hint="that is a project's stream: use project()")


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    """pydantic's errors as ``(field path, message)`` pairs (with "did you mean")."""
    return command_problems(error)


def _as_command(item: AnyCommand | Mapping[str, Any]) -> AnyCommand:
    if isinstance(item, Command | ProjectCommand):
        return item
    if not isinstance(item, Mapping):
        raise InvalidCommand([("", f"a command is a mapping, not {type(item).__name__}")])
    try:
        return parse_command(item)
    except ValidationError as error:
        raise InvalidCommand(problems_of(error)) from error
    except TypeError as error:  # a value JSON cannot hold (a set, a Decimal, an object)
        raise InvalidCommand([("", f"not a JSON value: {error}")]) from error


def _repeat_errors(
    repeats: list[tuple[int, str, str, int]], results: _Results, errors: list[BatchItemError]
) -> list[BatchItemError]:
    """The errors of items repeating an earlier item's command id: each names the earlier
    item, known by its position (negative ``seen``) or, when its stream was read back from
    the database, by the version it recorded (its position found among the results)."""
    by_version = {(stream, seen) for _, stream, _, seen in repeats if seen > 0}
    index = results.index_of(by_version) if by_version else {}
    failed = sorted({e.position for e in errors} | {position for position, *_ in repeats})
    positions = _positions(sorted(index.values()), failed)
    found = []
    for position, stream, command_id, seen in repeats:
        first = -seen if seen < 0 else positions.get(index.get((stream, seen), -1), 0)
        found.append(
            BatchItemError(
                position,
                "command_id",
                f"{command_id!r} of {stream!r} is already item {first} of this batch; give "
                "each command its own id, or remove the repeat",
            )
        )
    return found


def _positions(indexes: list[int], failed: list[int]) -> dict[int, int]:
    """The position of each result of ``indexes`` (ascending): the results are the items
    in order, but for the ``failed`` positions (ascending)."""
    found, skipped = {}, 0
    for index in indexes:
        position = index + 1 + skipped
        while skipped < len(failed) and failed[skipped] <= position:
            skipped += 1
            position += 1
        found[index] = position
    return found


def _item_errors(position: int, error: CaseLedgerError) -> list[BatchItemError]:
    if isinstance(error, InvalidCommand):
        return [BatchItemError(position, path, message) for path, message in error.problems]
    return [BatchItemError(position, "", str(error))]
