"""Case histories as JSON Lines: one event a line, in the order it happened.

Each line is a JSON object of the form of :class:`~caseledger.domain.records.Command`::

    {"case_no": "QZ-2026-000001", "command_id": "QZ-2026-000001-1",
     "at": "2026-10-09T09:00:00+08:00",
     "actor": {"person": "A001", "role": "window_a", "department": "市市场监管局", "window": "W12"},
     "event": {"type": "received", "channel": "window", "applicant": "APP-0001"}}

A line with ``project_no`` instead of ``case_no`` is an event of a parallel-approval
project (:class:`~caseledger.domain.records.ProjectCommand`). Blank lines and lines
starting with ``#`` are skipped. A key may appear only once in an object (JSON would let
the last one silently win): a line repeating one is refused, naming the key.

Export (``show --json``) writes recorded events: the same fields plus ``version``,
``recorded_at``, ``prev_hash`` and ``hash``. Such a line is read back as the command that
recorded it: its four recorded fields must be well formed, and are then left to the ledger
it is recorded into, which gives the event its own place, time of recording and hash. So an
export recorded into a fresh ledger gives the same case (the same commands, business times,
actors and events), and into the ledger it came from records nothing (already recorded).
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, Field, ValidationError

from caseledger.domain.events import EVENT_TYPES, PROJECT_EVENT_TYPES
from caseledger.domain.limits import COMMAND_LIMITS, check_model_lists
from caseledger.domain.records import (
    Command,
    Moment,
    ProjectCommand,
    RecordedEvent,
    parse_command,
    problems_of,
)
from caseledger.domain.values import Frozen
from caseledger.errors import BatchItemError, BatchRejected, InputLimitExceeded, InvalidCommand

__all__ = [
    "EXPORT_FIELDS",
    "DuplicateKey",
    "ExportFields",
    "ParsedLine",
    "dump_commands",
    "dump_events",
    "fast_command",
    "loads_unique",
    "parse_lines",
    "read_commands",
]


class ExportFields(Frozen):
    """The fields an export adds to a command line: where the event stood in the ledger it
    was exported from. Checked for form when read back, then left to the ledger."""

    version: int = Field(ge=1, description="Export only: the event's place in its case.")
    recorded_at: Moment = Field(description="Export only: when the ledger recorded it.")
    prev_hash: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="Export only: the previous event's hash."
    )
    hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="Export only: the event's hash.")
    class_version: int | None = Field(
        default=None,
        ge=2,
        description="Export only: the event's class version when above 1 (the hash covers it).",
    )


EXPORT_FIELDS = tuple(ExportFields.model_fields)
EXPORT_FIELDS_SET = frozenset(EXPORT_FIELDS)


class DuplicateKey(ValueError):
    """A JSON object names a key twice; ``path`` is where (``event.channel``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"duplicate key {path.rsplit('.', 1)[-1]!r}: each key may appear once in an "
            "object (JSON would silently keep the last); remove one"
        )


_KEY_END = re.compile(rb'"\s*:')
_SPACED_KEY_END = re.compile(rb'"\s+:')


def _key_count(value: dict[str, Any] | list[Any], depth: int = 0) -> int:
    """How many keys the objects in ``value`` hold, nested ones included: by recursion
    while shallow (a command is), deeper with a stack of its own (no depth reaches Python's
    recursion limit)."""
    if depth > 32:
        return _deep_key_count(value)
    count = len(value) if type(value) is dict else 0
    for item in value.values() if type(value) is dict else value:
        if type(item) is dict or type(item) is list:
            count += _key_count(item, depth + 1)
    return count


def _deep_key_count(value: dict[str, Any] | list[Any]) -> int:
    count = 0
    stack: list[Any] = [value]
    while stack:
        top = stack.pop()
        items: Iterable[Any]
        if type(top) is dict:
            count += len(top)
            items = top.values()
        else:
            items = top
        stack.extend(item for item in items if type(item) is dict or type(item) is list)
    return count


class _Pairs(list[tuple[str, Any]]):
    pass


def _first_duplicate(value: Any, path: str = "") -> str | None:
    if isinstance(value, _Pairs):
        seen: set[str] = set()
        for key, item in value:
            where = f"{path}.{key}" if path else key
            if key in seen:
                return where
            seen.add(key)
            found = _first_duplicate(item, where)
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _first_duplicate(item, path)
            if found:
                return found
    return None


