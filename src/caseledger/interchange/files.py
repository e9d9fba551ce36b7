"""Recording a JSON Lines file into a ledger: every line checked and written as it comes, in
one transaction committed at the end of the file (or rolled back)."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from pathlib import Path

from caseledger.domain.records import Command, ProjectCommand
from caseledger.errors import BatchItemError, BatchRejected
from caseledger.interchange.jsonl import parse_lines
from caseledger.ledger import BatchResult, CaseLedger

__all__ = ["record_file"]

_BLOCK = 1 << 20


def record_file(
    ledger: CaseLedger,
    path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Record every event of ``path`` atomically, or raise :class:`BatchRejected` naming each
    bad line and field, recording nothing. ``progress(done, total)`` follows the checks
    (``total`` counts the file's lines).

    The file is read as a stream, line after line, never held whole: each line is parsed and
    handed to :meth:`CaseLedger.record_batch` as it comes, which writes it in the batch's
    transaction. A line that is not a well-formed command is set aside; at the end of the
    file, if any was, the batch is abandoned (its transaction rolled back: nothing is
    recorded) and every such line is listed."""
    source = str(path)
    try:
        total = _line_count(path)
        stream = path.open("rb")
    except OSError as error:
        raise BatchRejected(
            [BatchItemError(0, "", f"cannot read: {error.strerror}")], source=source
        ) from error
    line_of = array("q")
    malformed: list[BatchItemError] = []
    abandoned: list[BatchRejected] = []

    def commands() -> Iterator[Command | ProjectCommand]:
        for item in parse_lines(stream):
            if isinstance(item, BatchItemError):
                malformed.append(item)
            else:
                line_of.append(item.line_no)
                yield item.command
        if malformed:
            abandoned.append(BatchRejected(malformed, source=source))
            raise abandoned[0]

    def step(done: int) -> None:
        if progress is not None:
            progress(done, total)

    with stream:
        try:
            return ledger.record_batch(commands(), source=source, progress=step)
        except BatchRejected as rejected:
            if abandoned and rejected is abandoned[0]:
                raise
            by_line = [
                BatchItemError(line_of[e.position - 1], e.field, e.message) for e in rejected.errors
            ]
            raise BatchRejected(by_line, source=source) from None


def _line_count(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(block.count(b"\n") for block in iter(lambda: stream.read(_BLOCK), b""))
