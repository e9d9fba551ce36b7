"""The fast paths of a bulk import give what the full paths give: a line parsed and
validated in one step from its bytes (``fast_command``) gives the command, or the errors,
of the full checks (``parse_lines(fast=False)``); an event's stored state made from its
models (``json_form``), hashed and stored from one encoding, is byte for byte the canonical
JSON of the state pydantic's serializer gives, its hash the chain's definition."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger import CaseLedger, Command
from caseledger.domain.case import Case
from caseledger.domain.events import STORED_EVENT_TYPES
from caseledger.domain.records import RecordedEvent, json_form
from caseledger.errors import BatchItemError, BatchRejected
from caseledger.interchange.jsonl import dump_commands, parse_lines
from caseledger.testing.strategies import case_histories
from tests.conftest import fixed_clock
from tests.helpers import as_cases, examples, snapshot

HISTORIES = st.lists(case_histories(max_events=10), min_size=1, max_size=3).map(as_cases)
PROJECT_LINE = orjson.dumps(
    {
        "project_no": "PRJ-1",
        "command_id": "PRJ-1-1",
        "at": "2026-10-12T09:00:00+08:00",
        "actor": {"person": "L1", "role": "window_a", "department": "D1"},
        "event": {
            "type": "project_registered", "title": "T", "kind": "general",
            "lead": {"kind": "department", "code": "D1"}, "rule_pack": "national",
            "stages": [{"name": "S1", "lead": {"kind": "department", "code": "D2"}}],
        },
    }
)  # fmt: skip
KEYS = (b"case_no", b"command_id", b"at", b"actor", b"event", b"type", b"person", b"role",
        b"applicant", b"channel", b"reason", b"code", b"name", b"project_no")  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, line: bytes) -> bytes:
    """``line``, or ``line`` changed the ways the fast path must not be fooled by: a key
    repeated, spaces before a colon, a string holding ``":``, a number that is not finite,
    an export field, a value of the wrong kind, a byte changed or cut."""
    kind = draw(st.sampled_from(["same", "repeat", "spaces", "quote", "nan", "export",
                                 "value", "byte", "cut"]))  # fmt: skip
    present = [k for k in KEYS if b'"' + k + b'":' in line] or [b"at"]
    key = b'"' + draw(st.sampled_from(present)) + b'":'
    if kind == "repeat":
        value = draw(st.sampled_from([b'"x"', b"1", b"null", b"{}", b'"APP"']))
        return line.replace(key, key + value + b"," + key, 1)
    if kind == "spaces":
        return line.replace(key, key[:-1] + draw(st.sampled_from([b" :", b"\t:", b" : "])))
    if kind == "quote":
        return line.replace(key + b'"', key + b'"\\":', 1)
    if kind == "nan":
        return line.replace(key, key + draw(st.sampled_from([b"NaN", b"Infinity"])) + b",", 1)
    if kind == "export":
        field = draw(st.sampled_from([b'"version":1', b'"hash":"00"', b'"recorded_at":"x"']))
        return line[:-1] + b"," + field + b"}"
    if kind == "value":
        value = draw(st.sampled_from([b"1", b"1.0", b'"1"', b"true", b"[]", b"1e400",
                                      b"123456789012345678901234567890"]))  # fmt: skip
        start = line.index(key) + len(key)
        end = start + 1
        while end < len(line) and line[end : end + 1] not in (b",", b"}"):
            end += 1
        return line[:start] + value + line[end:]
    if kind in ("byte", "cut"):
        at = draw(st.integers(0, len(line) - 1))
        if kind == "cut":
            return line[:at]
        return line[:at] + bytes([draw(st.integers(0, 255))]) + line[at + 1 :]
    return line


def _lines(commands: list[Command]) -> list[bytes]:
    return [*dump_commands(commands).splitlines(), PROJECT_LINE]


@settings(max_examples=examples(60), suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), HISTORIES)
def test_a_line_read_the_fast_way_gives_the_command_or_the_errors_of_the_full_checks(
    data: st.DataObject, commands: list[Command]
) -> None:
    for line in _lines(commands):
        text = data.draw(mutated(line))
        fast = list(parse_lines([text]))
        full = list(parse_lines([text], fast=False))
        assert fast == full, text


def _reference_row(event: RecordedEvent) -> tuple[str, int, str, bytes]:
    """The row of ``event`` as its definition gives it (caseledger.domain.chain): the state
    from pydantic's serializer, hashed as ``{case_no, version, topic, state}`` canonically."""
    state: dict[str, Any] = {
        "command_id": event.command_id,
        "at": event.at.isoformat(),
        "actor": event.actor.model_dump(mode="json"),
        "recorded_at": event.recorded_at.isoformat(),
        "prev_hash": event.prev_hash,
        "event": event.event.model_dump(mode="json", exclude={"type"}),
    }
    if STORED_EVENT_TYPES[event.type].class_version > 1:
        state["class_version"] = STORED_EVENT_TYPES[event.type].class_version
    payload = {"case_no": event.case_no, "version": event.version, "topic": event.type,
               "state": state}  # fmt: skip
    digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert digest == event.hash
    stored = orjson.dumps({**state, "hash": digest}, option=orjson.OPT_SORT_KEYS)
    return event.case_no, event.version, event.type, stored


