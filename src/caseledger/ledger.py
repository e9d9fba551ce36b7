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
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TypeVar

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
from caseledger.readmodels.projection import BoardProjection
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
from caseledger.store.event_store import CaseStore, open_store
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
    """What a batch did, one result per command in order."""

    results: tuple[RecordResult, ...]

    @property
    def recorded(self) -> int:
        return sum(not r.already_recorded for r in self.results)

    @property
    def already_recorded(self) -> int:
        return sum(r.already_recorded for r in self.results)

    @property
    def cases(self) -> int:
        return len({r.case_no for r in self.results})


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
        stream = self._store.refresh(kept) if kept is not None else self._load(command)
        packs: dict[str, EventStream | None] = {}
        result, stream = self._apply(stream, command, recorded_at, expected_version, packs)
        if not result.already_recorded:
            self._save([*(p for p in packs.values() if p is not None), stream])
        with self._recent_lock:  # kept only once saved (a failure above discards it)
            self._recent[command.stream_id] = stream
            # streams of at most 100 events cannot pass the budget (_RECENT of them hold at
            # most _RECENT_EVENTS): count the events only when a longer one is kept
            held = sum(s.version for s in self._recent.values()) if stream.version > 100 else 0
            while self._recent and (len(self._recent) > _RECENT or held > _RECENT_EVENTS):
                oldest = self._recent.pop(next(iter(self._recent)))
                held -= oldest.version
        return result

    def record_batch(
        self,
        commands: Iterable[AnyCommand | Mapping[str, Any]],
        *,
        source: str = "batch",
        progress: Callable[[int], None] | None = None,
    ) -> BatchResult:
        """Record many commands of many cases in one transaction: all or nothing.

        Every item is checked before anything is written; if any is bad,
        :class:`BatchRejected` lists each bad item's position and field, and nothing is
        recorded. ``progress`` is called with the number of items checked so far.
        """
        recorded_at = self._now()
        cases: dict[str, EventStream | None] = {}
        results: list[RecordResult] = []
        errors: list[BatchItemError] = []
        first_at: dict[tuple[str, str], int] = {}
        # a large batch keeps only what its checks read: each new event goes to ``rows`` as
        # the bytes to store, not into its stream (a repeated command id is refused here)
        lean = self._store.case_mapper.plain
        rows: dict[str, list[tuple[str, int, str, bytes]]] = {}
        for position, command in self._checked(commands, recorded_at, cases, errors):
            try:
                stream = command.stream_id
                seen = first_at.setdefault((stream, command.command_id), position)
                if seen != position:
                    raise InvalidCommand(
                        [
                            (
                                "command_id",
                                f"{command.command_id!r} of {stream!r} is already item {seen} "
                                "of this batch; give each command its own id, or remove the "
                                "repeat",
                            )
                        ]
                    )
                result, case = self._apply(cases[stream], command, recorded_at, None, cases)
                cases[stream] = case
                results.append(result)
                if lean:
                    case.lean()
                    rows.setdefault(stream, []).extend(case.collect_rows())
            except StoreError:  # the store failed, not the item: said once, for the batch
                raise
            except CaseLedgerError as error:
                errors.extend(_item_errors(position, error))
            if progress is not None:
                progress(position)
        if errors:
            errors.sort(key=lambda e: e.position)  # a chunk's bad forms were found first
            raise BatchRejected(errors, source=source)
        if lean:  # stored stream after stream, in the order the batch first names them
            for stream_id, added in cases.items():  # the pack versions its acceptances add
                if isinstance(added, PackVersion) and stream_id not in rows:
                    rows[stream_id] = added.collect_rows()
            saved = self._store.save_rows([row for s in cases for row in rows.get(s, ())])
            self._saved(saved, [s for s in cases.values() if s is not None])
        else:
            self._save([case for case in cases.values() if case is not None])
        return BatchResult(tuple(results))

    def _checked(
        self,
        commands: Iterable[AnyCommand | Mapping[str, Any]],
        recorded_at: dt.datetime,
        cases: dict[str, EventStream | None],
        errors: list[BatchItemError],
    ) -> Iterator[tuple[int, AnyCommand]]:
        """The batch's commands with their positions, each validated once, a chunk at a
        time: the streams of a chunk not yet in ``cases`` are read into it in one query. A
        command that does not validate goes to ``errors`` instead."""
        chunk: list[tuple[int, AnyCommand]] = []
        for position, item in enumerate(commands, start=1):
            try:
                command = _as_command(item)
                self._check_not_future(command, recorded_at)
                chunk.append((position, command))
            except CaseLedgerError as error:
                errors.extend(_item_errors(position, error))
            if len(chunk) == _CHUNK:
                cases.update(
                    self._store.load_streams(
                        c.stream_id for _, c in chunk if c.stream_id not in cases
                    )
                )
                yield from chunk
                chunk = []
        cases.update(
            self._store.load_streams(c.stream_id for _, c in chunk if c.stream_id not in cases)
        )
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


def _item_errors(position: int, error: CaseLedgerError) -> list[BatchItemError]:
    if isinstance(error, InvalidCommand):
        return [BatchItemError(position, path, message) for path, message in error.problems]
    return [BatchItemError(position, "", str(error))]
