"""What every event stream (a case, a project) does the same way: idempotent retries, the
hash chain, events in business-time order, handing new events over for saving.

A command is recorded in two steps that callers may separate: the lifecycle's check
(:meth:`EventStream.check`, or :meth:`EventStream.check_start` for a stream's first event),
then :meth:`EventStream.append`, which records without checking again. ``start`` and
``record`` do both; the ledger runs its rule-pack checks between them, so each command's
lifecycle is checked once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import orjson

from caseledger.domain.chain import GENESIS_HASH
from caseledger.domain.moments import instant
from caseledger.domain.records import Command, ProjectCommand, RecordedEvent
from caseledger.errors import CommandIdReused, InvalidCommand

__all__ = ["EventStream"]


@dataclass(kw_only=True)
class EventStream:
    """The base of the aggregates (``Case``, ``Project``): the chain's head and the events."""

    noun: ClassVar[str] = "stream"
    """What the stream is, in messages ("case", "project")."""
    version: int = 0
    last_hash: str = GENESIS_HASH
    last_at: dt.datetime | None = None
    events: list[RecordedEvent] = field(default_factory=list)
    _by_command: dict[str, RecordedEvent] = field(default_factory=dict, repr=False)
    _pending: list[RecordedEvent] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        # not fields, not part of the state: the stored states of the pending events, and
        # whether events recorded from now on are kept in ``events`` (see ``lean``)
        self._pending_bytes: list[bytes] = []
        self._keeps = True

    def lean(self) -> None:
        """From now on, record without keeping the events recorded in ``events`` (nor their
        command ids for :meth:`prior`) once they are handed over: what a large batch does,
        whose streams are dropped after it and which refuses a repeated command id itself.
        The state, the head and what the checks read are kept as ever. The events recorded
        since the stream was read and not handed over yet are let go of too (still
        handed over): a batch of many new cases keeps no event of any."""
        if self._keeps:
            self._keeps = False
            for event in reversed(self._pending):
                if self.events and self.events[-1] is event:
                    self.events.pop()
                    self._by_command.pop(event.command_id, None)

    def collect_rows(self) -> list[tuple[str, int, str, bytes]]:
        """Hand over the pending events as rows to store: stream id, version, type and
        stored state (hash included) as canonical JSON
        (:func:`~caseledger.domain.chain.canonical_json`, the bytes a plain store keeps),
        made once when each was recorded, from the encoding that was hashed."""
        stored = self._pending_bytes
        return [
            (e.case_no, e.version, e.type, data)
            for e, data in zip(self.collect_events(), stored, strict=True)
        ]

    @property
    def stream_id(self) -> str:
        raise NotImplementedError

    @classmethod
    def empty(cls, stream_id: str) -> Self:
        """A new stream with no event yet."""
        raise NotImplementedError

    @classmethod
    def replay(cls, stream: Self | None, events: Iterable[RecordedEvent]) -> Self | None:
        """Fold ``events`` into ``stream`` (or into a new one); a projector for eventsourcing."""
        for event in events:
            if stream is None:
                stream = cls.empty(event.case_no)
            stream.apply(event)
        return stream

    @classmethod
    def check_start(cls, command: Any) -> None:
        """Raise if ``command`` cannot be a new stream's first event; record nothing."""
        raise NotImplementedError

    def apply(self, event: RecordedEvent) -> None:
        raise NotImplementedError

    def check(self, command: Any) -> None:
        """Raise if the stream's lifecycle refuses ``command`` now (a ``Command`` of a case,
        a ``ProjectCommand`` of a project); record nothing."""
        raise NotImplementedError

    @classmethod
    def start(cls, command: Any, *, recorded_at: dt.datetime) -> Self:
        """Open a new stream with its first event, or raise and create nothing."""
        cls.check_start(command)
        stream = cls.empty(command.stream_id)
        stream.append(command, recorded_at=recorded_at)
        return stream

    def record(self, command: Any, *, recorded_at: dt.datetime) -> RecordedEvent:
        """Record ``command`` as the next event, or raise and change nothing."""
        self.check(command)
        return self.append(command, recorded_at=recorded_at)

    def collect_events(self) -> list[RecordedEvent]:
        """Hand over the events recorded since the stream was loaded (for saving)."""
        pending, self._pending, self._pending_bytes = self._pending, [], []
        return pending

    def collect_stored(self) -> list[tuple[RecordedEvent, dict[str, Any]]]:
        """:meth:`collect_events`, each event with its stored state (hash included), read
        from the bytes made once when it was recorded (:meth:`collect_rows`): what the
        store writes."""
        stored = self._pending_bytes
        events = self.collect_events()
        return [(e, orjson.loads(data)) for e, data in zip(events, stored, strict=True)]

    def prior(self, command: Command | ProjectCommand) -> RecordedEvent | None:
        """The event this command already recorded, if it is a retry; a different command
        under a recorded command id raises :class:`CommandIdReused`."""
        recorded = self._by_command.get(command.command_id)
        if recorded is None:
            return None
        if recorded.command() != command:
            raise CommandIdReused(self.stream_id, command.command_id, recorded.version)
        return recorded

    def append(
        self, command: Command | ProjectCommand, *, recorded_at: dt.datetime
    ) -> RecordedEvent:
        """Record ``command`` as the next event, its lifecycle already checked (``check`` or
        ``check_start``); refuses only an event earlier than the stream's last."""
        if self.last_at is not None and instant(command.at) < instant(self.last_at):
            raise InvalidCommand(
                [
                    (
                        "at",
                        f"{command.at.isoformat()} is earlier than the {self.noun}'s last "
                        f"event ({self.last_at.isoformat()}); record events in the order they "
                        "happened",
                    )
                ]
            )
        event, stored = RecordedEvent.chain_stored(
            command, version=self.version + 1, prev_hash=self.last_hash, recorded_at=recorded_at
        )
        self.apply(event)
        self._pending.append(event)
        self._pending_bytes.append(stored)
        return event

    def _applied(self, event: RecordedEvent) -> None:
        """Bookkeeping after the state has folded ``event`` in."""
        self.version = event.version
        self.last_hash = event.hash
        self.last_at = event.at
        if self._keeps:
            self.events.append(event)
            self._by_command[event.command_id] = event
