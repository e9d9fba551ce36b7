"""Maps recorded events to eventsourcing's stored events and back.

The topic is the event's fixed type name (``accepted``, ``clock_suspended``...), never a
module path, so moving code never orphans history. The state is the event's
``stored_state()``; ``class_version`` is kept in it when above 1 and stored states of older
versions are upcast on the way back, step by step, through the body class's
``upcast_vN_vN+1`` static methods, as eventsourcing's own mapper does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Cipher, Compressor, Mapper, StoredEvent, Transcoder
from pydantic import ValidationError

from caseledger.domain.events import upcast
from caseledger.domain.records import RecordedEvent
from caseledger.errors import StoreError
from caseledger.store.transcoder import OrjsonTranscoder

__all__ = ["CaseEventMapper", "decode_state"]


class CaseEventMapper(Mapper[str]):
    """eventsourcing ``Mapper`` for :class:`RecordedEvent`."""

    def __init__(
        self,
        transcoder: Transcoder | None = None,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        super().__init__(transcoder or OrjsonTranscoder(), compressor, cipher)

    @property
    def plain(self) -> bool:
        """Whether stored states are plain JSON of orjson's (no cipher, no compressor): then
        a state is stored as :class:`OrjsonTranscoder` encodes it, byte for byte."""
        return not self.cipher and not self.compressor and type(self.transcoder) is OrjsonTranscoder

    def to_stored_event(self, domain_event: DomainEventProtocol[str]) -> StoredEvent:
        if not isinstance(domain_event, RecordedEvent):
            msg = f"caseledger stores RecordedEvent objects, not {type(domain_event).__name__}"
            raise TypeError(msg)
        data = self.transcoder.encode(domain_event.stored_state())
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=domain_event.case_no,
            originator_version=domain_event.version,
            topic=domain_event.type,
            state=data,
        )

    def decode_bytes(self, stored_event: StoredEvent) -> dict[str, Any]:
        """The stored state as written, before any upcasting."""
        return self.decode_data(
            stored_event.originator_id, stored_event.originator_version, stored_event.state
        )

    def decode_data(self, case_no: Any, version: int, data: bytes) -> dict[str, Any]:
        """The state stored as ``data`` for a case's ``version``, before any upcasting."""
        try:
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            state = self.transcoder.decode(data)
        except Exception as error:
            raise StoreError(
                f"case {case_no!r} version {version}: stored state is not readable: {error}"
            ) from error
        if not isinstance(state, dict):
            raise StoreError(
                f"case {case_no!r} version {version}: stored state is not a JSON object"
            )
        return state

    def data_decoder(self) -> Callable[[Any, int, bytes], dict[str, Any]]:
        """:meth:`decode_data`, straight through orjson when the data is plain JSON (no
        cipher, no compressor): what a rebuild calls for every event. Anything orjson cannot
        read, or that is not an object, goes to :meth:`decode_data` for its error."""
        if not self.plain:
            return self.decode_data
        loads, slow = orjson.loads, self.decode_data

        def decode(case_no: Any, version: int, data: bytes) -> dict[str, Any]:
            try:
                state = loads(data)
            except Exception:  # decode_data raises the error ledgers report
                return slow(case_no, version, data)
            return state if type(state) is dict else slow(case_no, version, data)

        return decode

    def to_domain_event(self, stored_event: StoredEvent) -> RecordedEvent:
        state = self.decode_bytes(stored_event)
        return decode_state(
            str(stored_event.originator_id),
            stored_event.originator_version,
            stored_event.topic,
            state,
        )


def decode_state(case_no: str, version: int, topic: str, state: dict[str, Any]) -> RecordedEvent:
    """Build the :class:`RecordedEvent` from a stored state, upcasting old versions."""
    where = f"case {case_no!r} version {version}"
    state = dict(state)
    body = state.pop("event", {})
    from_version = state.pop("class_version", 1)
    if not isinstance(body, dict) or not isinstance(from_version, int):
        raise StoreError(f"{where}: stored state is malformed (event or class_version)")
    try:
        body = upcast(topic, body, from_version)
    except ValueError as error:
        raise StoreError(f"{where}: {error}") from error
    try:
        return RecordedEvent.model_validate(
            {**state, "case_no": case_no, "version": version, "event": {**body, "type": topic}}
        )
    except ValidationError as error:
        raise StoreError(f"{where}: stored state does not decode: {error}") from error