def loads_unique(text: bytes) -> Any:
    """``orjson.loads(text)``, refusing an object that repeats a key (:class:`DuplicateKey`).

    Fast: every key of a JSON text ends in a ``"`` followed by ``:``, so when the parsed
    objects hold as many keys as the text has such marks, none was repeated; only when a
    string value itself holds ``":`` (or a key repeats) is the text parsed again, slowly,
    to find the repeated key."""
    data = orjson.loads(text)
    if type(data) is not dict and type(data) is not list:
        return data
    if _key_count(data) == len(_KEY_END.findall(text)):
        return data
    try:
        found = _first_duplicate(json.loads(text, object_pairs_hook=_Pairs))
    except (ValueError, RecursionError):  # what orjson read, json should too; if not (or
        return data  # too deep for it), orjson's reading stands: the bounds refuse the depth
    if found is not None:
        raise DuplicateKey(found)
    return data


@dataclass(frozen=True)
class ParsedLine:
    """A command read from a line, with its line number."""

    line_no: int
    command: Command | ProjectCommand


def parse_lines(
    lines: Iterable[str | bytes], *, fast: bool = True
) -> Iterator[ParsedLine | BatchItemError]:
    """Each line's command, or its errors (one per bad field), in order.

    A line is first tried the fast way (:func:`fast_command`: parsed and validated in one
    step); only a line that fails it is read again with the full checks, which say what is
    wrong. ``fast=False`` gives every line the full checks: the same commands, the same
    errors, slower (the tests compare the two)."""
    for line_no, raw in enumerate(lines, start=1):
        try:
            text = raw if isinstance(raw, bytes) else raw.encode("utf-8")
            text.decode("utf-8")
        except UnicodeDecodeError as error:
            yield BatchItemError(line_no, "", f"not UTF-8 ({error.reason} at byte {error.start})")
            continue
        except UnicodeEncodeError as error:
            yield BatchItemError(line_no, "", f"not UTF-8 ({error.reason} at {error.start})")
            continue
        text = text.strip()
        if not text or text.startswith(b"#"):
            continue
        if len(text) > COMMAND_LIMITS.max_bytes:
            yield _limit_error(
                line_no, InputLimitExceeded("max_bytes", COMMAND_LIMITS.max_bytes, "", len(text))
            )
            continue
        command = fast_command(text) if fast else None
        if command is not None:
            yield ParsedLine(line_no, command)
            continue
        yield from _checked_line(line_no, text)


def fast_command(text: bytes) -> Command | ProjectCommand | None:
    """The command of the JSON text ``text`` (one stripped line within ``max_bytes``)
    parsed and validated in one step, straight from its bytes, when it passes every check;
    None for anything else, which the full checks then read again to say what is wrong.

    What the full checks add, and why this needs none of it for a command that validates:
    a repeated key is found by counting, as :func:`loads_unique` does (the validated models
    hold as many keys as the text has ``"...":`` marks only if none was repeated, pydantic
    keeping the last); ``NaN`` and infinities never validate (no field of a command is a
    float); a validated command is as deep as its models and its strings as long; only its
    lists are counted here."""
    kind: type[Command | ProjectCommand] = ProjectCommand if b'"project_no"' in text else Command
    try:  # model_validate_json, without its frame
        command: Command | ProjectCommand = kind.__pydantic_validator__.validate_json(
            text, strict=True
        )
    except ValidationError:
        return None
    marks = text.count(b'":')  # what _KEY_END finds, when no key has a space before ':'
    if _SPACED_KEY_END.search(text) is not None:
        marks = len(_KEY_END.findall(text))
    if _command_keys(command) != marks:
        return None  # a repeated key, or a string holding '":' (the full checks tell which)
    try:
        check_model_lists(command.event, "event")
    except InputLimitExceeded:
        return None
    return command


def _command_keys(command: Command | ProjectCommand) -> int:
    """How many keys the JSON of a validated command held (:func:`_keys_given`), quickly
    for the many events that hold no model: every field of a command is required, an
    actor holds no model."""
    event = command.event
    if type(event) in _FLAT_EVENTS:
        return (
            len(command.__pydantic_fields_set__)
            + len(command.actor.__pydantic_fields_set__)
            + len(event.__pydantic_fields_set__)
        )
    return _keys_given(command)


