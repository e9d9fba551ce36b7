"""The ``PackVersion`` stream: one version of a rule pack, recorded in the ledger.

A pack version's stream holds one event, ``pack_recorded``: its content (the pack's data as
validated, the recorded version it extends, its hooks' digest), addressed by its content
hash, which is also its stream id after ``@``. It is hash-chained like a case's stream, so
``verify`` and seals cover it; it is recorded once, by the acceptance that first uses the
version, in the same transaction. Nothing may follow its first event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from caseledger.domain.events import PackRecorded
from caseledger.domain.records import PACK_PREFIX, PackCommand, RecordedEvent, pack_stream
from caseledger.domain.stream import EventStream
from caseledger.errors import InvalidCommand

__all__ = ["PackVersion"]


@dataclass
class PackVersion(EventStream):
    """A recorded version of a rule pack, as its stream holds it."""

    noun: ClassVar[str] = "pack version"

    content_hash: str
    recorded: PackRecorded | None = None

    @property
    def stream_id(self) -> str:
        return pack_stream(self.content_hash)

    @classmethod
    def empty(cls, stream_id: str) -> PackVersion:
        return cls(content_hash=stream_id[len(PACK_PREFIX) :])

    @classmethod
    def check_start(cls, command: PackCommand) -> None:
        """Only ``pack_recorded`` opens a pack version's stream."""
        if not isinstance(command.event, PackRecorded):
            raise InvalidCommand([("event.type", "a pack version starts with 'pack_recorded'")])

    def check(self, command: PackCommand) -> None:
        """A pack version is recorded once: nothing follows."""
        raise InvalidCommand(
            [("event", f"pack version {self.content_hash[:16]}… is already recorded")]
        )

    def apply(self, event: RecordedEvent) -> None:
        if isinstance(event.event, PackRecorded):
            self.recorded = event.event
        self._applied(event)