def _import(lines: list[bytes], *, fast: bool) -> tuple[list[Any], list[BatchItemError]]:
    parsed = [item for item in parse_lines(lines, fast=fast)]
    errors = [item for item in parsed if isinstance(item, BatchItemError)]
    commands = [item.command for item in parsed if not isinstance(item, BatchItemError)]
    with CaseLedger("sqlite:///:memory:", clock=fixed_clock) as ledger:
        try:
            ledger.record_batch(commands)
        except BatchRejected as rejected:
            errors += rejected.errors
        return snapshot(ledger), errors


@settings(
    max_examples=examples(30),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(HISTORIES, st.integers(0, 2))
def test_an_import_read_the_fast_way_stores_the_rows_and_errors_of_the_full_checks(
    commands: list[Command], drop: int
) -> None:
    lines = _lines(commands)
    lines = lines[:drop] + lines[drop + 1 :] if drop < len(lines) - 1 else lines  # a gap
    fast_rows, fast_errors = _import(lines, fast=True)
    full_rows, full_errors = _import(lines, fast=False)
    assert (fast_rows, fast_errors) == (full_rows, full_errors)
    with CaseLedger("sqlite:///:memory:", clock=fixed_clock) as ledger:
        if not fast_errors:
            ledger.record_batch(
                item.command for item in parse_lines(lines) if not isinstance(item, BatchItemError)
            )
            streams = sorted({row[0] for row in fast_rows if not row[0].startswith("@")})
            events = [e for s in streams for e in ledger.store.load_stream(s).events]
            expected = {(e.case_no, e.version): _reference_row(e) for e in events}
            stored = {(r[0], r[1]): r for r in fast_rows if (r[0], r[1]) in expected}
            assert stored == expected


@settings(max_examples=examples(60))
@given(HISTORIES)
def test_an_events_json_form_is_what_pydantics_serializer_gives(commands: list[Command]) -> None:
    for command in commands:
        assert json_form(command.actor) == command.actor.model_dump(mode="json")
        body = command.event
        assert json_form(body, exclude="type") == body.model_dump(mode="json", exclude={"type"})
        assert list(json_form(body)) == list(body.model_dump(mode="json"))  # the same order
    when = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    recorded = RecordedEvent.chain(commands[0], version=1, prev_hash="0" * 64, recorded_at=when)
    assert json_form(recorded.event) == recorded.event.model_dump(mode="json")


def test_a_lean_stream_keeps_no_event_of_the_batch_yet_hands_each_over() -> None:
    received, *rest = _received_and_more()
    when = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    case = Case.start(received, recorded_at=when)
    case.lean()
    for command in rest:
        case.record(command, recorded_at=when)
    assert case.events == [] and case.prior(received) is None  # none kept
    rows = case.collect_rows()
    assert [row[1] for row in rows] == list(range(1, len(rest) + 2))  # every one handed over
    assert case.version == len(rest) + 1 and case.last_hash == orjson.loads(rows[-1][3])["hash"]


def _received_and_more() -> list[Command]:
    actor = {"person": "A1", "role": "window_a", "department": "D1", "window": "W1"}
    bodies: list[dict[str, Any]] = [
        {"type": "received", "channel": "window", "applicant": "APP"},
        {"type": "accepted", "item_code": "I-1", "case_kind": "promised", "rule_pack": "national"},
        {"type": "clock_suspended", "reason": "hearing"},
        {"type": "clock_resumed"},
    ]
    lines = [
        {"case_no": "L-1", "command_id": f"L-1-{n}", "at": f"2026-10-12T09:0{n}:00+08:00",
         "actor": actor, "event": body}
        for n, body in enumerate(bodies, start=1)
    ]  # fmt: skip
    return [Command.model_validate(line) for line in lines]
