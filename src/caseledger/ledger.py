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

import datetime as dt
import difflib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from pydantic import ValidationError

from caseledger.audit.seal import Seal, take_seal
from caseledger.audit.verify import VerificationReport, verify_store
from caseledger.domain.case import Case
from caseledger.domain.events import Accepted
from caseledger.domain.records import Command, RecordedEvent
from caseledger.errors import (
    BatchItemError,
    BatchRejected,
    CaseLedgerError,
    CaseNotFound,
    ConcurrencyConflict,
    InvalidCommand,
    UnknownItem,
)
from caseledger.projections.board import BoardProjection
from caseledger.projections.evaluation import DEFAULT_PACK, CaseEvaluation, evaluate
from caseledger.projections.facts import fact_from_event
from caseledger.projections.reports import (
    Board,
    Grouping,
    ScoreRow,
    StatRow,
    board,
    scores,
    statistics,
)
from caseledger.rules.registry import PackRegistry
from caseledger.store.event_store import CaseStore, open_store
from caseledger.store.url import DEFAULT_URL, parse_ledger_url

__all__ = ["BatchResult", "CaseLedger", "RecordResult", "problems_of"]

Clock = Callable[[], dt.datetime]


def _wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class RecordResult:
    """What a command did: the event it recorded, or (``already_recorded``) found."""

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
    ) -> None:
        self.location = parse_ledger_url(url)
        self._packs = packs
        self.default_pack = default_pack
        """The pack that judges cases not (yet) accepted under a pack of their own."""
        self._board: BoardProjection | None = None
        self._board_lock = threading.Lock()
        self._clock = clock or _wall_clock
        self._max_skew = max_clock_skew
        self._store: CaseStore = open_store(self.location)

    @property
    def packs(self) -> PackRegistry:
        """The rule packs cases are judged by (the installed ones unless given)."""
        if self._packs is None:
            self._packs = PackRegistry.discover()
        return self._packs

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
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
        self, command: Command | Mapping[str, Any], *, expected_version: int | None = None
    ) -> RecordResult:
        """Record one command, idempotently.

        A retry with the same command id and content returns the original result with
        ``already_recorded=True`` and records nothing. ``expected_version`` (the version
        the caller last saw) turns any change since then into :class:`ConcurrencyConflict`.
        """
        command = _as_command(command)
        recorded_at = self._now()
        self._check_not_future(command, recorded_at)
        case = self._store.load(command.case_no)
        result, case = self._apply(case, command, recorded_at, expected_version)
        if not result.already_recorded:
            self._store.save_cases([case])
        return result

    def record_batch(
        self,
        commands: Iterable[Command | Mapping[str, Any]],
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
        cases: dict[str, Case | None] = {}
        results: list[RecordResult] = []
        errors: list[BatchItemError] = []
        for position, item in enumerate(commands, start=1):
            try:
                command = _as_command(item)
                self._check_not_future(command, recorded_at)
                if command.case_no not in cases:
                    cases[command.case_no] = self._store.load(command.case_no)
                result, case = self._apply(cases[command.case_no], command, recorded_at, None)
                cases[command.case_no] = case
                results.append(result)
            except CaseLedgerError as error:
                errors.extend(_item_errors(position, error))
            if progress is not None:
                progress(position)
        if errors:
            raise BatchRejected(errors, source=source)
        self._store.save_cases([case for case in cases.values() if case is not None])
        return BatchResult(tuple(results))

    # -- reading -------------------------------------------------------------------------
    def case(self, case_no: str, *, as_of: dt.datetime | None = None) -> Case:
        """The case's state now, or as it stood at business time ``as_of``."""
        case = self._store.load(case_no)
        if case is None:
            raise CaseNotFound(case_no)
        if as_of is None:
            return case
        if as_of.tzinfo is None:
            raise InvalidCommand([("as_of", "give a timezone-aware moment, e.g. +08:00")])
        moment = as_of.astimezone(dt.UTC)
        earlier = [event for event in case.events if event.at.astimezone(dt.UTC) <= moment]
        if not earlier:
            raise CaseNotFound(case_no, hint=f"it was received after {as_of.isoformat()}")
        replayed = Case.replay(None, earlier)
        assert replayed is not None
        return replayed

    def history(self, case_no: str) -> list[RecordedEvent]:
        """Every event of the case, in order."""
        return list(self.case(case_no).events)

    def case_numbers(self) -> list[str]:
        """Every case number, in the order the cases were first recorded."""
        seen: dict[str, None] = {}
        for notification in self._store.notifications():
            seen.setdefault(str(notification.originator_id), None)
        return list(seen)

    def cases(self) -> Iterator[Case]:
        """Every case's current state, in the order the cases were first recorded."""
        for case_no in self.case_numbers():
            yield self.case(case_no)

    # -- supervision ---------------------------------------------------------------------
    def evaluate(self, case_no: str, as_of: dt.datetime) -> CaseEvaluation:
        """How the case stood at ``as_of`` under its pack: clock, light, violations, sanctions,
        and the explanation (``.explain()``, ``.as_dict()``)."""
        if as_of.tzinfo is None:
            raise InvalidCommand([("as_of", "give a timezone-aware moment, e.g. +08:00")])
        case = self.case(case_no, as_of=as_of)
        facts = [fact_from_event(event) for event in case.events]
        return evaluate(case_no, facts, self.packs, as_of, default_pack=self.default_pack)

    @property
    def read_models(self) -> BoardProjection:
        """The board read model, kept in this ledger's database."""
        with self._board_lock:
            if self._board is None:
                self._board = BoardProjection(self._store, self.packs, self.default_pack)
        return self._board

    def catch_up(self) -> int:
        """Apply the events recorded since the read models last caught up; returns how many."""
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
        self.catch_up()
        return board(
            self.read_models, as_of, department=department, window=window, item=item, limit=limit
        )

    def statistics(
        self, as_of: dt.date, *, by: Grouping = "department", since: dt.date | None = None
    ) -> list[StatRow]:
        """Received, finished, on time, early, overdue, average working days, by ``by``."""
        self.catch_up()
        return statistics(self.read_models, as_of, by=by, since=since)

    def scores(
        self, as_of: dt.date, *, by: Literal["department", "window"] = "department"
    ) -> list[ScoreRow]:
        """Sanctions up to ``as_of`` rolled up per department or window."""
        self.catch_up()
        return scores(self.read_models, as_of, by=by)

    # -- auditing ------------------------------------------------------------------------
    def verify(self, *, seal: Seal | None = None) -> VerificationReport:
        """Check every case's hash chain (and, given a seal, that nothing sealed is gone)."""
        return verify_store(self._store, seal=seal)

    def seal(self) -> Seal:
        """A seal of every case's head, to keep outside the database and verify against."""
        return take_seal(self._store, sealed_at=self._now())

    # -- internals -----------------------------------------------------------------------
    def _now(self) -> dt.datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the ledger's clock must return timezone-aware datetimes")
        return now

    def _check_not_future(self, command: Command, recorded_at: dt.datetime) -> None:
        if command.at.astimezone(dt.UTC) > recorded_at.astimezone(dt.UTC) + self._max_skew:
            raise InvalidCommand(
                [
                    (
                        "at",
                        f"{command.at.isoformat()} is in the future (recording at "
                        f"{recorded_at.isoformat()}); record events after they happen",
                    )
                ]
            )

    def _apply(
        self,
        case: Case | None,
        command: Command,
        recorded_at: dt.datetime,
        expected_version: int | None,
    ) -> tuple[RecordResult, Case]:
        if case is not None:
            prior = case.prior(command)
            if prior is not None:
                return RecordResult.of(prior, already_recorded=True), case
        current = 0 if case is None else case.version
        if expected_version is not None and expected_version != current:
            raise ConcurrencyConflict(command.case_no, expected_version, current)
        self._check_rules(command)
        if case is None:
            case = Case.start(command, recorded_at=recorded_at)
            event = case.events[-1]
        else:
            event = case.record(command, recorded_at=recorded_at)
        return RecordResult.of(event, already_recorded=False), case

    def _check_rules(self, command: Command) -> None:
        """An accepted case must name an installed pack and an item of its catalogue."""
        body = command.event
        if not isinstance(body, Accepted):
            return
        pack = self.packs.get(body.rule_pack)
        on = pack.local_date(command.at)
        if not pack.knows_item(body.item_code, on):
            codes = [code for layer in pack.lineage() for code in layer.data.items]
            near = difflib.get_close_matches(body.item_code, codes, n=3)
            raise UnknownItem(pack.name, body.item_code, on, near=near)


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    """pydantic's errors as ``(field path, message)`` pairs."""
    return [(".".join(str(part) for part in e["loc"]), e["msg"]) for e in error.errors()]


def _as_command(item: Command | Mapping[str, Any]) -> Command:
    if isinstance(item, Command):
        return item
    try:
        return Command.model_validate(item)
    except ValidationError as error:
        raise InvalidCommand(problems_of(error)) from error


def _item_errors(position: int, error: CaseLedgerError) -> list[BatchItemError]:
    if isinstance(error, InvalidCommand):
        return [BatchItemError(position, path, message) for path, message in error.problems]
    return [BatchItemError(position, "", str(error))]
