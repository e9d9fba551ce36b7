"""Facts: the compact form of a case's events that projections read.

A fact is built straight from an event's stored state (JSON), upcast like the mapper does,
without building the pydantic models: rebuilding read models reads every event of the
ledger, and this keeps it fast. The same constructor serves one case's explanation and the
whole ledger's rebuild, so both judge from identical inputs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import orjson

from caseledger.domain.events import STORED_EVENT_TYPES
from caseledger.domain.records import RecordedEvent
from caseledger.domain.vocabulary import CaseKind

__all__ = ["Fact", "case_kind", "fact_from_event", "fact_from_state", "fact_from_stored"]


class Fact(NamedTuple):
    """One event as projections see it (a named tuple: rebuilds make millions of them)."""

    version: int
    type: str
    at: dt.datetime
    person: str
    role: str
    department: str
    window: str | None
    body: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)


def fact_from_state(version: int, topic: str, state: dict[str, Any]) -> Fact:
    """A fact from a stored state (as decoded JSON)."""
    body = state.get("event") or {}
    stored_version = state.get("class_version", 1)
    body_class = STORED_EVENT_TYPES[topic]
    if stored_version < body_class.class_version:
        body = dict(body)  # upcast a copy, never the caller's state
        while stored_version < body_class.class_version:
            getattr(body_class, f"upcast_v{stored_version}_v{stored_version + 1}")(body)
            stored_version += 1
    actor = state["actor"]
    # positional, in the order of Fact's fields: a rebuild makes one per event
    return _fact(
        (
            version,
            topic,
            _moment(state["at"]),
            actor["person"],
            actor["role"],
            actor["department"],
            actor.get("window"),
            body,
        )
    )


_fact = Fact._make
_moment = dt.datetime.fromisoformat
_KINDS = {kind.value: kind for kind in CaseKind}


def case_kind(value: str) -> CaseKind:
    """``CaseKind(value)``, by a look-up (judging a case asks for it several times)."""
    kind = _KINDS.get(value)
    return kind if kind is not None else CaseKind(value)  # which names what is wrong


def fact_from_stored(version: int, topic: str, data: bytes) -> Fact:
    """A fact from the stored bytes of an event (no cipher or compressor)."""
    return fact_from_state(version, topic, orjson.loads(data))


def fact_from_event(event: RecordedEvent) -> Fact:
    """A fact from a recorded event, through its stored form."""
    return fact_from_state(event.version, event.type, event.stored_state())
