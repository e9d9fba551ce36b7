"""Case histories as JSON Lines: one event a line, in the order it happened.

Each line is a JSON object of the form of :class:`~caseledger.domain.records.Command`::

    {"case_no": "QZ-2026-000001", "command_id": "QZ-2026-000001-1",
     "at": "2026-10-09T09:00:00+08:00",
     "actor": {"person": "A001", "role": "window_a", "department": "市市场监管局", "window": "W12"},
     "event": {"type": "received", "channel": "window", "applicant": "APP-0001"}}

A line with ``project_no`` instead of ``case_no`` is an event of a parallel-approval
project (:class:`~caseledger.domain.records.ProjectCommand`). Blank lines and lines
starting with ``#`` are skipped. Export (``show --json``) writes
recorded events: the same fields plus ``version``, ``recorded_at``, ``prev_hash`` and
``hash``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson
from pydantic import ValidationError

from caseledger.domain.records import Command, ProjectCommand, RecordedEvent, parse_command
from caseledger.errors import BatchItemError, BatchRejected
from caseledger.ledger import problems_of

__all__ = ["ParsedLine", "dump_events", "parse_lines", "read_commands"]


@dataclass(frozen=True)
class ParsedLine:
    """A command read from a line, with its line number."""

    line_no: int
    command: Command | ProjectCommand


def parse_lines(lines: Iterable[str | bytes]) -> Iterator[ParsedLine | BatchItemError]:
    """Each line's command, or its errors (one per bad field), in order."""
    for line_no, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as error:
            yield BatchItemError(line_no, "", f"not UTF-8 ({error.reason} at byte {error.start})")
            continue
        text = text.strip()
        if not text or text.startswith("#"):
            continue
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            yield BatchItemError(line_no, "", f"not valid JSON: {error}")
            continue
        if not isinstance(data, dict):
            yield BatchItemError(line_no, "", "a line must be a JSON object")
            continue
        try:
            yield ParsedLine(line_no, parse_command(data))
        except ValidationError as error:
            for path, message in problems_of(error):
                yield BatchItemError(line_no, path, message)


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


def dump_events(events: Iterable[RecordedEvent]) -> bytes:
    """Recorded events as JSON Lines, times with the offsets exactly as stored (so anyone can
    recompute each hash from the export)."""
    lines = []
    for event in events:
        data = event.model_dump(mode="json")
        data["at"], data["recorded_at"] = event.at.isoformat(), event.recorded_at.isoformat()
        lines.append(orjson.dumps(data, option=orjson.OPT_SORT_KEYS) + b"\n")
    return b"".join(lines)
