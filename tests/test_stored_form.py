"""The stored form of events is schema: golden files pin it, old versions upcast."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from caseledger import Approved, StoreError
from caseledger.domain.events import STORED_EVENT_TYPES
from caseledger.store.mapper import CaseEventMapper
from tests.samples import SAMPLE_BODIES, sample_event

GOLDEN = Path(__file__).parent / "golden" / "stored_events"
mapper = CaseEventMapper()


def test_every_event_type_has_a_golden_sample() -> None:
    assert sorted(SAMPLE_BODIES) == sorted(STORED_EVENT_TYPES)
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(STORED_EVENT_TYPES)


@pytest.mark.parametrize("event_type", sorted(STORED_EVENT_TYPES))
def test_stored_form_matches_its_golden_file(event_type: str) -> None:
    stored = mapper.to_stored_event(sample_event(event_type))
    record = {
        "originator_id": stored.originator_id,
        "originator_version": stored.originator_version,
        "topic": stored.topic,
        "state": stored.state.decode(),
    }
    path = GOLDEN / f"{event_type}.json"
    text = orjson.dumps(record, option=orjson.OPT_INDENT_2).decode() + "\n"
    if os.environ.get("CASELEDGER_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, (
        f"the stored form of {event_type!r} changed; if that is intended, raise its "
        "class_version with an upcast, then regenerate with CASELEDGER_UPDATE_GOLDEN=1"
    )


@pytest.mark.parametrize("event_type", sorted(STORED_EVENT_TYPES))
def test_golden_stored_events_decode_to_the_same_event(event_type: str) -> None:
    record = orjson.loads((GOLDEN / f"{event_type}.json").read_bytes())
    stored = StoredEvent(
        originator_id=record["originator_id"],
        originator_version=record["originator_version"],
        topic=record["topic"],
        state=record["state"].encode(),
    )
    assert mapper.to_domain_event(stored) == sample_event(event_type)


def test_topics_are_fixed_names_not_module_paths() -> None:
    for event_type in STORED_EVENT_TYPES:
        topic = mapper.to_stored_event(sample_event(event_type)).topic
        assert topic == event_type and "." not in topic and ":" not in topic


def _rename_decision_number(state: dict[str, Any]) -> None:
    state["decision_no"] = state.pop("decision_number")


def test_old_class_versions_are_upcast_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Suppose 'approved' v1 said decision_number and v2 says decision_no."""
    monkeypatch.setattr(Approved, "class_version", 2)
    monkeypatch.setattr(
        Approved, "upcast_v1_v2", staticmethod(_rename_decision_number), raising=False
    )
    old = orjson.loads((GOLDEN / "approved.json").read_bytes())
    state = orjson.loads(old["state"])
    state["event"]["decision_number"] = state["event"].pop("decision_no")
    stored = StoredEvent("QZ-2026-000001", 3, "approved", orjson.dumps(state))
    decoded = mapper.to_domain_event(stored)
    assert decoded.event == sample_event("approved").event
    # new events of this type are stored with their class version, as eventsourcing does
    assert orjson.loads(mapper.to_stored_event(decoded).state)["class_version"] == 2


def test_a_class_version_newer_than_known_is_a_clear_error() -> None:
    record = orjson.loads(mapper.to_stored_event(sample_event("approved")).state)
    record["class_version"] = 7
    stored = StoredEvent("QZ-1", 3, "approved", orjson.dumps(record))
    with pytest.raises(StoreError, match="class version 7, newer than this caseledger knows"):
        mapper.to_domain_event(stored)


def test_an_unknown_topic_is_a_clear_error() -> None:
    stored = StoredEvent("QZ-1", 3, "teleported", b"{}")
    with pytest.raises(StoreError, match="unknown event topic 'teleported'"):
        mapper.to_domain_event(stored)