def _keys_given(model: BaseModel) -> int:
    """How many keys the JSON of a validated ``model`` held: the fields given (explicitly,
    defaults not counted) of it and of the models in it; -1 (matching no text) for a
    mapping field, whose keys are not counted here."""
    count = len(model.__pydantic_fields_set__)
    for value in model.__dict__.values():
        if isinstance(value, BaseModel):
            inner = _keys_given(value)
        elif type(value) is tuple:
            inner = sum(_keys_given(v) if isinstance(v, BaseModel) else 0 for v in value)
        elif type(value) is dict:
            return -1
        else:
            continue
        if inner < 0:
            return -1
        count += inner
    return count


def _holds_models(annotation: Any) -> bool:
    """Whether a field's annotation can hold a model or a mapping (else only plain values:
    strings, numbers, dates, enumerations, and tuples of them)."""
    if isinstance(annotation, type):
        return issubclass(annotation, BaseModel | dict)
    return any(_holds_models(a) for a in typing.get_args(annotation)) or typing.get_origin(
        annotation
    ) in (dict, Mapping)


_FLAT_EVENTS = frozenset(
    body
    for body in (*EVENT_TYPES.values(), *PROJECT_EVENT_TYPES.values())
    if not any(_holds_models(f.annotation) for f in body.model_fields.values())
)
"""The event types none of whose fields holds a model: the keys of one are its fields given."""


def _checked_line(line_no: int, text: bytes) -> Iterator[ParsedLine | BatchItemError]:
    """The full checks of one line (stripped, within ``max_bytes``): its command, or each of
    its errors."""
    try:
        data = loads_unique(text)
    except orjson.JSONDecodeError as error:
        yield BatchItemError(line_no, "", f"not valid JSON: {error}")
        return
    except DuplicateKey as error:
        yield BatchItemError(line_no, error.path, str(error))
        return
    if not isinstance(data, dict):
        yield BatchItemError(line_no, "", "a line must be a JSON object")
        return
    problems: list[tuple[str, str]] = []
    if not EXPORT_FIELDS_SET.isdisjoint(data):
        exported = {k: data.pop(k) for k in EXPORT_FIELDS if k in data}
        try:
            ExportFields.model_validate_json(orjson.dumps(exported), strict=True)
        except ValidationError as error:
            problems = problems_of(error)
    try:
        command = parse_command(data, from_json=True)
    except ValidationError as error:
        problems += problems_of(error)
    except InvalidCommand as error:  # past a bound, or a number that is not finite
        problems += error.problems
    if problems:
        for path, message in problems:
            yield BatchItemError(line_no, path, message)
        return
    yield ParsedLine(line_no, command)


def _limit_error(line_no: int, error: InputLimitExceeded) -> BatchItemError:
    ((path, message),) = error.problems
    return BatchItemError(line_no, path, message)


def read_commands(lines: Iterable[str | bytes], *, source: str) -> list[ParsedLine]:
    """Every command of a file, or :class:`BatchRejected` listing every bad line."""
    parsed: list[ParsedLine] = []
    errors: list[BatchItemError] = []
    for item in parse_lines(lines):
        if isinstance(item, BatchItemError):
            errors.append(item)
        else:
            parsed.append(item)
    if errors:
        raise BatchRejected(errors, source=source)
    return parsed


def dump_commands(commands: Iterable[Command | ProjectCommand]) -> bytes:
    """Commands as JSON Lines, the interchange format that ``record`` reads (times with
    their offsets as given)."""
    lines = []
    for command in commands:
        data = command.model_dump(mode="json")
        data["at"] = command.at.isoformat()
        lines.append(orjson.dumps(data) + b"\n")
    return b"".join(lines)


def dump_events(events: Iterable[RecordedEvent]) -> bytes:
    """Recorded events as JSON Lines, times with the offsets exactly as stored (so anyone can
    recompute each hash from the export)."""
    lines = []
    for event in events:
        data = event.model_dump(mode="json")
        data["at"], data["recorded_at"] = event.at.isoformat(), event.recorded_at.isoformat()
        class_version = event.stored_state(include_hash=False).get("class_version")
        if class_version is not None:
            data["class_version"] = class_version
        lines.append(orjson.dumps(data, option=orjson.OPT_SORT_KEYS) + b"\n")
    return b"".join(lines)
