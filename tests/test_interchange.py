"""The JSON Lines interchange format and its published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from caseledger import BatchItemError, BatchRejected, CaseLedger, InvalidCommand
from caseledger.demo import demo_commands
from caseledger.interchange.files import record_file
from caseledger.interchange.jsonl import dump_events, parse_lines
from caseledger.interchange.schema import interchange_schema
from tests.helpers import snapshot

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "cases.jsonl"
PUBLISHED = ROOT / "docs" / "schema" / "event-line.schema.json"


def test_the_published_schema_file_is_the_one_the_library_generates() -> None:
    assert json.loads(PUBLISHED.read_text(encoding="utf-8")) == interchange_schema(), (
        "regenerate with: caseledger schema > docs/schema/event-line.schema.json"
    )


def test_every_example_and_demo_line_validates_against_the_published_schema() -> None:
    validator = jsonschema.Draft202012Validator(interchange_schema())
    lines = [ln for ln in EXAMPLE.read_text(encoding="utf-8").splitlines() if ln.startswith("{")]
    demo = [c.model_dump(mode="json") for c in demo_commands(40)]
    for item in [json.loads(ln) for ln in lines] + demo:
        validator.validate(item)


def test_the_schema_rejects_what_the_library_rejects() -> None:
    validator = jsonschema.Draft202012Validator(interchange_schema())
    line = json.loads(EXAMPLE.read_text(encoding="utf-8").splitlines()[2])
    line["event"]["channel"] = "carrier pigeon"
    assert not validator.is_valid(line)
    line["event"]["channel"] = "window"
    line["event"]["extra"] = 1
    assert not validator.is_valid(line)


EXTENSION = {
    "type": "extended", "working_days": 5, "reason": "情况复杂",
    "approver": {"person": "H1", "role": "department_head", "department": "D1"},
}  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [("at", 1_772_413_200), ("working_days", "5"), ("working_days", True)],
)  # fmt: skip
def test_the_library_rejects_what_the_schema_rejects_a_number_for_a_moment_or_a_loose_integer(
    ledger: CaseLedger, field: str, value: object
) -> None:
    validator = jsonschema.Draft202012Validator(interchange_schema())
    line = {"case_no": "S-1", "command_id": "S-1-1", "at": "2026-03-02T09:00:00+08:00",
            "actor": {"person": "A1", "role": "window_a", "department": "D1"},
            "event": dict(EXTENSION)}  # fmt: skip
    if field == "at":
        line["at"] = value
    else:
        line["event"]["working_days"] = value  # type: ignore[index]
    assert list(validator.iter_errors(line)), "the schema accepts it"
    where = "at" if field == "at" else "event.extended.working_days"
    (problem,) = parse_lines([json.dumps(line)])
    assert isinstance(problem, BatchItemError) and problem.field == where
    before = snapshot(ledger)
    with pytest.raises(InvalidCommand) as raised:
        ledger.record(line)
    assert raised.value.problems[0][0] == where
    assert snapshot(ledger) == before


def test_a_file_with_bad_lines_is_rejected_naming_each_line_and_field(
    ledger: CaseLedger, tmp_path: Path
) -> None:
    good = EXAMPLE.read_text(encoding="utf-8").splitlines()
    bad_field = json.loads(good[5])
    del bad_field["event"]["item_code"]
    lines = [
        good[2],  # line 1: fine
        "",  # line 2: blank, skipped
        "{not json",  # line 3
        json.dumps(bad_field, ensure_ascii=False),  # line 4
        "[1, 2]",  # line 5
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(BatchRejected) as caught:
        record_file(ledger, path)
    found = [(e.position, e.field) for e in caught.value.errors]
    assert found == [(3, ""), (4, "event.accepted.item_code"), (5, "")]
    assert "not valid JSON" in str(caught.value.errors[0])
    assert snapshot(ledger) == []


def test_a_lifecycle_error_in_a_file_is_reported_by_its_line_number(
    ledger: CaseLedger, tmp_path: Path
) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    # drop the 'received' of case 101 (file line 3): its later events now fail
    path = tmp_path / "gap.jsonl"
    path.write_text("\n".join([*lines[:2], "# gap", *lines[3:]]), encoding="utf-8")
    with pytest.raises(BatchRejected) as caught:
        record_file(ledger, path)
    first = caught.value.errors[0]
    assert first.position == 4 and "starts with a 'received' event" in first.message
    assert snapshot(ledger) == []


def test_recording_the_example_file_twice_records_it_once(ledger: CaseLedger) -> None:
    assert record_file(ledger, EXAMPLE).recorded == 11
    again = record_file(ledger, EXAMPLE)
    assert (again.recorded, again.already_recorded) == (0, 11)


def test_exported_events_parse_back_as_the_same_commands(ledger: CaseLedger) -> None:
    record_file(ledger, EXAMPLE)
    events = ledger.history("QZ-2026-000102")
    exported = dump_events(events).decode().splitlines()
    for line, event in zip(exported, events, strict=True):
        data = json.loads(line)
        assert {"version", "recorded_at", "prev_hash", "hash"} <= set(data)
        for key in ("version", "recorded_at", "prev_hash", "hash", "class_version"):
            data.pop(key, None)  # an acceptance's class_version (2) too
        parsed = next(iter(parse_lines([json.dumps(data)])))
        assert not isinstance(parsed, Exception)
        assert parsed.command == event.command()  # type: ignore[union-attr]


def test_a_line_that_is_not_utf8_is_refused_by_its_number(
    ledger: CaseLedger, tmp_path: Path
) -> None:
    good = EXAMPLE.read_text(encoding="utf-8").splitlines()[2].encode()
    path = tmp_path / "latin.jsonl"
    path.write_bytes(good + b"\n" + good.replace(b"APP-0101", b"APP-\xff\xfe") + b"\n")
    with pytest.raises(BatchRejected) as caught:
        record_file(ledger, path)
    assert [(e.position, "not UTF-8" in e.message) for e in caught.value.errors] == [(2, True)]
    assert snapshot(ledger) == []


def test_anyone_can_recompute_every_hash_from_an_export(ledger: CaseLedger) -> None:
    from caseledger.domain.chain import event_hash

    record_file(ledger, EXAMPLE)
    for line in dump_events(ledger.history("QZ-2026-000101")).decode().splitlines():
        data = json.loads(line)
        body = data.pop("event")
        topic = body.pop("type")
        state = {k: data[k] for k in ("command_id", "at", "actor", "recorded_at", "prev_hash")}
        state["event"] = body
        if "class_version" in data:  # above 1 (an acceptance): stored, and so hashed
            state["class_version"] = data["class_version"]
        assert event_hash(data["case_no"], data["version"], topic, state) == data["hash"]


def test_a_mapping_may_hold_models_already_built_and_other_mappings(ledger: CaseLedger) -> None:
    from types import MappingProxyType

    from caseledger import Actor, Received

    actor = Actor(person="A1", role="window_a", department="D1")
    event = Received(channel="window", applicant="APP")  # type: ignore[call-arg]
    line = MappingProxyType(
        {"case_no": "M-1", "command_id": "M-1-1", "at": "2026-03-02T09:00:00+08:00",
         "actor": actor, "event": MappingProxyType(event.model_dump())}
    )  # fmt: skip
    assert ledger.record(line).version == 1
    assert ledger.record({**line, "event": event}).already_recorded
