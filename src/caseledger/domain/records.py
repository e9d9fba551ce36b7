"""Commands (what a caller asks to record) and recorded events (what the ledger keeps).

A :class:`Command` is one event as the caller states it: the case, an idempotency key,
when it happened (business time), who did it, and what happened. A :class:`RecordedEvent`
adds its place in the case's stream (``version``), when it was recorded, and the hash
chain: ``prev_hash`` is the hash of the case's previous event and ``hash`` commits to this
event's whole stored content (see :mod:`caseledger.domain.chain`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field

from caseledger.domain.chain import GENESIS_HASH, event_hash
from caseledger.domain.events import EVENT_TYPES, AnyEvent
from caseledger.domain.values import Actor, CaseNo, CommandId, Frozen

__all__ = ["Command", "RecordedEvent"]

HexDigest = str


EARLIEST_YEAR, LATEST_YEAR = 1950, 2100
"""Business and recording times must fall in these years (a typo like 0026 is refused)."""


def _whole_minute_offset(moment: dt.datetime) -> dt.datetime:
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(
            f"year {moment.year} is outside {EARLIEST_YEAR}..{LATEST_YEAR}; check the date"
        )
    offset = moment.utcoffset()
    if offset is not None and offset % dt.timedelta(minutes=1):
        raise ValueError(
            f"the UTC offset {offset} has seconds; give an offset in whole minutes, e.g. +08:00"
        )
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_whole_minute_offset)]
"""A timezone-aware time whose offset is whole minutes (ISO 8601 can store it exactly)."""


class Command(Frozen):
    """Record that ``event`` happened to case ``case_no`` at ``at``, done by ``actor``."""

    case_no: CaseNo
    command_id: CommandId
    at: Moment = Field(description="Business time, timezone-aware.")
    actor: Actor
    event: AnyEvent

    @property
    def type(self) -> str:
        return self.event.type


class RecordedEvent(Frozen):
    """One event of a case's stream, as stored, with its place in the hash chain."""

    case_no: CaseNo
    version: int = Field(ge=1)
    command_id: CommandId
    at: Moment
    actor: Actor
    event: AnyEvent
    recorded_at: Moment
    prev_hash: HexDigest = Field(pattern=r"^[0-9a-f]{64}$")
    hash: HexDigest = Field(pattern=r"^[0-9a-f]{64}$")

    # eventsourcing's DomainEventProtocol
    @property
    def originator_id(self) -> str:
        return self.case_no

    @property
    def originator_version(self) -> int:
        return self.version

    @property
    def type(self) -> str:
        return self.event.type

    @classmethod
    def chain(
        cls,
        command: Command,
        *,
        version: int,
        prev_hash: HexDigest,
        recorded_at: dt.datetime,
    ) -> RecordedEvent:
        """The event ``command`` becomes as version ``version``, linked to ``prev_hash``."""
        draft = cls.model_construct(
            case_no=command.case_no,
            version=version,
            command_id=command.command_id,
            at=command.at,
            actor=command.actor,
            event=command.event,
            recorded_at=recorded_at,
            prev_hash=prev_hash,
            hash=GENESIS_HASH,
        )
        state = draft.stored_state(include_hash=False)
        digest = event_hash(command.case_no, version, command.event.type, state)
        return cls.model_validate({**draft.__dict__, "hash": digest})

    def stored_state(self, *, include_hash: bool = True) -> dict[str, Any]:
        """The JSON-ready state stored for this event: everything but the case number, the
        version and the type, which the store keeps as originator id, version and topic."""
        body = self.event.model_dump(mode="json", exclude={"type"})
        state: dict[str, Any] = {
            "command_id": self.command_id,
            "at": _iso(self.at),
            "actor": self.actor.model_dump(mode="json"),
            "recorded_at": _iso(self.recorded_at),
            "prev_hash": self.prev_hash,
            "event": body,
        }
        class_version = EVENT_TYPES[self.event.type].class_version
        if class_version > 1:
            state["class_version"] = class_version
        if include_hash:
            state["hash"] = self.hash
        return state

    def command(self) -> Command:
        """The command that recorded this event (used to recognise a retry)."""
        return Command(
            case_no=self.case_no,
            command_id=self.command_id,
            at=self.at,
            actor=self.actor,
            event=self.event,
        )


def _iso(moment: dt.datetime) -> str:
    """ISO 8601 with the offset as given, e.g. ``2026-03-02T09:30:00+08:00``."""
    return moment.isoformat()
