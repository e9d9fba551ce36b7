"""Facts: the compact form of a stream's events that judging reads.

There is one road from what is stored to what is judged: :func:`facts_of` turns a stream's
stored rows (version, topic, bytes) into its facts, through the store's decoder and the one
upcaster (:func:`caseledger.domain.events.upcast`), without building the pydantic models.
Evaluating a case, rebuilding the read models and re-judging recorded history all call it,
so they judge from identical inputs. :func:`fact_from_event` serves events that were never
stored (a scenario's case) through the same constructor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from caseledger.domain.events import upcast
from caseledger.domain.records import RecordedEvent
from caseledger.domain.vocabulary import CaseKind
from caseledger.errors import StoreError

__all__ = ["Decoder", "Fact", "case_kind", "fact_from_event", "fact_from_state", "facts_of"]

Decoder = Callable[[Any, int, bytes], dict[str, Any]]
"""Stored bytes of a stream's version to its state (``CaseStore.decoder``)."""


class Fact(NamedTuple):
    """One event as judging sees it (a named tuple: rebuilds make millions of them)."""

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


def facts_of(stream_id: str, rows: Iterable[tuple[int, str, bytes]], decode: Decoder) -> list[Fact]:
    """The facts of stream ``stream_id`` from its stored rows (version, topic, bytes), in
    order; a row that does not decode or upcast is a :class:`StoreError` naming it."""
    facts = []
    for version, topic, data in rows:
        try:
            facts.append(fact_from_state(version, topic, decode(stream_id, version, data)))
        except (ValueError, KeyError, TypeError) as error:
            raise StoreError(
                f"case {stream_id!r} version {version}: stored state does not decode: {error}"
            ) from error
    return facts


def fact_from_state(version: int, topic: str, state: dict[str, Any]) -> Fact:
    """A fact from a stored state (as decoded JSON), upcast to the current class version."""
    body = upcast(topic, state.get("event") or {}, state.get("class_version", 1))
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


def fact_from_event(event: RecordedEvent) -> Fact:
    """A fact from a recorded event, through its stored form."""
    return fact_from_state(event.version, event.type, event.stored_state())
